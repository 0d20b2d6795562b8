package motion

import (
	"image"
	"image/color"
	"os"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// frameStep is vtest.avi's frame interval (10 fps).
const frameStep = 100 * time.Millisecond

// vtestFrames returns n consecutive BGR frames of vtest.avi from frame
// first; the test fails if the video is missing (CI installs it).
func vtestFrames(t testing.TB, first, n int) []gocv.Mat {
	t.Helper()
	if _, err := os.Stat(vtestPath); err != nil {
		t.Fatalf("sample video missing (install opencv-doc): %v", err)
	}
	vc, err := gocv.VideoCaptureFile(vtestPath)
	if err != nil {
		t.Fatalf("open %s: %v", vtestPath, err)
	}
	defer vc.Close()
	vc.Set(gocv.VideoCapturePosFrames, float64(first))
	out := make([]gocv.Mat, 0, n)
	for len(out) < n {
		m := gocv.NewMat()
		if !vc.Read(&m) || m.Empty() {
			m.Close()
			t.Fatalf("%s: cannot read frame %d", vtestPath, first+len(out))
		}
		out = append(out, m)
	}
	t.Cleanup(func() {
		for _, m := range out {
			m.Close()
		}
	})
	return out
}

// newGate returns a Gate closed when the test ends.
func newGate(t testing.TB, cfg Config) *Gate {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// Block colours: on the lawn of vtest.avi (gray about 60) white differs by
// about 195 gray levels, grey by 60, about a person in dark clothes on a
// light floor.
var (
	white = color.RGBA{255, 255, 255, 0}
	grey  = color.RGBA{120, 120, 120, 0}
)

// withBlock returns a copy of bg with a block of size and colour c at p,
// closed when the test ends.
func withBlock(t testing.TB, bg gocv.Mat, p, size image.Point, c color.RGBA) gocv.Mat {
	t.Helper()
	m := bg.Clone()
	t.Cleanup(func() { m.Close() })
	gocv.Rectangle(&m, image.Rectangle{Min: p, Max: p.Add(size)}, c, -1)
	return m
}

// shrunkPixels is the number of pixels the default gate compares for a
// vtest frame (160x120).
const shrunkPixels = 160 * 120
