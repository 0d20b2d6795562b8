package pipeline

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/storesight/storesight/video"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func readFrames(t *testing.T, n int) []video.Frame {
	t.Helper()
	src, err := video.OpenFile(video.Spec{Camera: "c", URL: vtest})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	var out []video.Frame
	for i := 0; i < n; i++ {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestQueueDropsOldestWhenFull(t *testing.T) {
	var dropped atomic.Int64
	q := newFrameQueue(3, true, &dropped)
	for _, f := range readFrames(t, 8) {
		if !q.push(context.Background(), f) {
			t.Fatal("push refused")
		}
	}
	q.close()
	var seqs []int64
	for f := range q.ch {
		seqs = append(seqs, f.Seq)
		f.Release()
	}
	if dropped.Load() != 5 || len(seqs) != 3 || seqs[0] != 5 || seqs[2] != 7 {
		t.Fatalf("kept %v, dropped %d; want the newest 3 (5,6,7) and 5 dropped", seqs, dropped.Load())
	}
}

func TestQueueWaitsWhenOfflineAndStopsOnCancel(t *testing.T) {
	var dropped atomic.Int64
	q := newFrameQueue(2, false, &dropped)
	frames := readFrames(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	q.push(ctx, frames[0])
	q.push(ctx, frames[1])
	done := make(chan bool)
	go func() { done <- q.push(ctx, frames[2]) }()
	select {
	case <-done:
		t.Fatal("push into a full offline queue returned without waiting")
	default:
	}
	cancel()
	if <-done {
		t.Fatal("push succeeded after cancel")
	}
	if dropped.Load() != 0 {
		t.Fatalf("offline queue dropped %d frames", dropped.Load())
	}
	q.close()
	if n := q.drain(); n != 2 {
		t.Fatalf("drained %d, want 2", n)
	}
}
