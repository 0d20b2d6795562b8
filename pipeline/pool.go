package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storesight/storesight/detectors"
	"gocv.io/x/gocv"
)

// DetectorPool shares a few detector sessions among all cameras. Each
// session is driven by one worker goroutine (sessions reuse their tensors
// and are not goroutine-safe). Pending frames wait in one queue per camera
// and workers serve the cameras round robin, so a camera that produces
// frames as fast as it can (a file read flat out, a 30 fps stream) gets no
// more detector time than one at 5 fps that is also waiting. When a
// session's model has a dynamic batch dimension, a worker takes up to its
// batch size of frames, each from a different camera, in one run; it never
// waits for a batch to fill, so batching adds no latency when the box is
// idle and grows by itself under load.
type DetectorPool struct {
	sessions []detectors.Detector

	mu      sync.Mutex
	cond    *sync.Cond
	queues  map[string][]*detectRequest
	ring    []string // cameras with pending frames, in serving order
	closing bool

	runs, frames, busyNanos atomic.Int64
}

// batchDetector is what detectors.BatchDetector adds to a Detector.
type batchDetector interface {
	MaxBatch() int
	DetectBatch(imgs []gocv.Mat) ([][]detectors.Detection, error)
}

type requestState int

const (
	statePending requestState = iota
	stateTaken
)

type detectRequest struct {
	camera string
	img    gocv.Mat
	state  requestState // guarded by DetectorPool.mu
	done   chan struct{}
	dets   []detectors.Detection
	err    error
}

// PoolStats says how busy the detector sessions were.
type PoolStats struct {
	Runs   int64         // session runs (a batch counts once)
	Frames int64         // frames detected
	Busy   time.Duration // summed over sessions
	// Sessions is the number of sessions; utilisation over a wall-clock
	// span d is Busy / (d * Sessions).
	Sessions int
}

// NewDetectorPool owns the given detectors and closes them on Close.
func NewDetectorPool(ds ...detectors.Detector) (*DetectorPool, error) {
	if len(ds) == 0 {
		return nil, errors.New("detector pool: no detectors")
	}
	p := &DetectorPool{sessions: ds, queues: map[string][]*detectRequest{}}
	p.cond = sync.NewCond(&p.mu)
	return p, nil
}

// Run drives the sessions until ctx is cancelled: one worker goroutine per
// session. Pipeline.Run calls it; it returns once every worker stopped.
func (p *DetectorPool) Run(ctx context.Context) {
	p.mu.Lock()
	p.closing = false
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.closing = true
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for _, d := range p.sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(d)
		}()
	}
	wg.Wait()
	// Frames still queued when the pool stops are failed, not lost
	// silently: their cameras are waiting on them.
	p.mu.Lock()
	for cam, q := range p.queues {
		for _, r := range q {
			r.err = context.Canceled
			close(r.done)
		}
		delete(p.queues, cam)
	}
	p.ring = nil
	p.mu.Unlock()
}

// Detect queues img for camera and waits for its detections. The image is
// only read, and not after Detect returns.
func (p *DetectorPool) Detect(ctx context.Context, camera string, img gocv.Mat) ([]detectors.Detection, error) {
	r := &detectRequest{camera: camera, img: img, done: make(chan struct{})}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return nil, context.Canceled
	}
	if len(p.queues[camera]) == 0 {
		p.ring = append(p.ring, camera)
	}
	p.queues[camera] = append(p.queues[camera], r)
	p.cond.Signal()
	p.mu.Unlock()

	select {
	case <-r.done:
		return r.dets, r.err
	case <-ctx.Done():
	}
	p.mu.Lock()
	if r.state == statePending && p.remove(r) {
		p.mu.Unlock()
		return nil, ctx.Err()
	}
	p.mu.Unlock()
	// A worker is reading the image: the caller may free it only after
	// the run, which takes milliseconds.
	<-r.done
	return r.dets, r.err
}

// remove takes a pending request out of its camera's queue. Called with mu.
func (p *DetectorPool) remove(r *detectRequest) bool {
	q := p.queues[r.camera]
	for i, x := range q {
		if x == r {
			q = append(q[:i], q[i+1:]...)
			p.setQueue(r.camera, q)
			return true
		}
	}
	return false
}

func (p *DetectorPool) setQueue(camera string, q []*detectRequest) {
	if len(q) > 0 {
		p.queues[camera] = q
		return
	}
	delete(p.queues, camera)
	for i, c := range p.ring {
		if c == camera {
			p.ring = append(p.ring[:i], p.ring[i+1:]...)
			break
		}
	}
}

// next takes up to max requests, each from the next camera in the ring.
// Called with mu held.
func (p *DetectorPool) next(max int) []*detectRequest {
	var batch []*detectRequest
	for len(batch) < max && len(p.ring) > 0 {
		cam := p.ring[0]
		p.ring = p.ring[1:]
		q := p.queues[cam]
		r := q[0]
		r.state = stateTaken
		batch = append(batch, r)
		if len(q) > 1 {
			p.queues[cam] = q[1:]
			p.ring = append(p.ring, cam) // back of the line
		} else {
			delete(p.queues, cam)
		}
	}
	return batch
}

func (p *DetectorPool) work(d detectors.Detector) {
	max := 1
	bd, batching := d.(batchDetector)
	if batching {
		max = bd.MaxBatch()
	}
	if max < 1 {
		max = 1
	}
	imgs := make([]gocv.Mat, 0, max)
	for {
		p.mu.Lock()
		for len(p.ring) == 0 && !p.closing {
			p.cond.Wait()
		}
		if p.closing {
			p.mu.Unlock()
			return
		}
		batch := p.next(max)
		p.mu.Unlock()

		t0 := time.Now()
		if len(batch) == 1 {
			r := batch[0]
			r.dets, r.err = d.Detect(r.img)
		} else {
			imgs = imgs[:0]
			for _, r := range batch {
				imgs = append(imgs, r.img)
			}
			all, err := bd.DetectBatch(imgs)
			for i, r := range batch {
				if err != nil {
					r.err = err
				} else if i < len(all) {
					r.dets = all[i]
				} else {
					r.err = fmt.Errorf("batch returned %d results for %d frames", len(all), len(batch))
				}
			}
		}
		p.busyNanos.Add(int64(time.Since(t0)))
		p.runs.Add(1)
		p.frames.Add(int64(len(batch)))
		for _, r := range batch {
			if r.err != nil {
				r.err = fmt.Errorf("detect: %w", r.err)
			}
			close(r.done)
		}
	}
}

// Stats returns how much work the sessions did.
func (p *DetectorPool) Stats() PoolStats {
	return PoolStats{
		Runs: p.runs.Load(), Frames: p.frames.Load(),
		Busy: time.Duration(p.busyNanos.Load()), Sessions: len(p.sessions),
	}
}

// Close closes every detector. Call it after Run returned.
func (p *DetectorPool) Close() error {
	var errs []error
	for _, d := range p.sessions {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}
