package counting

import (
	"slices"
	"strings"
	"testing"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/tracker"
)

func pt(x, y float64) geom.Point { return geom.Point{X: x, Y: y} }

func TestDirectionByOrientation(t *testing.T) {
	cases := []struct {
		name     string
		seg      geom.Segment
		from, to geom.Point
		want     string
	}{
		// Horizontal drawn left to right: positive (forward) side is below.
		{"horizontal, moving down", geom.Segment{A: pt(0, 100), B: pt(200, 100)}, pt(100, 50), pt(100, 150), "in"},
		{"horizontal, moving up", geom.Segment{A: pt(0, 100), B: pt(200, 100)}, pt(100, 150), pt(100, 50), "out"},
		{"horizontal reversed, moving down", geom.Segment{A: pt(200, 100), B: pt(0, 100)}, pt(100, 50), pt(100, 150), "out"},
		// Vertical drawn downwards: turned clockwise it points left.
		{"vertical down, moving left", geom.Segment{A: pt(100, 0), B: pt(100, 200)}, pt(150, 100), pt(50, 100), "in"},
		{"vertical down, moving right", geom.Segment{A: pt(100, 0), B: pt(100, 200)}, pt(50, 100), pt(150, 100), "out"},
		{"vertical up, moving right", geom.Segment{A: pt(100, 200), B: pt(100, 0)}, pt(50, 100), pt(150, 100), "in"},
		// Diagonal top-left to bottom-right: forward side is bottom-left.
		{"diagonal, to bottom-left", geom.Segment{A: pt(0, 0), B: pt(200, 200)}, pt(150, 50), pt(50, 150), "in"},
		{"diagonal, to top-right", geom.Segment{A: pt(0, 0), B: pt(200, 200)}, pt(50, 150), pt(150, 50), "out"},
		{"diagonal reversed, to bottom-left", geom.Segment{A: pt(200, 200), B: pt(0, 0)}, pt(150, 50), pt(50, 150), "out"},
		{"anti-diagonal, to bottom-right", geom.Segment{A: pt(0, 200), B: pt(200, 0)}, pt(50, 50), pt(150, 150), "in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCounter(t, []Line{{Name: "door", Seg: tc.seg, Forward: "in", Backward: "out"}}, nil)
			got := walk(t, c, 7, steps(tc.from, tc.to, 10))
			if len(got) != 1 || got[0].Direction != tc.want {
				t.Fatalf("crossings = %v, want one %q", directions(got), tc.want)
			}
			if got[0].Line != "door" || got[0].TrackID != 7 {
				t.Errorf("crossing = %+v", got[0])
			}
			tot := c.Totals()["door"]
			if tot[tc.want] != 1 || tot["in"]+tot["out"] != 1 {
				t.Errorf("totals = %v", tot)
			}
		})
	}
}

