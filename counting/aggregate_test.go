package counting

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/geom"
)

func aggConfig() ([]Line, []Zone) {
	return []Line{
			{Name: "door", Seg: geom.Segment{A: pt(0, 0), B: pt(10, 0)}, Forward: "in", Backward: "out", Entrance: "in"},
			{Name: "aisle", Seg: geom.Segment{A: pt(0, 0), B: pt(0, 10)}},
		}, []Zone{
			{Name: "till", Polygon: geom.Polygon{pt(0, 0), pt(1, 0), pt(1, 1)}},
		}
}

func mustAggregator(t *testing.T, window time.Duration) *Aggregator {
	t.Helper()
	lines, zones := aggConfig()
	a, err := NewAggregator(lines, zones, window)
	if err != nil {
		t.Fatalf("NewAggregator: %v", err)
	}
	return a
}

func cross(line, dir string, at time.Time) Crossing {
	return Crossing{Line: line, Direction: dir, Time: at}
}

func TestAggregatorWindows(t *testing.T) {
	a := mustAggregator(t, 0)
	var got []Window
	add := func(at time.Duration, occ int, cs ...Crossing) {
		if w, ok := a.Add(t0.Add(at), cs, map[string]int{"till": occ}); ok {
			got = append(got, w)
		}
	}
	// Minute 0: two in, one out on the door, occupancy 1,3,2.
	add(5*time.Second, 1, cross("door", "in", t0.Add(5*time.Second)))
	add(20*time.Second, 3, cross("door", "in", t0.Add(20*time.Second)), cross("door", "out", t0.Add(20*time.Second)))
	add(40*time.Second, 2)
	// Minute 1: frames but no crossings and nobody in the zone.
	add(65*time.Second, 0)
	add(110*time.Second, 0)
	// Minute 2: one aisle crossing, closed by Flush.
	add(125*time.Second, 4, cross("aisle", "backward", t0.Add(125*time.Second)))
	if len(got) != 2 {
		t.Fatalf("%d windows closed before flush, want 2", len(got))
	}
	w, ok := a.Flush(nil)
	if !ok {
		t.Fatal("flush closed nothing")
	}
	got = append(got, w)
	if _, ok := a.Flush(nil); ok {
		t.Error("second flush closed a window")
	}

	type lc struct {
		counts, totals map[string]int
		net            int
	}
	want := []struct {
		door, aisle lc
		max         int
		mean        float64
	}{
		{lc{map[string]int{"in": 2, "out": 1}, map[string]int{"in": 2, "out": 1}, 1},
			lc{map[string]int{"forward": 0, "backward": 0}, map[string]int{"forward": 0, "backward": 0}, 0}, 3, 2},
		{lc{map[string]int{"in": 0, "out": 0}, map[string]int{"in": 2, "out": 1}, 1},
			lc{map[string]int{"forward": 0, "backward": 0}, map[string]int{"forward": 0, "backward": 0}, 0}, 0, 0},
		{lc{map[string]int{"in": 0, "out": 0}, map[string]int{"in": 2, "out": 1}, 1},
			lc{map[string]int{"forward": 0, "backward": 1}, map[string]int{"forward": 0, "backward": 1}, -1}, 4, 4},
	}
	for i, w := range got {
		start := t0.Add(time.Duration(i) * time.Minute)
		if !w.Start.Equal(start) || !w.End.Equal(start.Add(time.Minute)) {
			t.Errorf("window %d: %v..%v, want start %v", i, w.Start, w.End, start)
		}
		if len(w.Lines) != 2 || len(w.Zones) != 1 {
			t.Fatalf("window %d: %d lines, %d zones", i, len(w.Lines), len(w.Zones))
		}
		for j, exp := range []lc{want[i].door, want[i].aisle} {
			l := w.Lines[j]
			if !l.WindowStart.Equal(start) || !l.WindowEnd.Equal(start.Add(time.Minute)) {
				t.Errorf("window %d line %s: bounds %v..%v", i, l.Line, l.WindowStart, l.WindowEnd)
			}
			if !mapsEqual(l.Counts, exp.counts) || !mapsEqual(l.Totals, exp.totals) || l.Net != exp.net {
				t.Errorf("window %d line %s = counts %v totals %v net %d, want %+v", i, l.Line, l.Counts, l.Totals, l.Net, exp)
			}
		}
		z := w.Zones[0]
		if z.Zone != "till" || z.Max != want[i].max || math.Abs(z.Mean-want[i].mean) > 1e-9 {
			t.Errorf("window %d zone = %+v, want max %d mean %g", i, z, want[i].max, want[i].mean)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestAggregatorGapIsNotZero(t *testing.T) {
	a := mustAggregator(t, 0)
	if _, ok := a.Add(t0.Add(10*time.Second), nil, nil); ok {
		t.Fatal("first frame closed a window")
	}
	w, ok := a.Add(t0.Add(5*time.Minute+10*time.Second), nil, nil)
	if !ok || !w.Start.Equal(t0) {
		t.Fatalf("closed %v %v, want the 10:00 window", ok, w.Start)
	}
	w, ok = a.Flush(nil)
	if !ok || !w.Start.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("flush %v %v, want the 10:05 window (no windows for the gap)", ok, w.Start)
	}
}

func TestAggregatorLateCrossings(t *testing.T) {
	a := mustAggregator(t, 0)
	// Reported in the first frame but happened before the first window:
	// counted in the open window rather than dropped.
	a.Add(t0.Add(30*time.Second), []Crossing{cross("door", "in", t0.Add(-20*time.Second))}, nil)
	// Happened at 10:00:59, confirmed at 10:01:01: belongs to minute 0.
	// Happened at 10:01:00.5, same frame: minute 1.
	w, ok := a.Add(t0.Add(61*time.Second), []Crossing{
		cross("door", "in", t0.Add(59*time.Second)),
		cross("door", "out", t0.Add(60500*time.Millisecond)),
		cross("nope", "in", t0.Add(59*time.Second)), // unknown line: ignored
	}, nil)
	if !ok {
		t.Fatal("window 0 not closed")
	}
	if w.Lines[0].Counts["in"] != 2 || w.Lines[0].Counts["out"] != 0 {
		t.Errorf("window 0 door = %v, want in 2 out 0", w.Lines[0].Counts)
	}
	// A crossing from minute 0 reported once minute 0 has closed.
	a.Add(t0.Add(70*time.Second), []Crossing{cross("door", "out", t0.Add(50*time.Second))}, nil)
	w, _ = a.Flush(nil)
	if w.Lines[0].Counts["out"] != 2 || w.Lines[0].Totals["in"] != 2 || w.Lines[0].Totals["out"] != 2 || w.Lines[0].Net != 0 {
		t.Errorf("window 1 door = %+v", w.Lines[0])
	}
}

func TestAggregatorCustomWindow(t *testing.T) {
	a := mustAggregator(t, 15*time.Minute)
	a.Add(t0.Add(14*time.Minute), nil, nil)
	if _, ok := a.Add(t0.Add(14*time.Minute+59*time.Second), nil, nil); ok {
		t.Fatal("closed early")
	}
	w, ok := a.Add(t0.Add(15*time.Minute), nil, nil)
	if !ok || !w.Start.Equal(t0) || !w.End.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("window = %v..%v (%v)", w.Start, w.End, ok)
	}
}

func TestAggregatorJSON(t *testing.T) {
	a := mustAggregator(t, 0)
	a.Add(t0.Add(time.Second), []Crossing{cross("door", "in", t0.Add(time.Second))}, map[string]int{"till": 1})
	w, _ := a.Flush(nil)
	b, err := json.Marshal(w.Lines[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"line":"door","window_start":"2024-05-01T10:00:00Z","window_end":"2024-05-01T10:01:00Z","counts":{"in":1,"out":0},"totals":{"in":1,"out":0},"net":1,"entrance_direction":"in"}`
	if string(b) != want {
		t.Errorf("line count json\n got %s\nwant %s", b, want)
	}
	// A line that is not an entrance says nothing about entrances.
	b, err = json.Marshal(w.Lines[1])
	if err != nil {
		t.Fatal(err)
	}
	want = `{"line":"aisle","window_start":"2024-05-01T10:00:00Z","window_end":"2024-05-01T10:01:00Z","counts":{"backward":0,"forward":0},"totals":{"backward":0,"forward":0},"net":0}`
	if string(b) != want {
		t.Errorf("non-entrance line count json\n got %s\nwant %s", b, want)
	}
	b, err = json.Marshal(w.Zones[0])
	if err != nil {
		t.Fatal(err)
	}
	want = `{"zone":"till","window_start":"2024-05-01T10:00:00Z","window_end":"2024-05-01T10:01:00Z","max":1,"mean":1,"frames":1}`
	if string(b) != want {
		t.Errorf("zone json\n got %s\nwant %s", b, want)
	}
}

func TestNewAggregatorValidates(t *testing.T) {
	_, err := NewAggregator([]Line{{Name: "a"}}, nil, 0)
	if err == nil || !strings.Contains(err.Error(), "degenerate") {
		t.Fatalf("err = %v", err)
	}
}

func TestAggregatorFlushCountsFinalCrossings(t *testing.T) {
	a := mustAggregator(t, 0)
	a.Add(t0.Add(10*time.Second), nil, map[string]int{"till": 2})
	w, ok := a.Flush([]Crossing{cross("door", "out", t0.Add(9*time.Second))})
	if !ok || w.Lines[0].Counts["out"] != 1 || w.Lines[0].Net != -1 || w.Zones[0].Mean != 2 || w.Zones[0].Frames != 1 {
		t.Fatalf("flush = %v %+v", ok, w)
	}
	// Nothing open, but a final crossing still gets a window of its own.
	w, ok = a.Flush([]Crossing{cross("door", "in", t0.Add(95*time.Second))})
	if !ok || !w.Start.Equal(t0.Add(time.Minute)) || w.Lines[0].Counts["in"] != 1 || w.Lines[0].Totals["out"] != 1 || w.Zones[0].Frames != 0 {
		t.Fatalf("second flush = %v %+v", ok, w)
	}
	if _, ok := a.Flush(nil); ok {
		t.Fatal("empty flush closed a window")
	}
}

// TestCounterToAggregator wires the two as the pipeline does.
func TestCounterToAggregator(t *testing.T) {
	lines := []Line{{Name: "door", Seg: geom.Segment{A: pt(0, 100), B: pt(200, 100)}, Forward: "in", Backward: "out"}}
	zones := []Zone{{Name: "inside", Polygon: geom.Polygon{pt(0, 100), pt(200, 100), pt(200, 300), pt(0, 300)}}}
	c := mustCounter(t, lines, zones)
	a, err := NewAggregator(c.Lines(), zones, 0)
	if err != nil {
		t.Fatal(err)
	}
	var windows []Window
	// 10 fps for 90 s: one person walks in during minute 0, a second one
	// walks in at the very end and the stream stops while they are on the
	// far side, pending confirmation.
	for f := range int64(900) {
		o := obs(f)
		switch {
		case f < 20:
			o.Tracks = append(o.Tracks, person(1, 100, 40+float64(f)*8))
		case f < 600:
			o.Tracks = append(o.Tracks, person(1, 100, 200))
		}
		if f >= 895 {
			// Only the last frame is past the band.
			o.Tracks = append(o.Tracks, person(2, 50, []float64{90, 95, 100, 105, 112}[f-895]))
		}
		cs, occ := c.Update(o)
		if f >= 895 && len(cs) != 0 {
			t.Fatalf("frame %d: person 2 confirmed before the end: %v", f, cs)
		}
		if w, ok := a.Add(o.Time, cs, occ); ok {
			windows = append(windows, w)
		}
	}
	w, ok := a.Flush(c.Flush())
	if !ok {
		t.Fatal("nothing flushed")
	}
	windows = append(windows, w)
	if len(windows) != 2 {
		t.Fatalf("%d windows, want 2", len(windows))
	}
	if got := windows[0].Lines[0].Counts["in"]; got != 1 {
		t.Errorf("minute 0 in = %d", got)
	}
	if got := windows[1].Lines[0]; got.Counts["in"] != 1 || got.Net != 2 {
		t.Errorf("minute 1 = %+v", got)
	}
	if z := windows[0].Zones[0]; z.Max != 1 || z.Frames != 600 {
		t.Errorf("minute 0 zone = %+v", z)
	}
}

// The LineCount the aggregator emits, entrance included, is valid line_count
// event data: the schema is what consumers code against.
func TestLineCountMatchesSchema(t *testing.T) {
	a := mustAggregator(t, 0)
	a.Add(t0.Add(time.Second), []Crossing{cross("door", "in", t0.Add(time.Second))}, nil)
	w, _ := a.Flush(nil)
	for _, lc := range w.Lines {
		e, err := events.NewEnvelope(events.ID("test", lc.Line), events.TypeLineCount, events.Store{ID: "s1"}, "cam-0", lc.WindowEnd, lc)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := events.CheckSchemas(raw); err != nil {
			t.Errorf("line %s: %v\n%s", lc.Line, err, raw)
		}
	}
	// The schema really constrains the field: a number is rejected.
	e, err := events.NewEnvelope(events.ID("test", "bad"), events.TypeLineCount, events.Store{ID: "s1"}, "cam-0", t0,
		map[string]any{"line": "door", "window_start": t0, "window_end": t0, "counts": map[string]int{}, "totals": map[string]int{}, "net": 0, "entrance_direction": 1})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(e)
	if err := events.CheckSchemas(raw); err == nil || !strings.Contains(err.Error(), "entrance_direction") {
		t.Errorf("entrance_direction 1: err = %v, want a violation naming the field", err)
	}
}

func TestAggregatorCarriesEntrance(t *testing.T) {
	lines := []Line{
		{Name: "front", Seg: geom.Segment{A: pt(0, 0), B: pt(10, 0)}, Forward: "in", Backward: "out", Entrance: "in"},
		// Drawn the other way round: people enter going backward.
		{Name: "back", Seg: geom.Segment{A: pt(10, 0), B: pt(0, 0)}, Entrance: DefaultBackward},
		{Name: "aisle", Seg: geom.Segment{A: pt(0, 0), B: pt(0, 10)}},
	}
	a, err := NewAggregator(lines, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.Add(t0, []Crossing{cross("front", "in", t0), cross("back", DefaultBackward, t0), cross("back", DefaultBackward, t0)}, nil)
	w, ok := a.Flush(nil)
	if !ok {
		t.Fatal("no window")
	}
	for i, want := range []struct {
		dir     string
		entries int
	}{{"in", 1}, {DefaultBackward, 2}, {"", 0}} {
		lc := w.Lines[i]
		if lc.EntranceDirection != want.dir {
			t.Errorf("%s: entrance direction %q, want %q", lc.Line, lc.EntranceDirection, want.dir)
		}
		if want.dir != "" && lc.Counts[lc.EntranceDirection] != want.entries {
			t.Errorf("%s: entries %d, want %d", lc.Line, lc.Counts[lc.EntranceDirection], want.entries)
		}
	}
}
