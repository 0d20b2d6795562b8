package counting

import (
	"testing"
	"time"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/tracker"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// person returns a confirmed track whose anchor (bottom-centre) is at (x, y).
func person(id uint64, x, y float64) tracker.Track {
	return tracker.Track{
		ID:    id,
		Box:   geom.Box{X1: x - 20, Y1: y - 100, X2: x + 20, Y2: y},
		Score: 0.9,
		State: tracker.Confirmed,
		Hits:  10,
		Age:   10,
	}
}

// obs builds the observation of frame f (10 fps).
func obs(f int64, tracks ...tracker.Track) Observation {
	st := time.Duration(f) * 100 * time.Millisecond
	return Observation{Frame: f, StreamTime: st, Time: t0.Add(st), Tracks: tracks}
}

// walk feeds one track along the anchors, one frame each, then flushes, and
// returns every crossing in order.
func walk(t *testing.T, c *Counter, id uint64, pts []geom.Point) []Crossing {
	t.Helper()
	var all []Crossing
	for i, p := range pts {
		cr, _ := c.Update(obs(int64(i), person(id, p.X, p.Y)))
		all = append(all, cr...)
	}
	return append(all, c.Flush()...)
}

// steps returns n+1 points evenly from a to b, inclusive.
func steps(a, b geom.Point, n int) []geom.Point {
	out := make([]geom.Point, 0, n+1)
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		out = append(out, geom.Point{X: a.X + f*(b.X-a.X), Y: a.Y + f*(b.Y-a.Y)})
	}
	return out
}

func directions(cs []Crossing) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Line+":"+c.Direction)
	}
	return out
}

func mustCounter(t testing.TB, lines []Line, zones []Zone, opts ...Option) *Counter {
	t.Helper()
	c, err := NewCounter(lines, zones, opts...)
	if err != nil {
		t.Fatalf("NewCounter: %v", err)
	}
	return c
}
