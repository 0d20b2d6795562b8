package accuracy

import (
	"math"
	"strings"
	"testing"

	"github.com/storesight/storesight/geom"
)

// sq is a 10x10 box at x (y 0..10). Two such boxes dx apart overlap with
// IoU (10-dx)/(10+dx): dx 0 -> 1, 1 -> 9/11, 2 -> 2/3, 2.5 -> 0.6,
// 4 -> 3/7 (no match).
func sq(x float64) geom.Box { return geom.Box{X1: x, Y1: 0, X2: x + 10, Y2: 10} }

func gtRow(frame, id int, x float64, consider, class int) Row {
	return Row{Frame: frame, ID: id, Box: sq(x), Conf: float64(consider), Class: class, Visibility: 1}
}

func trRow(frame, id int, x float64) Row {
	return Row{Frame: frame, ID: id, Box: sq(x), Conf: 0.9}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

// TestEvaluateTrackingHandComputed is a 6-frame sequence with an ID swap,
// a fragmentation, the MT/PT boundaries, a distractor, consider=0 rows and
// a plain false positive. Objects sit 100 px apart so only the intended
// pairs overlap.
//
// gt (pedestrians, consider=1 unless said):
//
//	g1  x=0    frames 1-6
//	g2  x=100  frames 1-5
//	g3  x=200  frames 1-6  class 7 (static person: distractor)
//	g4  x=300  frames 1-2  consider=0, class 1
//	g5  x=400  frames 1-2  consider=0, class 8 (distractor)
//	g6  x=500  frames 1-5
//	g7  x=600  frames 1-6
//
// tracker:
//
//	t10 on g1 frames 1-3 (IoU 1), t11 on g1 frames 4-6 (IoU 1): one IDSW
//	t20 on g2 frames 1,2 at x=102 (IoU 2/3) and 4,5 at x=101 (IoU 9/11)
//	t30 on g3 frames 1-6, t45 on g5 frames 1-2: matched to distractors, removed
//	t40 on g4 frames 1-2: g4 is a pedestrian, so TrackEval keeps t40 and,
//	    g4 being dropped for consider=0, it is a false positive (twice)
//	t60 on g6 frame 1 (IoU 1)
//	t50 at x=800 frame 5: false positive
//
// After preprocessing: gt dets 6+5+5+6 = 22 in 4 ids (g1 g2 g6 g7);
// tracker dets 3+3+4+2+1+1 = 14 in 6 ids (t10 t11 t20 t40 t50 t60).
//
// CLEAR: TP = 6 (g1) + 4 (g2) + 1 (g6) = 11, FN = 22-11 = 11, FP = 14-11 = 3,
// IDSW = 1 (g1 t10 -> t11), MOTA = (11-3-1)/22 = 7/22.
// MOTP = (6*1 + 2*(2/3) + 2*(9/11) + 1)/11.
// Frag: g2 is tracked in 1-2, lost in 3, tracked again in 4-5: 1.
// g1 6/6 > 0.8: MT. g2 4/5 = 0.8 is not > 0.8: PT. g6 1/5 = 0.2 >= 0.2: PT.
// g7 0/6: ML. So MT 1, PT 2, ML 1. Recall 11/22, Precision 11/14.
//
// Identity: the best one-to-one id pairing is g1-t10 (or t11, 3 either
// way), g2-t20 (4), g6-t60 (1): IDTP 8, IDFN 22-8 = 14, IDFP 14-8 = 6,
// IDP 8/14, IDR 8/22, IDF1 = 8/(8 + 0.5*6 + 0.5*14) = 8/18.
func TestEvaluateTrackingHandComputed(t *testing.T) {
	var gt, res []Row
	for f := 1; f <= 6; f++ {
		gt = append(gt, gtRow(f, 1, 0, 1, 1), gtRow(f, 3, 200, 1, 7), gtRow(f, 7, 600, 1, 1))
		if f <= 5 {
			gt = append(gt, gtRow(f, 2, 100, 1, 1), gtRow(f, 6, 500, 1, 1))
		}
		if f <= 2 {
			gt = append(gt, gtRow(f, 4, 300, 0, 1), gtRow(f, 5, 400, 0, 8))
			res = append(res, trRow(f, 40, 300), trRow(f, 45, 400), trRow(f, 20, 102))
		}
		if f == 4 || f == 5 {
			res = append(res, trRow(f, 20, 101))
		}
		if f <= 3 {
			res = append(res, trRow(f, 10, 0))
		} else {
			res = append(res, trRow(f, 11, 0))
		}
		res = append(res, trRow(f, 30, 200))
	}
	res = append(res, trRow(1, 60, 500), trRow(5, 50, 800))

	m, err := EvaluateTracking(gt, res, 6)
	if err != nil {
		t.Fatal(err)
	}
	ints := []struct {
		name      string
		got, want int
	}{
		{"TP", m.TP, 11}, {"FN", m.FN, 11}, {"FP", m.FP, 3}, {"IDSW", m.IDSW, 1}, {"Frag", m.Frag, 1},
		{"MT", m.MT, 1}, {"PT", m.PT, 2}, {"ML", m.ML, 1},
		{"IDTP", m.IDTP, 8}, {"IDFN", m.IDFN, 14}, {"IDFP", m.IDFP, 6},
		{"GTDets", m.GTDets, 22}, {"TrackerDets", m.TrackerDets, 14}, {"GTIDs", m.GTIDs, 4}, {"TrackerIDs", m.TrackerIDs, 6},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	floats := []struct {
		name      string
		got, want float64
	}{
		{"MOTA", m.MOTA, 7.0 / 22},
		{"MOTP", m.MOTP, (6 + 2*(2.0/3) + 2*(9.0/11) + 1) / 11},
		{"Recall", m.Recall, 0.5},
		{"Precision", m.Precision, 11.0 / 14},
		{"IDP", m.IDP, 8.0 / 14},
		{"IDR", m.IDR, 8.0 / 22},
		{"IDF1", m.IDF1, 8.0 / 18},
	}
	for _, c := range floats {
		if !near(c.got, c.want) {
			t.Errorf("%s = %.15g, want %.15g", c.name, c.got, c.want)
		}
	}
	t.Logf("MOTA %.4f MOTP %.4f IDF1 %.4f", m.MOTA, m.MOTP, m.IDF1)
}

// TestEvaluateTrackingRowOrderIrrelevant: TrackEval reads a file; the same
// rows in any order must score the same (they are taken in frame, id order).
func TestEvaluateTrackingRowOrderIrrelevant(t *testing.T) {
	gt := []Row{gtRow(1, 1, 0, 1, 1), gtRow(1, 2, 0, 1, 1), gtRow(2, 1, 0, 1, 1), gtRow(2, 2, 0, 1, 1)}
	res := []Row{trRow(1, 7, 0), trRow(1, 8, 0), trRow(2, 7, 0), trRow(2, 8, 0)}
	a, err := EvaluateTracking(gt, res, 2)
	if err != nil {
		t.Fatal(err)
	}
	rev := func(r []Row) []Row {
		o := make([]Row, len(r))
		for i := range r {
			o[len(r)-1-i] = r[i]
		}
		return o
	}
	b, err := EvaluateTracking(rev(gt), rev(res), 2)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("order changed the result:\n%+v\n%+v", a, b)
	}
	// Two gt on one box and two trackers on the same box: every pairing
	// scores the same, SciPy pairs them in order (g1-t7, g2-t8), and the
	// continuity bonus keeps that pairing in frame 2: no IDSW.
	if a.TP != 4 || a.IDSW != 0 || a.IDTP != 4 {
		t.Errorf("identical boxes: TP %d IDSW %d IDTP %d, want 4 0 4", a.TP, a.IDSW, a.IDTP)
	}
}

func TestEvaluateTrackingErrors(t *testing.T) {
	ok := []Row{gtRow(1, 1, 0, 1, 1)}
	cases := []struct {
		name    string
		gt, res []Row
		seqLen  int
		want    string
	}{
		{"frame beyond seqLength", ok, []Row{trRow(3, 1, 0)}, 2, "outside the sequence"},
		{"gt frame 0", []Row{gtRow(0, 1, 0, 1, 1)}, nil, 2, "outside the sequence"},
		{"repeated tracker id", ok, []Row{trRow(1, 5, 0), trRow(1, 5, 50)}, 2, "twice in frame 1"},
		{"repeated gt id", []Row{gtRow(1, 1, 0, 1, 1), gtRow(1, 1, 50, 1, 1)}, nil, 2, "twice in frame 1"},
		{"unknown class", []Row{gtRow(1, 1, 0, 1, 14)}, []Row{trRow(1, 1, 0)}, 2, "class 14"},
		{"no frames", ok, nil, 0, "sequence length"},
	}
	for _, c := range cases {
		_, err := EvaluateTracking(c.gt, c.res, c.seqLen)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestEvaluateTrackingEmpty follows TrackEval's early returns: with no
// tracker boxes every gt box is a miss and every id mostly lost, and the
// ratios stay 0; with no gt boxes every tracker box is a false positive and
// MOTA stays 0 (TrackEval does not compute it for that sequence).
func TestEvaluateTrackingEmpty(t *testing.T) {
	gt := []Row{gtRow(1, 1, 0, 1, 1), gtRow(2, 1, 0, 1, 1), gtRow(2, 2, 50, 1, 1)}
	m, err := EvaluateTracking(gt, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := TrackingMetrics{FN: 3, ML: 2, IDFN: 3, GTDets: 3, GTIDs: 2}
	if m != want {
		t.Errorf("no tracker: %+v, want %+v", m, want)
	}
	m, err = EvaluateTracking(nil, []Row{trRow(1, 4, 0), trRow(3, 4, 0)}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want = TrackingMetrics{FP: 2, IDFP: 2, TrackerDets: 2, TrackerIDs: 1}
	if m != want {
		t.Errorf("no gt: %+v, want %+v", m, want)
	}
}

// TestIoUMatrixMatchesTrackEval: the exact 0.5 boundary matters because
// CLEAR accepts IoU >= 0.5-eps and Identity IoU >= 0.5.
func TestIoUMatrixMatchesTrackEval(t *testing.T) {
	g := []Row{{Box: geom.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}}}
	tr := []Row{
		{Box: geom.Box{X1: 0, Y1: 0, X2: 10, Y2: 5}},   // half of g: exactly 0.5
		{Box: geom.Box{X1: 20, Y1: 0, X2: 30, Y2: 10}}, // disjoint
		{Box: geom.Box{X1: 5, Y1: 5, X2: 15, Y2: 15}},  // 25/175
	}
	m := iouMatrix(g, tr)
	want := []float64{0.5, 0, 25.0 / 175}
	for j, w := range want {
		if m.at(0, j) != w {
			t.Errorf("iou[0][%d] = %.17g, want %.17g", j, m.at(0, j), w)
		}
	}
	// IoU exactly 0.5 is a match for both metrics.
	gt := []Row{gtRow(1, 1, 0, 1, 1)}
	gt[0].Box = g[0].Box
	res := []Row{{Frame: 1, ID: 1, Box: tr[0].Box, Conf: 1}}
	r, err := EvaluateTracking(gt, res, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.TP != 1 || r.IDTP != 1 || r.MOTP != 0.5 {
		t.Errorf("IoU 0.5: TP %d IDTP %d MOTP %g, want 1 1 0.5", r.TP, r.IDTP, r.MOTP)
	}
}
