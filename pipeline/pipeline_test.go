package pipeline

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/tracker"
	"github.com/storesight/storesight/video"
)

func newPool(t *testing.T) *DetectorPool {
	t.Helper()
	if err := detectors.InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	m, err := models.Lookup("yolox_nano_416_coco")
	if err != nil {
		t.Fatal(err)
	}
	path, err := models.Install(m, models.DefaultDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := detectors.NewONNX(m, path, detectors.Options{Threads: 2, Classes: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewDetectorPool(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func newCamera(t *testing.T, id string, spec video.Spec, fps float64) *Camera {
	t.Helper()
	spec.Camera = id
	src, err := video.OpenFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	lines := []counting.Line{{Name: "west", Seg: geom.Segment{A: geom.Point{X: 300, Y: 150}, B: geom.Point{X: 300, Y: 340}}}}
	c, err := counting.NewCounter(lines, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Camera{ID: id, Source: src, FPS: fps, Queue: 2, DropOldest: spec.Realtime,
		Tracker: tracker.New(tracker.DefaultConfig()), Counter: c}
}

type collect struct {
	mu      sync.Mutex
	frames  map[string][]int64
	finals  map[string]int
	ordered bool
}

func (c *collect) Result(r *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Final {
		c.finals[r.Camera]++
		return
	}
	fs := c.frames[r.Camera]
	if len(fs) > 0 && fs[len(fs)-1] >= r.Frame {
		c.ordered = false
	}
	c.frames[r.Camera] = append(fs, r.Frame)
}

// Two cameras share one detector; sampling halves the 10 fps file; results
// arrive in frame order per camera and each camera ends with one final
// result.
func TestRunTwoCamerasSampledInOrder(t *testing.T) {
	pool := newPool(t)
	out := &collect{frames: map[string][]int64{}, finals: map[string]int{}, ordered: true}
	a := newCamera(t, "a", video.Spec{URL: vtest}, 5)
	b := newCamera(t, "b", video.Spec{URL: vtest}, 2)
	p := &Pipeline{Cameras: []*Camera{a, b}, Pool: pool, Output: out}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !out.ordered {
		t.Fatal("results out of frame order")
	}
	for _, c := range []struct {
		cam  *Camera
		want int64
	}{{a, 398}, {b, 159}} {
		st := c.cam.Stats.Snapshot()
		if st.Decoded != 795 || st.Dropped != 0 || st.Analysed != c.want || st.Sampled != 795-c.want {
			t.Errorf("camera %s: %+v, want 795 decoded, %d analysed", c.cam.ID, st, c.want)
		}
		if out.finals[c.cam.ID] != 1 {
			t.Errorf("camera %s: %d final results", c.cam.ID, out.finals[c.cam.ID])
		}
	}
	if fs := out.frames["b"]; fs[1]-fs[0] != 5 {
		t.Errorf("camera b at 2 fps analysed frames %v..., want every 5th", fs[:3])
	}
}

// Cancelling stops a real-time camera promptly, flushes it (one final
// result) and leaves no goroutine behind.
func TestRunStopsOnCancel(t *testing.T) {
	pool := newPool(t)
	before := runtime.NumGoroutine()
	out := &collect{frames: map[string][]int64{}, finals: map[string]int{}, ordered: true}
	cam := newCamera(t, "live", video.Spec{URL: vtest, Realtime: true, Loop: true}, 0)
	p := &Pipeline{Cameras: []*Camera{cam}, Pool: pool, Output: out}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(1500 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if out.finals["live"] != 1 || len(out.frames["live"]) == 0 {
		t.Fatalf("analysed %d frames, %d finals", len(out.frames["live"]), out.finals["live"])
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Run, %d before", n, before)
	}
}
