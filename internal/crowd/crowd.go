// Package crowd makes synthetic detections of people walking about, the
// load that tracker benchmarks measure.
package crowd

import (
	"math/rand/v2"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
)

// Walk simulates n people of varied size walking at varied speeds inside a
// 1920×1080 view, bouncing off its edges (so paths cross), seen by a
// detector with ~2 px box jitter, varied scores and 3% misses. The same
// seed gives the same detections, so benchmarks in different packages
// (tracker's and `storesight bench`) measure the same load.
func Walk(n, frames int, seed uint64) [][]detectors.Detection {
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
