package accuracy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/geom"
)

// vtestLines are the two lines of configs/vtest.yml: leftward is forward.
func vtestLines() []counting.Line {
	return []counting.Line{
		{Name: "west", Seg: geom.Segment{A: geom.Point{X: 300, Y: 150}, B: geom.Point{X: 300, Y: 340}}, Forward: "leftward", Backward: "rightward"},
		{Name: "east", Seg: geom.Segment{A: geom.Point{X: 560, Y: 120}, B: geom.Point{X: 560, Y: 440}}, Forward: "leftward", Backward: "rightward"},
	}
}

// walker returns gt rows of one person whose feet (box bottom centre) are
// at xs[i], y=250, in frames first, first+1, ...
func walker(id, first int, xs []float64, consider, class int) []Row {
	rows := make([]Row, len(xs))
	for i, x := range xs {
		rows[i] = Row{Frame: first + i, ID: id, Box: geom.Box{X1: x - 10, Y1: 200, X2: x + 10, Y2: 250}, Conf: float64(consider), Class: class, Visibility: 1}
	}
	return rows
}

// TestGTCrossings runs the production Counter (band 8 px, 2 confirming
// frames) over hand-made tracks across the west line (x=300). A crossing
// is dated at the first frame the feet are beyond the band (x > 308 going
// right, x < 292 going left).
//
//	id 1: 250 -> 340 in 10 px steps, frames 1-10: x=310 at frame 7 -> rightward, 7
//	id 2: 350 -> 290 leftward, frames 1-7, then gone: only one frame beyond
//	      the band, counted when the track is finalised -> leftward, 7
//	id 3: 320 310 305 300 295 305 315: never beyond the band on the far
//	      side (292) -> nothing
//	id 4: 280 at frames 1-3, unseen 4-10 (empty frames in between), 330 at
//	      frames 11-13 -> rightward, 11
//	id 5: consider=0 pedestrian crossing leftward 320 -> 280, frames 1-5:
//	      counted (x=290 at frame 4)
//	id 6: class 7 (static person) crossing: left out
func TestGTCrossings(t *testing.T) {
	var gt []Row
	gt = append(gt, walker(1, 1, []float64{250, 260, 270, 280, 290, 300, 310, 320, 330, 340}, 1, 1)...)
	gt = append(gt, walker(2, 1, []float64{350, 340, 330, 320, 310, 300, 290}, 1, 1)...)
	gt = append(gt, walker(3, 1, []float64{320, 310, 305, 300, 295, 305, 315}, 1, 1)...)
	gt = append(gt, walker(4, 1, []float64{280, 280, 280}, 1, 1)...)
	gt = append(gt, walker(4, 11, []float64{330, 330, 330}, 1, 1)...)
	gt = append(gt, walker(5, 1, []float64{320, 310, 300, 290, 280}, 0, 1)...)
	gt = append(gt, walker(6, 1, []float64{250, 270, 290, 310, 330, 350}, 1, 7)...)
	got, err := GTCrossings(gt, vtestLines())
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Line: "west", Direction: "leftward", Frame: 4, TrackID: 5},
		{Line: "west", Direction: "rightward", Frame: 7, TrackID: 1},
		{Line: "west", Direction: "leftward", Frame: 7, TrackID: 2},
		{Line: "west", Direction: "rightward", Frame: 11, TrackID: 4},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestGTCrossingsErrors(t *testing.T) {
	dup := append(walker(1, 1, []float64{250}, 1, 1), walker(1, 1, []float64{260}, 1, 1)...)
	if _, err := GTCrossings(dup, vtestLines()); err == nil || !strings.Contains(err.Error(), "twice in frame 1") {
		t.Errorf("duplicate id: %v", err)
	}
	bad := []counting.Line{{Name: "x", Seg: geom.Segment{}}}
	if _, err := GTCrossings(nil, bad); err == nil {
		t.Error("degenerate line accepted")
	}
}

