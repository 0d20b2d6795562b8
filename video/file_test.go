package video

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func TestFileSourceReadsEveryFrameWithStreamTime(t *testing.T) {
	epoch := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	src, err := Open(context.Background(), Spec{Camera: "cam", URL: "file://" + vtest, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	info := src.Info()
	if info.Width != 768 || info.Height != 576 || info.FPS != 10 {
		t.Fatalf("info = %+v, want 768x576 at 10 fps", info)
	}
	var n int64
	for {
		f, err := src.Next(context.Background())
		if errors.Is(err, ErrEndOfStream) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq != n {
			t.Fatalf("seq = %d, want %d", f.Seq, n)
		}
		if want := time.Duration(n) * 100 * time.Millisecond; f.StreamTime != want {
			t.Fatalf("frame %d: stream time %v, want %v", n, f.StreamTime, want)
		}
		if !f.Time.Equal(epoch.Add(f.StreamTime)) {
			t.Fatalf("frame %d: time %v", n, f.Time)
		}
		if f.Img.Cols() != 768 || f.Img.Rows() != 576 || f.Img.Channels() != 3 {
			t.Fatalf("frame %d: %dx%dx%d", n, f.Img.Cols(), f.Img.Rows(), f.Img.Channels())
		}
		f.Release()
		n++
	}
	if n != 795 {
		t.Fatalf("decoded %d frames, want 795", n)
	}
}

func TestFileSourceLoopKeepsTimeMonotonic(t *testing.T) {
	src, err := OpenFile(Spec{Camera: "cam", URL: vtest, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var last time.Duration = -1
	for i := 0; i < 800; i++ {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.StreamTime <= last {
			t.Fatalf("frame %d: stream time %v after %v", i, f.StreamTime, last)
		}
		last = f.StreamTime
		f.Release()
	}
}

func TestFileSourceRealtimePacingStopsOnCancel(t *testing.T) {
	src, err := OpenFile(Spec{Camera: "cam", URL: vtest, Realtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	f, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.avi")
	if err := os.WriteFile(junk, []byte("this is not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		filepath.Join(dir, "missing.avi"): "no such file",
		junk:                              "not a video file",
		dir:                               "is a directory",
		"http://example.com/x.mp4":        "unsupported source scheme",
	}
	for url, want := range cases {
		_, err := Open(context.Background(), Spec{Camera: "c1", URL: url})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "camera c1") {
			t.Errorf("Open(%q) = %v, want error containing %q", url, err, want)
		}
	}
}
