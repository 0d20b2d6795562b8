package avcodec

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// rssBytes reads the process's resident set size from /proc.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("read statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("parse statm %q: %v", b, err)
	}
	return pages * int64(os.Getpagesize())
}

// TestNoLeakAcrossDecoders opens, uses and closes many decoders. Each one
// holds a codec context, frame pools (several 768x576 pictures), an sws
// context and an input buffer in C memory, so leaking any of them grows the
// resident set by megabytes per cycle, far beyond the allowance.
func TestNoLeakAcrossDecoders(t *testing.T) {
	aus := map[Codec][]accessUnit{}
	for _, c := range []Codec{H264, H265} {
		aus[c] = splitAccessUnits(t, c, encodeStream(t, streamSpec{codec: c, frames: 5}))
	}
	cycle := func() {
		for _, c := range []Codec{H264, H265} {
			d, err := NewDecoder(c, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			dst := gocv.NewMat()
			for _, au := range aus[c] {
				if _, err := d.Decode(au.nalus, &dst); err != nil {
					t.Fatal(err)
				}
			}
			for {
				if ok, err := d.Drain(&dst); err != nil {
					t.Fatal(err)
				} else if !ok {
					break
				}
			}
			dst.Close()
			d.Close()
		}
	}
	for range 5 { // let allocator pools and thread stacks settle
		cycle()
	}
	runtime.GC()
	before := rssBytes(t)
	const cycles = 40
	for range cycles {
		cycle()
	}
	runtime.GC()
	grown := rssBytes(t) - before
	t.Logf("RSS grew %d KiB over %d cycles", grown>>10, cycles)
	if grown > 24<<20 {
		t.Fatalf("RSS grew %d MiB over %d decoder lifecycles: C memory leaks", grown>>20, cycles)
	}
}
