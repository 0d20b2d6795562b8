package benchmarks

import (
	"context"
	"time"

	"github.com/storesight/storesight/internal/crowd"
	"github.com/storesight/storesight/tracker"
)

// TrackerSpeed is the tracker alone at a crowded scene.
type TrackerSpeed struct {
	People          int     `json:"people"`  // simulated people in view
	Updates         int     `json:"updates"` // timed Update calls
	MicrosPerUpdate float64 `json:"us_per_update"`
	UpdatesPerSec   float64 `json:"updates_per_s"`
	TracksPerFrame  float64 `json:"tracks_per_frame"` // confirmed tracks reported per update: shows it really follows ~People
}

// measureTracker runs tracker.New(tracker.DefaultConfig()) over a
// precomputed crowd, as tracker's BenchmarkUpdate50Tracks does, so
// detection synthesis stays out of the timing.
func measureTracker(ctx context.Context, people, updates int) (TrackerSpeed, error) {
	seq := crowd.Walk(people, 3000, 9)
	tr := tracker.New(tracker.DefaultConfig())
	reported := 0
	t0 := time.Now()
	for i := range updates {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return TrackerSpeed{}, err
			}
		}
		reported += len(tr.Update(seq[i%len(seq)]))
	}
	el := time.Since(t0)
	s := TrackerSpeed{People: people, Updates: updates}
	if updates > 0 && el > 0 {
		s.MicrosPerUpdate = float64(el.Microseconds()) / float64(updates)
		s.UpdatesPerSec = float64(updates) / el.Seconds()
		s.TracksPerFrame = float64(reported) / float64(updates)
	}
	return s, nil
}
