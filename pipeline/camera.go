package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/tracker"
	"github.com/storesight/storesight/video"
)

// Camera is one camera's analysis chain.
type Camera struct {
	ID     string
	Source video.Source
	// FPS is the analysis rate; 0 analyses every decoded frame.
	FPS float64
	// Queue is the number of frames buffered between decoder and worker.
	Queue int
	// DropOldest makes a full queue drop its oldest frame instead of making
	// the decoder wait: right for live sources and files paced in real time.
	DropOldest bool
	Tracker    *tracker.Tracker
	Counter    *counting.Counter
	Aggregator *counting.Aggregator // optional
	// Dweller, when set, follows zone visits (dwell per person, through
	// short occlusions and ID switches).
	Dweller *counting.Dweller
	// Counted, when set, says which tracks lines, zones and dwell see
	// (persons); other classes (a knife) are tracked for the alert rules
	// but must never count as people.
	Counted func(t tracker.Track) bool
	// Gate, when set, decides per frame whether the detector must run
	// (motion gating). A frame it rejects is not analysed at all: the
	// tracker and counters only see analysed frames, so nothing is
	// extrapolated from a frame no one looked at.
	Gate func(f *video.Frame) bool

	Stats Stats
}

// decode is the camera's decoder goroutine: it reads frames, samples them to
// the analysis rate and queues them. It owns the source until it returns.
func (c *Camera) decode(ctx context.Context, q *frameQueue, log *slog.Logger) error {
	defer q.close()
	var next time.Duration
	var interval time.Duration
	if c.FPS > 0 {
		interval = time.Duration(float64(time.Second) / c.FPS)
	}
	for {
		f, err := c.Source.Next(ctx)
		if err != nil {
			if errors.Is(err, video.ErrEndOfStream) {
				log.Info("end of stream", "camera", c.ID, "frames", c.Stats.Decoded.Load())
				return nil
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("camera %s: decode: %w", c.ID, err)
		}
		c.Stats.Decoded.Add(1)
		if interval > 0 {
			// Sample on stream time, not on frame count, so variable frame
			// rates and dropped packets do not skew the analysis rate. A
			// tenth of an interval of slack keeps a 10 fps stream analysed
			// at 10 fps from skipping frames on timestamp jitter.
			if f.StreamTime+interval/10 < next {
				c.Stats.Sampled.Add(1)
				f.Release()
				continue
			}
			if next == 0 || f.StreamTime-next > interval {
				next = f.StreamTime
			}
			next += interval
		}
		if !q.push(ctx, f) {
			return nil
		}
	}
}

// work is the camera's worker goroutine: detection, tracking, counting and
// outputs, strictly in frame order.
func (c *Camera) work(ctx context.Context, q *frameQueue, pool *DetectorPool, out Output, log *slog.Logger) {
	var last *Result
	for f := range q.ch {
		if ctx.Err() != nil {
			f.Release()
			c.Stats.Dropped.Add(1)
			continue
		}
		if c.Gate != nil && !c.Gate(&f) {
			c.Stats.Gated.Add(1)
			f.Release()
			continue
		}
		r, err := c.analyse(ctx, &f, pool)
		if err != nil {
			f.Release()
			if ctx.Err() == nil {
				c.Stats.Errors.Add(1)
				log.Error("analyse frame", "camera", c.ID, "frame", f.Seq, "err", err)
			}
			continue
		}
		c.Stats.Analysed.Add(1)
		out.Result(r)
		// The image was lent to the outputs for the call only.
		r.Image = gocv.Mat{}
		f.Release()
		last = r
	}
	out.Result(c.final(last))
}

func (c *Camera) analyse(ctx context.Context, f *video.Frame, pool *DetectorPool) (*Result, error) {
	t0 := time.Now()
	dets, err := pool.Detect(ctx, c.ID, f.Img)
	if err != nil {
		return nil, err
	}
	r := &Result{
		Camera: c.ID, Frame: f.Seq, StreamTime: f.StreamTime, Time: f.Time,
		Width: f.Img.Cols(), Height: f.Img.Rows(), Image: f.Img, Detections: dets, Detect: time.Since(t0),
	}
	r.Tracks = c.Tracker.Update(dets)
	counted := r.Tracks
	if c.Counted != nil {
		counted = make([]tracker.Track, 0, len(r.Tracks))
		for _, t := range r.Tracks {
			if c.Counted(t) {
				counted = append(counted, t)
			}
		}
	}
	r.Crossings, r.Occupancy = c.Counter.Update(counting.Observation{
		Frame: f.Seq, StreamTime: f.StreamTime, Time: f.Time, Tracks: counted,
	})
	if c.Dweller != nil {
		r.Dwell, r.Visits = c.Dweller.Update(f.Seq, f.Time, counted)
	}
	if c.Aggregator != nil {
		if w, closed := c.Aggregator.Add(f.Time, r.Crossings, r.Occupancy); closed {
			r.Windows = append(r.Windows, w)
		}
	}
	if !f.Received.IsZero() {
		r.Latency = time.Since(f.Received)
	}
	return r, nil
}

// final flushes the counter and the aggregator at the end of the stream.
func (c *Camera) final(last *Result) *Result {
	r := &Result{Camera: c.ID, Final: true}
	if last != nil {
		r.Frame, r.StreamTime, r.Time, r.Width, r.Height = last.Frame, last.StreamTime, last.Time, last.Width, last.Height
	}
	r.Crossings = c.Counter.Flush()
	if c.Dweller != nil {
		r.Visits = c.Dweller.Flush()
	}
	if c.Aggregator != nil {
		if w, closed := c.Aggregator.Flush(r.Crossings); closed {
			r.Windows = append(r.Windows, w)
		}
	}
	return r
}
