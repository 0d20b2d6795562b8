package pipeline

import (
	"context"
	"image"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
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

// With a dynamic-batch model, frames of several waiting cameras go through
// in one run, and each camera gets exactly its own detections.
func TestDetectorPoolBatchesAcrossCameras(t *testing.T) {
	if err := detectors.InitRuntime(""); err != nil {
		t.Fatal(err)
	}
	m, err := models.Lookup("deimv2_hgnetv2_atto_320_coco")
	if err != nil {
		t.Fatal(err)
	}
	path, err := models.Install(m, models.DefaultDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := detectors.NewONNX(m, path, detectors.Options{Threads: 2, Classes: []int{0}, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := detectors.NewONNX(m, path, detectors.Options{Threads: 2, Classes: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	p, err := NewDetectorPool(d)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// Three cameras with different pictures: the full frame, a crop, a
	// resize. Their expected detections come from single-image runs.
	full := vtestFrame(t)
	region := full.Region(image.Rect(200, 100, 700, 500))
	crop := region.Clone()
	region.Close()
	defer crop.Close()
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(full, &small, image.Pt(384, 288), 0, 0, gocv.InterpolationLinear)
	imgs := map[string]gocv.Mat{"a": full, "b": crop, "c": small}
	want := map[string][]detectors.Detection{}
	for cam, img := range imgs {
		if want[cam], err = ref.Detect(img); err != nil {
			t.Fatal(err)
		}
	}

	// Queue all three before the pool runs, so the first run takes them
	// together.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	got := map[string][]detectors.Detection{}
	var mu sync.Mutex
	for cam, img := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dets, err := p.Detect(ctx, cam, img)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			got[cam] = dets
			mu.Unlock()
		}()
	}
	for {
		p.mu.Lock()
		n := len(p.ring)
		p.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	go p.Run(ctx)
	wg.Wait()
	if st := p.Stats(); st.Runs != 1 || st.Frames != 3 {
		t.Fatalf("stats %+v, want 3 frames in 1 run", st)
	}
	for cam := range imgs {
		if len(got[cam]) != len(want[cam]) || len(want[cam]) == 0 {
			t.Fatalf("camera %s: %d detections, want %d", cam, len(got[cam]), len(want[cam]))
		}
		for i := range want[cam] {
			g, w := got[cam][i], want[cam][i]
			if math.Abs(float64(g.Box.X1-w.Box.X1)) > 0.5 || math.Abs(float64(g.Box.Y2-w.Box.Y2)) > 0.5 || math.Abs(float64(g.Score-w.Score)) > 1e-3 {
				t.Fatalf("camera %s detection %d: %+v, want %+v", cam, i, g, w)
			}
		}
	}
}
