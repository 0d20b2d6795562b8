package detectors

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/storesight/storesight/models"
	"gocv.io/x/gocv"
)

// vtestPath is the OpenCV sample clip: 768x576 pedestrians seen from above.
const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

var (
	framesOnce sync.Once
	frames     map[int]gocv.Mat
	framesErr  error
)

// frame returns frame idx (0 or 300) of vtest.avi, decoded once per test
// binary. Callers must not close it.
func frame(tb testing.TB, idx int) gocv.Mat {
	tb.Helper()
	framesOnce.Do(func() {
		frames = map[int]gocv.Mat{}
		vc, err := gocv.VideoCaptureFile(vtestPath)
		if err != nil {
			framesErr = fmt.Errorf("open %s (install opencv-doc): %w", vtestPath, err)
			return
		}
		defer vc.Close()
		m := gocv.NewMat()
		defer m.Close()
		for i := 0; i <= 300; i++ {
			if !vc.Read(&m) {
				framesErr = fmt.Errorf("%s: could not read frame %d", vtestPath, i)
				return
			}
			if i == 0 || i == 300 {
				frames[i] = m.Clone()
			}
		}
	})
	if framesErr != nil {
		tb.Fatal(framesErr)
	}
	f, ok := frames[idx]
	if !ok {
		tb.Fatalf("frame %d not cached", idx)
	}
	return f
}

// requireRuntime fails (not skips) with a clear message when the ONNX
// Runtime library is missing: CI installs it, so its absence is a defect.
func requireRuntime(tb testing.TB) {
	tb.Helper()
	if err := InitRuntime(""); err != nil {
		tb.Fatalf("ONNX Runtime is required for detector tests: %v (run scripts/deps.sh or set %s)", err, EnvORTLib)
	}
}

// openModel builds a detector for a shared model file.
func openModel(tb testing.TB, name string, opts Options) *ONNXDetector {
	tb.Helper()
	requireRuntime(tb)
	m, err := models.Lookup(name)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := NewONNX(m, filepath.Join(models.DefaultDir(), m.File), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Error(err)
		}
	})
	return d
}

// saveAnnotated writes the frame with boxes to $STORESIGHT_TEST_OUT (if set),
// for looking at what a model found.
func saveAnnotated(tb testing.TB, name string, img gocv.Mat, dets []Detection) {
	dir := os.Getenv("STORESIGHT_TEST_OUT")
	if dir == "" {
		return
	}
	out := img.Clone()
	defer out.Close()
	for _, d := range dets {
		r := rectOf(d)
		gocv.Rectangle(&out, r, colorFor(d.Class), 1)
		gocv.PutText(&out, fmt.Sprintf("%d %.2f", d.Class, d.Score), r.Min, gocv.FontHersheyPlain, 0.8, colorFor(d.Class), 1)
	}
	if !gocv.IMWrite(filepath.Join(dir, name+".png"), out) {
		tb.Errorf("could not write %s", name)
	}
}
