package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Pipeline runs a set of cameras that share one detector pool.
type Pipeline struct {
	Cameras []*Camera
	Pool    *DetectorPool
	Output  Output
	Log     *slog.Logger
}

// Run analyses every camera until all their sources end or ctx is
// cancelled, and returns after every goroutine it started has stopped. The
// error joins the cameras' decode errors; a cancelled context is not an
// error. Sources are closed before Run returns.
func (p *Pipeline) Run(ctx context.Context) error {
	if len(p.Cameras) == 0 {
		return errors.New("pipeline: no cameras")
	}
	if p.Pool == nil || p.Output == nil {
		return errors.New("pipeline: detector pool and output are required")
	}
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, c := range p.Cameras {
		if c.Tracker == nil || c.Counter == nil || c.Source == nil {
			return fmt.Errorf("pipeline: camera %s: source, tracker and counter are required", c.ID)
		}
	}
	poolCtx, stopPool := context.WithCancel(ctx)
	poolDone := make(chan struct{})
	go func() {
		defer close(poolDone)
		p.Pool.Run(poolCtx)
	}()
	defer func() {
		stopPool()
		<-poolDone
	}()
	for _, c := range p.Cameras {
		q := newFrameQueue(c.Queue, c.DropOldest, &c.Stats.Dropped)
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer c.Source.Close()
			if err := c.decode(ctx, q, log); err != nil {
				log.Error("camera stopped", "camera", c.ID, "err", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			c.work(ctx, q, p.Pool, p.Output, log)
			c.Stats.Dropped.Add(int64(q.drain()))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
