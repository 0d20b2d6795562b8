package counting

import (
	"testing"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/tracker"
)

// BenchmarkUpdate measures one frame with 50 people walking across 4 lines
// and 2 zones of a 1920x1080 view.
func BenchmarkUpdate(b *testing.B) {
	lines := []Line{
		{Name: "h1", Seg: geom.Segment{A: pt(0, 300), B: pt(1920, 300)}},
		{Name: "h2", Seg: geom.Segment{A: pt(1920, 700), B: pt(0, 700)}},
		{Name: "v", Seg: geom.Segment{A: pt(960, 0), B: pt(960, 1080)}},
		{Name: "d", Seg: geom.Segment{A: pt(0, 0), B: pt(1920, 1080)}},
	}
	zones := []Zone{
		{Name: "left", Polygon: geom.Polygon{pt(0, 0), pt(900, 0), pt(900, 1080), pt(0, 1080)}},
		{Name: "tri", Polygon: geom.Polygon{pt(1000, 100), pt(1800, 100), pt(1400, 1000)}},
	}
	c := mustCounter(b, lines, zones)
	const people, frames = 50, 200
	obsv := make([]Observation, frames)
	for f := range frames {
		tr := make([]tracker.Track, people)
		for i := range people {
			// Each person walks a diagonal, wrapping at the frame border.
			x := float64((i*37 + f*7) % 1920)
			y := float64((i*53 + f*5) % 1080)
			tr[i] = person(uint64(i+1), x, y)
		}
		obsv[f] = obs(int64(f), tr...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Update(obsv[i%frames])
	}
}