// TestHysteresis walks one person at x=100 past a horizontal line y=100
// (band 8, confirm 2); each value is the signed distance from the line
// (positive below, the forward side). The stream is flushed at the end, so
// the expectation includes pending crossings.
func TestHysteresis(t *testing.T) {
	cases := []struct {
		name    string
		confirm int
		dist    []float64
		want    []string
	}{
		{"clean crossing", 0, []float64{-40, -20, 0, 20, 40}, []string{"l:in"}},
		{"jitter then real crossing", 0, []float64{-30, -20, -5, 3, -9, 10, -4, 9, 2, 12, 20, 30}, []string{"l:in"}},
		{"jitter without crossing", 0, []float64{-30, -20, -5, 3, -9, 10, -4, 9, -12, -30}, nil},
		{"flicker on the line after crossing", 0, []float64{-30, 20, 30, 5, -5, 9, -3, 4, -7, 30}, []string{"l:in"}},
		{"one frame back beyond the band after crossing", 0, []float64{-30, 20, 30, -9, 20, 30}, []string{"l:in"}},
		{"stands on the line", 0, []float64{-30, -6, 0, 5, -3, 7, 1, -8, 0}, nil},
		{"steps onto the line and turns back", 0, []float64{-30, -15, -5, 0, 6, -6, -20}, nil},
		{"one frame over then back", 0, []float64{-30, -15, 15, -15, -30}, nil},
		{"one frame over then back, confirm 1", 1, []float64{-30, -15, 15, -15, -30}, []string{"l:in", "l:out"}},
		{"crosses and comes back", 0, []float64{-30, -15, 15, 25, 10, -10, -25}, []string{"l:in", "l:out"}},
		{"crosses, comes back, crosses again", 0, []float64{-30, 15, 25, -10, -25, 10, 25}, []string{"l:in", "l:out", "l:in"}},
		{"first seen in the band", 0, []float64{0, 3, 20, 30, 40}, nil},
		{"first seen in the band, then really crosses", 0, []float64{0, 3, 20, 30, -20, -30}, []string{"l:out"}},
		{"one side only", 0, []float64{-60, -40, -20, -10, -30}, nil},
		{"confirm 3 needs three consecutive frames", 3, []float64{-30, 20, 30, 4, 20, 30, -30}, nil},
		{"confirm 3 satisfied", 3, []float64{-30, 20, 30, 4, 20, 30, 40}, []string{"l:in"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCounter(t, []Line{{Name: "l", Seg: geom.Segment{A: pt(0, 100), B: pt(200, 100)},
				Forward: "in", Backward: "out", ConfirmFrames: tc.confirm}}, nil)
			pts := make([]geom.Point, len(tc.dist))
			for i, d := range tc.dist {
				pts[i] = pt(100, 100+d)
			}
			if got := directions(walk(t, c, 1, pts)); !slices.Equal(got, tc.want) {
				t.Fatalf("crossings = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCrossingReportsFarSideObservation(t *testing.T) {
	c := mustCounter(t, []Line{{Name: "l", Seg: geom.Segment{A: pt(0, 100), B: pt(200, 100)}}}, nil)
	var got []Crossing
	for i, y := range []float64{60, 80, 100, 120, 140} {
		tr := person(3, 100, y)
		tr.Score = float32(i) / 10
		cr, _ := c.Update(obs(int64(i), tr))
		if len(cr) > 0 && i != 4 {
			t.Fatalf("reported at frame %d, want at frame 4 (second far-side frame)", i)
		}
		got = append(got, cr...)
	}
	if len(got) != 1 {
		t.Fatalf("got %d crossings", len(got))
	}
	want := obs(3)
	g := got[0]
	if g.Frame != 3 || g.StreamTime != want.StreamTime || !g.Time.Equal(want.Time) ||
		g.Point != pt(100, 120) || g.Score != 0.3 || g.Direction != DefaultForward {
		t.Errorf("crossing = %+v", g)
	}
}

func TestFrameEdgeLine(t *testing.T) {
	// A 1920x1080 camera with a line 10 px above the bottom border: the
	// anchor of a clipped box can get at most 10 px past it, and the person
	// is gone on the next frame.
	line := Line{Name: "exit", Seg: geom.Segment{A: pt(0, 1070), B: pt(1920, 1070)}, Forward: "out", Backward: "in"}
	clipped := func(id uint64, y float64) tracker.Track {
		tr := person(id, 900, y)
		tr.Box = tr.Box.Clip(1920, 1080)
		return tr
	}
	path := []float64{1000, 1030, 1055, 1066, 1075, 1095} // last one is clipped to 1080

	t.Run("counted when forgotten", func(t *testing.T) {
		c := mustCounter(t, []Line{line}, nil, WithForgetAfter(5))
		var f int64
		for _, y := range path {
			if cr, _ := c.Update(obs(f, clipped(1, y))); len(cr) != 0 {
				t.Fatalf("frame %d: early crossing %v", f, cr)
			}
			f++
		}
		var got []Crossing
		for range 6 {
			cr, _ := c.Update(obs(f))
			if len(cr) > 0 && f != int64(len(path))+5 {
				t.Errorf("reported at frame %d, want after 5 absent updates", f)
			}
			got = append(got, cr...)
			f++
		}
		if len(got) != 1 || got[0].Direction != "out" || got[0].Frame != int64(len(path))-1 || got[0].Point.Y != 1080 {
			t.Fatalf("crossings = %+v, want one 'out' at the last seen frame", got)
		}
		if c.Tracks() != 0 {
			t.Errorf("%d tracks still remembered", c.Tracks())
		}
		if n := c.Totals()["exit"]["out"]; n != 1 {
			t.Errorf("total out = %d", n)
		}
	})
	t.Run("counted on flush", func(t *testing.T) {
		c := mustCounter(t, []Line{line}, nil)
		for i, y := range path {
			c.Update(obs(int64(i), clipped(1, y)))
		}
		if got := directions(c.Flush()); !slices.Equal(got, []string{"exit:out"}) {
			t.Fatalf("flush = %v", got)
		}
		if got := c.Flush(); len(got) != 0 {
			t.Fatalf("second flush = %v", got)
		}
	})
	t.Run("vanishing in the band is not counted", func(t *testing.T) {
		c := mustCounter(t, []Line{line}, nil, WithForgetAfter(2))
		for i, y := range path[:5] { // last seen at 1075: inside the band
			c.Update(obs(int64(i), clipped(1, y)))
		}
		var got []Crossing
		for i := range 5 {
			cr, _ := c.Update(obs(int64(10 + i)))
			got = append(got, cr...)
		}
		if got = append(got, c.Flush()...); len(got) != 0 {
			t.Fatalf("crossings = %v", got)
		}
	})
}

func TestUnconfirmedTracksIgnored(t *testing.T) {
	for _, st := range []tracker.State{tracker.Tentative, tracker.Lost, tracker.Removed} {
		t.Run(st.String(), func(t *testing.T) {
			c := mustCounter(t,
				[]Line{{Name: "l", Seg: geom.Segment{A: pt(0, 100), B: pt(200, 100)}}},
				[]Zone{{Name: "z", Polygon: geom.Polygon{pt(0, 0), pt(200, 0), pt(200, 200), pt(0, 200)}}})
			for i, p := range steps(pt(100, 40), pt(100, 160), 8) {
				tr := person(1, p.X, p.Y)
				tr.State = st
				cr, occ := c.Update(obs(int64(i), tr))
				if len(cr) != 0 || occ["z"] != 0 {
					t.Fatalf("frame %d: crossings %v occupancy %v", i, cr, occ)
				}
			}
			if c.Tracks() != 0 {
				t.Errorf("remembered %d tracks", c.Tracks())
			}
			if got := c.Flush(); len(got) != 0 {
				t.Errorf("flush = %v", got)
			}
		})
	}
	t.Run("unconfirmed observations do not confirm a crossing", func(t *testing.T) {
		c := mustCounter(t, []Line{{Name: "l", Seg: geom.Segment{A: pt(0, 100), B: pt(200, 100)}}}, nil)
		c.Update(obs(0, person(1, 100, 60)))
		c.Update(obs(1, person(1, 100, 130)))
		lost := person(1, 100, 140)
		lost.State = tracker.Lost
		if cr, _ := c.Update(obs(2, lost)); len(cr) != 0 {
			t.Fatalf("a lost observation confirmed %v", cr)
		}
		if cr, _ := c.Update(obs(3, person(1, 100, 150))); len(cr) != 1 {
			t.Fatalf("confirmed observation: crossings %v, want 1", cr)
		}
	})
}

func TestSegmentExtent(t *testing.T) {
	// Segment from x=100 to x=300 on y=100; band 8 gives 8 px tolerance.
	line := Line{Name: "l", Seg: geom.Segment{A: pt(100, 100), B: pt(300, 100)}, Forward: "in", Backward: "out"}
	cases := []struct {
		name string
		pts  []geom.Point
		want []string
	}{
		{"walks around the end", steps(pt(350, 50), pt(350, 150), 10), nil},
		{"walks around the start", steps(pt(60, 150), pt(60, 50), 10), nil},
		{"around the end, then back over the segment",
			append(steps(pt(350, 50), pt(350, 150), 10), steps(pt(200, 150), pt(200, 50), 10)...), []string{"l:out"}},
		{"just inside the tolerance", steps(pt(306, 50), pt(306, 150), 10), []string{"l:in"}},
		{"just outside the tolerance", steps(pt(310, 50), pt(310, 150), 10), nil},
		// The anchors themselves are beyond the end on the far side, but the
		// path met the line within the segment.
		{"diagonal over the end", steps(pt(270, 40), pt(330, 160), 6), []string{"l:in"}},
		{"diagonal missing the end", steps(pt(310, 40), pt(350, 160), 6), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCounter(t, []Line{line}, nil)
			if got := directions(walk(t, c, 1, tc.pts)); !slices.Equal(got, tc.want) {
				t.Fatalf("crossings = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestManyTracksAndLines(t *testing.T) {
	lines := []Line{
		{Name: "a", Seg: geom.Segment{A: pt(0, 100), B: pt(400, 100)}, Forward: "in", Backward: "out"},
		{Name: "b", Seg: geom.Segment{A: pt(0, 200), B: pt(400, 200)}},
	}
	c := mustCounter(t, lines, nil)
	var got []Crossing
	for f := range int64(25) {
		y := 50 + float64(f)*10 // 50..290
		// Track 2 moves down, track 1 up (it starts below both lines).
		cr, _ := c.Update(obs(f, person(2, 100, y), person(1, 300, 290-float64(f)*10)))
		got = append(got, cr...)
	}
	got = append(got, c.Flush()...)
	want := []string{"a:in", "b:backward", "b:forward", "a:out"}
	if d := directions(got); !slices.Equal(d, want) {
		t.Fatalf("crossings = %v, want %v", d, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Frame < got[i-1].Frame {
			t.Errorf("crossings not in frame order: %v", got)
		}
	}
	tot := c.Totals()
	if tot["a"]["in"] != 1 || tot["a"]["out"] != 1 || tot["b"]["forward"] != 1 || tot["b"]["backward"] != 1 {
		t.Errorf("totals = %v", tot)
	}
}

func TestForgetDropsState(t *testing.T) {
	c := mustCounter(t, []Line{{Name: "l", Seg: geom.Segment{A: pt(0, 100), B: pt(200, 100)}}}, nil, WithForgetAfter(3))
	c.Update(obs(0, person(1, 100, 50), person(2, 150, 50)))
	for f := int64(1); f <= 3; f++ {
		c.Update(obs(f, person(2, 150, 50)))
		if c.Tracks() != 2 {
			t.Fatalf("update %d: %d tracks, want 2", f, c.Tracks())
		}
	}
	c.Update(obs(4, person(2, 150, 50)))
	if c.Tracks() != 1 {
		t.Fatalf("after 4 absent updates: %d tracks, want 1", c.Tracks())
	}
}

func TestZoneOccupancy(t *testing.T) {
	zones := []Zone{
		{Name: "till", Polygon: geom.Polygon{pt(0, 0), pt(100, 0), pt(100, 100), pt(0, 100)}},
		{Name: "tri", Polygon: geom.Polygon{pt(100, 100), pt(300, 100), pt(100, 300)}},
		{Name: "empty", Polygon: geom.Polygon{pt(500, 500), pt(600, 500), pt(600, 600)}},
	}
	c := mustCounter(t, nil, zones)
	tentative := person(9, 50, 50)
	tentative.State = tracker.Tentative
	_, occ := c.Update(obs(0,
		person(1, 50, 50),   // till
		person(2, 90, 95),   // till (box body outside, feet inside)
		person(3, 150, 150), // tri
		person(4, 250, 250), // outside the triangle, inside its bounds
		person(5, 700, 700), // nowhere
		tentative,           // ignored
	))
	want := map[string]int{"till": 2, "tri": 1, "empty": 0}
	for k, v := range want {
		if occ[k] != v {
			t.Errorf("occupancy[%s] = %d, want %d (all %v)", k, occ[k], v, occ)
		}
	}
	if len(occ) != len(want) {
		t.Errorf("occupancy has %d zones, want %d", len(occ), len(want))
	}
	_, occ = c.Update(obs(1))
	if occ["till"] != 0 || occ["tri"] != 0 {
		t.Errorf("empty frame occupancy = %v", occ)
	}
}

func TestNewCounterValidation(t *testing.T) {
	seg := geom.Segment{A: pt(0, 0), B: pt(10, 0)}
	sq := geom.Polygon{pt(0, 0), pt(1, 0), pt(1, 1)}
	cases := []struct {
		name  string
		lines []Line
		zones []Zone
		opts  []Option
		want  string
	}{
		{"unnamed line", []Line{{Seg: seg}}, nil, nil, "no name"},
		{"duplicate lines", []Line{{Name: "a", Seg: seg}, {Name: "a", Seg: seg}}, nil, nil, `duplicate line name "a"`},
		{"degenerate", []Line{{Name: "a", Seg: geom.Segment{A: pt(5, 5), B: pt(5, 5)}}}, nil, nil, "degenerate"},
		{"same direction names", []Line{{Name: "a", Seg: seg, Forward: "x", Backward: "x"}}, nil, nil, "both named"},
		{"default direction clash", []Line{{Name: "a", Seg: seg, Backward: "forward"}}, nil, nil, "both named"},
		{"negative band", []Line{{Name: "a", Seg: seg, Band: -1}}, nil, nil, "band"},
		{"negative confirm", []Line{{Name: "a", Seg: seg, ConfirmFrames: -1}}, nil, nil, "confirm"},
		{"two-point zone", nil, []Zone{{Name: "z", Polygon: sq[:2]}}, nil, "at least 3"},
		{"unnamed zone", nil, []Zone{{Polygon: sq}}, nil, "no name"},
		{"duplicate zones", nil, []Zone{{Name: "z", Polygon: sq}, {Name: "z", Polygon: sq}}, nil, `duplicate zone name "z"`},
		{"forget after 0", nil, nil, []Option{WithForgetAfter(0)}, "forget after"},
		{"entrance not a direction", []Line{{Name: "a", Seg: seg, Forward: "in", Backward: "out", Entrance: "forward"}}, nil, nil, `entrance "forward" is neither direction`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCounter(tc.lines, tc.zones, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
	c, err := NewCounter([]Line{{Name: "a", Seg: seg}}, []Zone{{Name: "a", Polygon: sq}})
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	l := c.Lines()[0]
	if l.Band != DefaultBand || l.ConfirmFrames != DefaultConfirmFrames || l.Forward != DefaultForward || l.Backward != DefaultBackward {
		t.Errorf("defaults not applied: %+v", l)
	}
	// The entrance is checked against the direction names after defaults.
	if _, err := NewCounter([]Line{{Name: "a", Seg: seg, Entrance: DefaultForward}}, nil); err != nil {
		t.Errorf("entrance naming a default direction: %v", err)
	}
}
