package pipeline

import (
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
)

// Publisher takes finished events: the Kafka sink, or a JSON-lines file.
type Publisher interface {
	Publish(e events.Envelope) error
}

// EventOutput turns results into events (one per crossing, one per line and
// zone per closed window) and hands them to a publisher.
type EventOutput struct {
	Store events.Store
	Pub   Publisher
	Log   *slog.Logger

	published, failed atomic.Int64
}

// Result publishes r's events.
func (o *EventOutput) Result(r *Result) {
	for _, c := range r.Crossings {
		o.publish(CrossingEvent(o.Store, r.Camera, c))
	}
	for _, w := range r.Windows {
		for _, lc := range w.Lines {
			o.publish(LineCountEvent(o.Store, r.Camera, lc))
		}
		for _, z := range w.Zones {
			o.publish(ZoneOccupancyEvent(o.Store, r.Camera, z))
		}
	}
}

func (o *EventOutput) publish(e events.Envelope, err error) {
	if err == nil {
		err = o.Pub.Publish(e)
	}
	if err != nil {
		o.failed.Add(1)
		log := o.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("publish event", "type", e.Type, "id", e.ID, "err", err)
		return
	}
	o.published.Add(1)
}

// Counts returns how many events were published and how many failed.
func (o *EventOutput) Counts() (published, failed int64) {
	return o.published.Load(), o.failed.Load()
}

// CrossingEvent builds the event of one crossing. Its id is a function of
// where and when the crossing happened, so re-analysing the same video (or
// a retried produce) yields the same id and consumers can de-duplicate.
func CrossingEvent(store events.Store, camera string, c counting.Crossing) (events.Envelope, error) {
	id := events.ID(store.ID, camera, events.TypeCrossing, c.Line, c.Direction,
		strconv.FormatUint(c.TrackID, 10), strconv.FormatInt(c.Frame, 10), strconv.FormatInt(c.Time.UnixNano(), 10))
	e, err := events.NewEnvelope(id, events.TypeCrossing, store, camera, c.Time, c)
	if err != nil {
		return e, fmt.Errorf("crossing event: %w", err)
	}
	return e, nil
}

// LineCountEvent builds the event of one line's window.
func LineCountEvent(store events.Store, camera string, lc counting.LineCount) (events.Envelope, error) {
	id := events.ID(store.ID, camera, events.TypeLineCount, lc.Line, lc.WindowStart.UTC().Format(time.RFC3339Nano))
	e, err := events.NewEnvelope(id, events.TypeLineCount, store, camera, lc.WindowEnd, lc)
	if err != nil {
		return e, fmt.Errorf("line count event: %w", err)
	}
	return e, nil
}

// ZoneOccupancyEvent builds the event of one zone's window.
func ZoneOccupancyEvent(store events.Store, camera string, z counting.ZoneOccupancy) (events.Envelope, error) {
	id := events.ID(store.ID, camera, events.TypeZoneOccupancy, z.Zone, z.WindowStart.UTC().Format(time.RFC3339Nano))
	e, err := events.NewEnvelope(id, events.TypeZoneOccupancy, store, camera, z.WindowEnd, z)
	if err != nil {
		return e, fmt.Errorf("zone occupancy event: %w", err)
	}
	return e, nil
}