// TestEvaluateCounting, tolerance 3 frames:
//
//	west leftward  gt 10, 50; pred 11, 13, 30, 53
//	    10-11 (dt 1) and 50-53 (dt 3, the edge) match; 13 is a double count
//	    of 10; 30 is west rightward counted the wrong way: TP 2, FP 2, FN 0
//	west rightward gt 30; no pred: FN 1, Precision 1 (nothing predicted)
//	east leftward  gt 100; pred 104 (dt 4, just outside): FP 1, FN 1
//	east rightward gt 200, 204; pred 203, 207: nearest-first would pair
//	    204-203 and leave 200 and 207 apart (dt 7); the most matches is
//	    200-203 + 204-207: TP 2
//
// Total: GT 6, Pred 7, TP 4, FP 3, FN 2: Precision 4/7, Recall 4/6,
// F1 2*(4/7)*(4/6)/(4/7+4/6) = 8/13.
func TestEvaluateCounting(t *testing.T) {
	ev := func(line, dir string, frames ...int) []Event {
		var out []Event
		for _, f := range frames {
			out = append(out, Event{Line: line, Direction: dir, Frame: f})
		}
		return out
	}
	var gt, pred []Event
	gt = append(gt, ev("west", "leftward", 10, 50)...)
	gt = append(gt, ev("west", "rightward", 30)...)
	gt = append(gt, ev("east", "leftward", 100)...)
	gt = append(gt, ev("east", "rightward", 200, 204)...)
	pred = append(pred, ev("west", "leftward", 53, 13, 30, 11)...)
	pred = append(pred, ev("east", "leftward", 104)...)
	pred = append(pred, ev("east", "rightward", 207, 203)...)

	m := EvaluateCounting(gt, pred, 3)
	want := []CountScore{
		{Line: "east", Direction: "leftward", GT: 1, Pred: 1, TP: 0, FP: 1, FN: 1, Precision: 0, Recall: 0, F1: 0},
		{Line: "east", Direction: "rightward", GT: 2, Pred: 2, TP: 2, FP: 0, FN: 0, Precision: 1, Recall: 1, F1: 1},
		{Line: "west", Direction: "leftward", GT: 2, Pred: 4, TP: 2, FP: 2, FN: 0, Precision: 0.5, Recall: 1, F1: 2.0 / 3},
		{Line: "west", Direction: "rightward", GT: 1, Pred: 0, TP: 0, FP: 0, FN: 1, Precision: 1, Recall: 0, F1: 0},
	}
	if len(m.PerLine) != len(want) {
		t.Fatalf("per line: %+v", m.PerLine)
	}
	for i, w := range want {
		g := m.PerLine[i]
		if g.Line != w.Line || g.Direction != w.Direction || g.GT != w.GT || g.Pred != w.Pred || g.TP != w.TP || g.FP != w.FP || g.FN != w.FN ||
			!near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) {
			t.Errorf("per line %d:\n got  %+v\n want %+v", i, g, w)
		}
	}
	tot := m.Total
	if tot.Line != "all" || tot.GT != 6 || tot.Pred != 7 || tot.TP != 4 || tot.FP != 3 || tot.FN != 2 ||
		!near(tot.Precision, 4.0/7) || !near(tot.Recall, 4.0/6) || !near(tot.F1, 8.0/13) || m.Tolerance != 3 {
		t.Errorf("total %+v tolerance %d", tot, m.Tolerance)
	}
}

func TestEvaluateCountingEdges(t *testing.T) {
	e := func(f int) Event { return Event{Line: "west", Direction: "leftward", Frame: f} }
	// Tolerance 0: only the same frame; a negative tolerance means 0.
	for _, tol := range []int{0, -2} {
		m := EvaluateCounting([]Event{e(5), e(9)}, []Event{e(5), e(10)}, tol)
		if m.Total.TP != 1 || m.Total.FP != 1 || m.Total.FN != 1 || m.Tolerance != 0 {
			t.Errorf("tolerance %d: %+v (tolerance %d)", tol, m.Total, m.Tolerance)
		}
	}
	// Two predictions for one crossing within tolerance: one hit, one
	// double count.
	m := EvaluateCounting([]Event{e(20)}, []Event{e(20), e(21)}, 3)
	if m.Total.TP != 1 || m.Total.FP != 1 || m.Total.FN != 0 {
		t.Errorf("double count: %+v", m.Total)
	}
	// Nothing to count and nothing counted: perfect, not NaN.
	m = EvaluateCounting(nil, nil, 3)
	if len(m.PerLine) != 0 || m.Total.Precision != 1 || m.Total.Recall != 1 || m.Total.F1 != 1 {
		t.Errorf("empty: %+v", m)
	}
}

// TestReadCrossingsCSV reads the hand-labelled crossings of the vtest video
// (quoted descriptions with commas, extra columns).
func TestReadCrossingsCSV(t *testing.T) {
	events, err := ReadCrossingsCSV(filepath.Join("..", "testdata", "vtest", "crossings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 60 {
		t.Errorf("%d events, want 60", len(events))
	}
	if events[0] != (Event{Line: "west", Direction: "rightward", Frame: 4}) {
		t.Errorf("first event %+v", events[0])
	}
	count := map[string]int{}
	for _, e := range events {
		count[e.Line+" "+e.Direction]++
	}
	if count["east leftward"] != 18 || count["east rightward"] != 15 || count["west leftward"] != 15 || count["west rightward"] != 12 {
		t.Errorf("per line and direction: %v", count)
	}
}

func TestReadCrossingsCSVErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ text, want string }{
		{"", ": empty file"},
		{"frame,line,direction\n", ":1: header"},
		{"line,direction,frame\nwest,leftward,12\nwest,leftward,x\n", ":3: frame \"x\" is not an integer"},
		{"line,direction,frame,description\nwest,leftward,3,\"two\nlines\"\nwest,rightward,0,ok\n", ":4: frame 0: frames are 1-based"},
		{"line,direction,frame\n,leftward,3\n", ":2: line and direction must not be empty"},
		{"line,direction,frame\nwest,leftward,3,extra\n", ":2: wrong number of fields"},
	}
	for i, c := range cases {
		path := filepath.Join(dir, "c.csv")
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadCrossingsCSV(path)
		if err == nil || !strings.Contains(err.Error(), path+c.want) {
			t.Errorf("case %d: error %v, want %s%s", i, err, path, c.want)
		}
	}
}
