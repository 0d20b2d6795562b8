package app

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

// statusChange is one camera stream going offline or coming back.
type statusChange struct {
	stream string // detect or main
	st     video.Status
}

// statusPublisher turns cameras' status changes into logs and camera_status
// events. Sources report changes from their reader goroutines and must not
// block, so changes go through a bounded queue to one goroutine (run) that
// reads the source's counters and publishes. Changes are rare (a camera
// flapping every second makes one per second), so a full queue means the
// publisher is stuck; those changes are counted, not waited for.
type statusPublisher struct {
	store events.Store
	log   *slog.Logger
	pub   pipeline.Publisher // nil: log only (analyze)
	ch    chan statusChange

	published, dropped atomic.Int64
}

func newStatusPublisher(store events.Store, log *slog.Logger) *statusPublisher {
	return &statusPublisher{store: store, log: log, ch: make(chan statusChange, 256)}
}

// notify is a video.Spec.OnStatus for one stream of a camera.
func (p *statusPublisher) notify(stream string) func(video.Status) {
	return func(st video.Status) {
		select {
		case p.ch <- statusChange{stream: stream, st: st}:
		default:
			p.dropped.Add(1)
		}
	}
}

// run publishes changes until ctx ends, then what is still queued.
func (p *statusPublisher) run(ctx context.Context, live map[string]video.LiveSource, main map[string]*evidence.Recorder) {
	for {
		select {
		case c := <-p.ch:
			p.publish(c, live, main)
		case <-ctx.Done():
			for {
				select {
				case c := <-p.ch:
					p.publish(c, live, main)
				default:
					return
				}
			}
		}
	}
}

func (p *statusPublisher) publish(c statusChange, live map[string]video.LiveSource, main map[string]*evidence.Recorder) {
	var ls video.LiveStats
	if src := live[c.st.Camera]; src != nil && c.stream == "detect" {
		ls = src.LiveStats()
	}
	if rec := main[c.st.Camera]; rec != nil && c.stream == "main" {
		ls = rec.Stats().Live
	}
	if c.st.Online {
		p.log.Info("camera online", "camera", c.st.Camera, "stream", c.stream, "reconnects", ls.Reconnects)
	} else {
		p.log.Warn("camera offline", "camera", c.st.Camera, "stream", c.stream, "reason", c.st.Reason,
			"last_frame", c.st.Time)
	}
	if p.pub == nil {
		return
	}
	e, err := pipeline.CameraStatusEvent(p.store, c.stream, c.st, ls)
	if err == nil {
		err = p.pub.Publish(e)
	}
	if err != nil {
		p.log.Error("publish camera status", "camera", c.st.Camera, "err", err)
		return
	}
	p.published.Add(1)
}

func (p *statusPublisher) counts() (published, dropped int64) {
	return p.published.Load(), p.dropped.Load()
}
