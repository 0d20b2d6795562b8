package video

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/internal/rtsptest"
)

// TestRTSPSourceConnectCloseDoesNotLeak opens and closes a camera 100 times.
// Each cycle creates a gortsplib client with its goroutines, a libavcodec
// decoder and pooled 768x576 BGR Mats (1.3 MB each); a cycle that leaked any
// of them would leave goroutines behind or grow RSS by well over 1.3 MB, so
// 90 cycles would add more than 100 MB. The 40 MB bound leaves room for
// allocator and GC noise while catching a leak of one Mat per cycle.
func TestRTSPSourceConnectCloseDoesNotLeak(t *testing.T) {
	const cycles, warmup = 100, 10
	const maxGrowth = 40 << 20
	// 25 fps with a key frame every 5 pictures: each cycle waits at most
	// 0.2 s for a random-access picture, keeping the test short.
	cam := startCamera(t, rtsptest.Options{}, makeMedia(t, "h264", 25, 5))
	spec := Spec{Camera: "door", URL: cam.url(""), Transport: "tcp"}

	baseline := runtime.NumGoroutine()
	var rss0 int64
	for i := 0; i < cycles; i++ {
		src, err := OpenRTSP(context.Background(), spec)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for j := 0; j < 2; j++ {
			f, err := src.Next(ctx)
			if err != nil {
				t.Fatalf("cycle %d frame %d: %v", i, j, err)
			}
			f.Release()
		}
		cancel()
		src.Close()
		if i == warmup-1 {
			rss0 = rss(t)
		}
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
	growth := rss(t) - rss0
	t.Logf("RSS growth over %d cycles: %.1f MB; goroutines %d (baseline %d)", cycles-warmup, float64(growth)/(1<<20), runtime.NumGoroutine(), baseline)
	if growth > maxGrowth {
		t.Fatalf("RSS grew %.1f MB over %d cycles, bound %d MB", float64(growth)/(1<<20), cycles-warmup, maxGrowth>>20)
	}
}

// rss is the process's resident memory after returning freed Go memory to
// the OS, so it measures C allocations and live Go memory.
func rss(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}
