package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func vtestFrame(t *testing.T) gocv.Mat {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(vtestPath)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	if !vc.Read(&m) || m.Empty() {
		t.Fatal("cannot read a frame of vtest.avi")
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A camera with many frames waiting must not delay a camera that asks
// once: with one session, the quiet camera is served right after the run in
// progress, not after the greedy camera's backlog (FIFO would serve it
// last).
func TestDetectorPoolRoundRobin(t *testing.T) {
	p := newPool(t)
	img := vtestFrame(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()

	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	detect := func(cam string) {
		defer wg.Done()
		dets, err := p.Detect(ctx, cam, img)
		if err != nil {
			t.Error(err)
			return
		}
		if len(dets) == 0 {
			t.Errorf("%s: no detections on a vtest frame", cam)
		}
		mu.Lock()
		order = append(order, cam)
		mu.Unlock()
	}
	const backlog = 6
	for i := 0; i < backlog; i++ {
		wg.Add(1)
		go detect("greedy")
	}
	// Wait until the greedy backlog is queued behind the run in progress.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		n := len(p.queues["greedy"])
		p.mu.Unlock()
		if n >= backlog-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("greedy backlog never queued (%d)", n)
		}
		time.Sleep(time.Millisecond)
	}
	wg.Add(1)
	go detect("quiet")
	wg.Wait()
	pos := -1
	for i, c := range order {
		if c == "quiet" {
			pos = i
		}
	}
	// The run in progress and at most one more greedy frame (queued at the
	// moment the quiet request arrived at the head) go first.
	if pos < 0 || pos > 2 {
		t.Fatalf("quiet camera served at position %d of %v; want within the first 3", pos, order)
	}
	st := p.Stats()
	if st.Frames != backlog+1 || st.Runs != backlog+1 || st.Busy <= 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Cancelling a waiting caller takes its frame out of the queue; the pool
// must not read the image afterwards (the caller frees it).
func TestDetectorPoolCancelPending(t *testing.T) {
	p := newPool(t)
	img := vtestFrame(t)
	// The pool is not running: requests stay pending.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Detect(ctx, "cam", img)
		errc <- err
	}()
	for {
		p.mu.Lock()
		n := len(p.queues["cam"])
		p.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queues) != 0 || len(p.ring) != 0 {
		t.Fatalf("request left behind: queues %v ring %v", p.queues, p.ring)
	}
}
