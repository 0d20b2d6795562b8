package detectors

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesight/storesight/models"
	"gocv.io/x/gocv"
)

// cameraFrames are real vtest.avi frames as three different cameras would
// deliver them: the native 768x576, an upscaled 1280x720 (another aspect
// ratio) and a 640x360 crop-and-shrink.
func cameraFrames(t testing.TB) []gocv.Mat {
	t.Helper()
	hd := gocv.NewMat()
	gocv.Resize(frame(t, 300), &hd, image.Pt(1280, 720), 0, 0, gocv.InterpolationLinear)
	src := frame(t, 0)
	crop := src.Region(image.Rect(64, 100, 704, 460))
	small := gocv.NewMat()
	gocv.Resize(crop, &small, image.Pt(640, 360), 0, 0, gocv.InterpolationArea)
	crop.Close()
	t.Cleanup(func() { hd.Close(); small.Close() })
	return []gocv.Mat{frame(t, 0), hd, small}
}

// sameDetections reports how got differs from want beyond float tolerance
// (boxes in pixels, scores absolute); "" means they agree. Queries with
// equal scores may come out in another order, so detections are paired by
// class and box, not by position.
func sameDetections(got, want []Detection, boxTol float64, scoreTol float32) string {
	if len(got) != len(want) {
		return "count differs"
	}
	used := make([]bool, len(want))
	for _, g := range got {
		found := false
		for j, w := range want {
			if used[j] || g.Class != w.Class || math.Abs(float64(g.Score-w.Score)) > float64(scoreTol) ||
				math.Abs(g.Box.X1-w.Box.X1) > boxTol || math.Abs(g.Box.Y1-w.Box.Y1) > boxTol ||
				math.Abs(g.Box.X2-w.Box.X2) > boxTol || math.Abs(g.Box.Y2-w.Box.Y2) > boxTol {
				continue
			}
			used[j], found = true, true
			break
		}
		if !found {
			return fmt.Sprintf("no per-image match for %+v", g)
		}
	}
	return ""
}

