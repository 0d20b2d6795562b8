package benchmarks

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
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
	seq := crowd(people, 3000, 9)
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

// crowd simulates n people of varied size walking at varied speeds inside a
// 1920×1080 view, bouncing off its edges (so paths cross), seen by a
// detector with ~2 px box jitter, varied scores and 3% misses. It is the
// generator of tracker's BenchmarkUpdate50Tracks, kept identical so the
// two numbers compare.
func crowd(n, frames int, seed uint64) [][]detectors.Detection {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	type walker struct{ x, y, vx, vy, h float64 }
	ws := make([]walker, n)
	for i := range ws {
		ws[i] = walker{
			x:  100 + rng.Float64()*1720,
			y:  150 + rng.Float64()*780,
			vx: (rng.Float64()*2 - 1) * 4,
			vy: (rng.Float64()*2 - 1) * 2,
			h:  80 + rng.Float64()*120,
		}
	}
	out := make([][]detectors.Detection, frames)
	for f := range out {
		dets := make([]detectors.Detection, 0, n)
		for i := range ws {
			w := &ws[i]
			w.x += w.vx
			w.y += w.vy
			if w.x < 50 || w.x > 1870 {
				w.vx = -w.vx
			}
			if w.y < 100 || w.y > 980 {
				w.vy = -w.vy
			}
			if rng.IntN(100) < 3 {
				continue
			}
			hw := w.h * 0.2
			j := func() float64 { return rng.NormFloat64() * 2 }
			dets = append(dets, detectors.Detection{
				Box:   geom.Box{X1: w.x - hw + j(), Y1: w.y - w.h/2 + j(), X2: w.x + hw + j(), Y2: w.y + w.h/2 + j()},
				Score: float32(0.5 + 0.45*rng.Float64()),
			})
		}
		out[f] = dets
	}
	return out
}