// manifest looks up a shipped manifest or fails the test.
func manifest(t *testing.T, name string) models.Manifest {
	t.Helper()
	m, err := models.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDetectBatchMatchesDetect(t *testing.T) {
	imgs := cameraFrames(t)
	for _, name := range []string{"deimv2_hgnetv2_atto_320_coco", "deimv2_hgnetv2_femto_416_coco"} {
		t.Run(name, func(t *testing.T) {
			// A lower threshold than the manifest's compares more boxes,
			// including the uncertain ones most sensitive to batching.
			d := openModel(t, name, Options{Threads: 2, ScoreThreshold: 0.3})
			if d.MaxBatch() != DefaultMaxBatch {
				t.Fatalf("MaxBatch = %d, want %d for a dynamic-batch model", d.MaxBatch(), DefaultMaxBatch)
			}
			want := make([][]Detection, len(imgs))
			total := 0
			for i, img := range imgs {
				dets, err := d.Detect(img)
				if err != nil {
					t.Fatal(err)
				}
				if len(dets) == 0 {
					t.Fatalf("image %d (%dx%d): no detections to compare", i, img.Cols(), img.Rows())
				}
				want[i], total = dets, total+len(dets)
			}
			t.Logf("per-image detections: %d, %d, %d", len(want[0]), len(want[1]), len(want[2]))
			// Orders put every image in several batch slots and sizes, so a
			// slot's stale geometry or another image's rows would show.
			orders := [][]int{{0}, {0, 1}, {1, 0}, {2, 0, 1}, {0, 1, 2, 1}, {1, 2, 0, 2}}
			for _, order := range orders {
				batch := make([]gocv.Mat, len(order))
				for k, i := range order {
					batch[k] = imgs[i]
				}
				got, err := d.DetectBatch(batch)
				if err != nil {
					t.Fatalf("batch %v: %v", order, err)
				}
				if len(got) != len(order) {
					t.Fatalf("batch %v: %d results, want %d", order, len(got), len(order))
				}
				for k, i := range order {
					if diff := sameDetections(got[k], want[i], 0.5, 1e-3); diff != "" {
						t.Errorf("batch %v slot %d (image %d, %dx%d): %s\nbatch:     %+v\nper-image: %+v",
							order, k, i, imgs[i].Cols(), imgs[i].Rows(), diff, got[k], want[i])
					}
				}
			}
			// Detect after batches must still see its own geometry.
			for i, img := range imgs {
				dets, err := d.Detect(img)
				if err != nil {
					t.Fatal(err)
				}
				if diff := sameDetections(dets, want[i], 0, 0); diff != "" {
					t.Errorf("Detect on image %d after batches: %s", i, diff)
				}
			}
		})
	}
}

func TestDetectBatchLimits(t *testing.T) {
	imgs := cameraFrames(t)
	requireRuntime(t)

	t.Run("fixed batch", func(t *testing.T) {
		d := openModel(t, "yolox_nano_416_coco", Options{Threads: 2})
		if d.MaxBatch() != 1 {
			t.Fatalf("MaxBatch = %d, want 1 for a fixed-batch model", d.MaxBatch())
		}
		one, err := d.DetectBatch(imgs[:1])
		if err != nil {
			t.Fatal(err)
		}
		want, err := d.Detect(imgs[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(one) != 1 || len(want) == 0 || sameDetections(one[0], want, 0, 0) != "" {
			t.Fatalf("DetectBatch of 1 = %+v, Detect = %+v", one, want)
		}
		_, err = d.DetectBatch(imgs[:2])
		if err == nil || !strings.Contains(err.Error(), "yolox_nano_416_coco") || !strings.Contains(err.Error(), "max batch 1") {
			t.Fatalf("DetectBatch of 2 on a fixed-batch model: err = %v, want one naming the model and max batch 1", err)
		}
	})

	t.Run("explicit batch on fixed model", func(t *testing.T) {
		m := manifest(t, "yolox_nano_416_coco")
		d, err := NewONNX(m, filepath.Join(models.DefaultDir(), m.File), Options{MaxBatch: 2})
		if err == nil {
			d.Close()
			t.Fatal("MaxBatch 2 accepted for a fixed-batch model")
		}
		if !strings.Contains(err.Error(), m.Name) || !strings.Contains(err.Error(), "fixed") {
			t.Fatalf("error %q should name the model and its fixed batch", err)
		}
	})

	t.Run("negative", func(t *testing.T) {
		m := manifest(t, "deimv2_hgnetv2_atto_320_coco")
		d, err := NewONNX(m, filepath.Join(models.DefaultDir(), m.File), Options{MaxBatch: -1})
		if err == nil {
			d.Close()
			t.Fatal("MaxBatch -1 accepted")
		}
	})

	t.Run("dynamic batch capped", func(t *testing.T) {
		d := openModel(t, "deimv2_hgnetv2_atto_320_coco", Options{Threads: 2, MaxBatch: 2})
		if d.MaxBatch() != 2 {
			t.Fatalf("MaxBatch = %d, want 2 as requested", d.MaxBatch())
		}
		if _, err := d.DetectBatch(imgs); err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Fatalf("batch of 3 with MaxBatch 2: err = %v, want exceeds", err)
		}
		if got, err := d.DetectBatch(nil); err != nil || got != nil {
			t.Fatalf("empty batch = %v, %v; want nothing", got, err)
		}
		empty := gocv.NewMat()
		defer empty.Close()
		if _, err := d.DetectBatch([]gocv.Mat{imgs[0], empty}); err == nil || !strings.Contains(err.Error(), "image 1") {
			t.Fatalf("batch with an empty image: err = %v, want one naming image 1", err)
		}
		// A failed batch leaves the detector usable.
		got, err := d.DetectBatch(imgs[:2])
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || len(got[0]) == 0 || len(got[1]) == 0 {
			t.Fatalf("batch after a failure: %+v", got)
		}
	})

	t.Run("closed", func(t *testing.T) {
		d := openModel(t, "deimv2_hgnetv2_atto_320_coco", Options{Threads: 1})
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := d.DetectBatch(imgs[:2]); err == nil {
			t.Fatal("DetectBatch on a closed detector succeeded")
		}
	})
}
