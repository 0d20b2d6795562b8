package accuracy

import (
	"testing"

	"github.com/storesight/storesight/geom"
)

// TestDetectionScoreHandComputed: two frames.
//
// Frame 1: gt A x=0, gt B x=100, ignore region [200,0]-[220,20].
//
//	d1 0.90 on A (IoU 1)                       TP
//	d2 0.80 on A at x=1 (A taken, B too far)   FP (duplicate)
//	d3 0.70 inside the ignore region            ignored
//	d4 0.60 on B at x=102 (IoU 2/3)             TP
//	d5 0.30 at x=400                            FP
//
// Frame 2: gt C x=0, gt D x=50 (never found).
//
//	d6 0.95 at x=300                            FP
//	d7 0.50 on C (IoU 1)                        TP
//
// GT 4, TP 3, FP 3, FN 1: Recall 3/4, Precision 1/2, F1 0.6.
// Ranked: d6 F, d1 T, d2 F, d4 T, d7 T, d5 F ->
// recall .25 .25 .5 .75 .75 at precision 1/2 1/3 1/2 3/5 1/2 (after d1..d5).
// The monotone envelope is 0.6 up to recall 0.75, 0 beyond:
// AP50 = 0.25*0.6 + 0.25*0.6 + 0.25*0.6 = 0.45 (without the envelope it
// would be 0.25*0.5 + 0.25*0.5 + 0.25*0.6 = 0.4).
func TestDetectionScoreHandComputed(t *testing.T) {
	var d DetectionScore
	d.Add(
		[]geom.Box{sq(0), sq(100)},
		[]geom.Box{{X1: 200, Y1: 0, X2: 220, Y2: 20}},
		[]Scored{
			{sq(1), 0.8}, // out of score order on purpose
			{sq(0), 0.9},
			{geom.Box{X1: 202, Y1: 2, X2: 212, Y2: 12}, 0.7},
			{sq(102), 0.6},
			{sq(400), 0.3},
		})
	d.Add([]geom.Box{sq(0), sq(50)}, nil, []Scored{{sq(0), 0.5}, {sq(300), 0.95}})
	m := d.Metrics()
	if m.GT != 4 || m.TP != 3 || m.FP != 3 || m.FN != 1 {
		t.Errorf("GT %d TP %d FP %d FN %d; want 4 3 3 1", m.GT, m.TP, m.FP, m.FN)
	}
	if !near(m.Recall, 0.75) || !near(m.Precision, 0.5) || !near(m.F1, 0.6) || !near(m.AP50, 0.45) {
		t.Errorf("Recall %g Precision %g F1 %g AP50 %g; want 0.75 0.5 0.6 0.45", m.Recall, m.Precision, m.F1, m.AP50)
	}
}

// TestDetectionScoreMatchesBestFreeGT: a detection takes the unmatched gt
// it overlaps most, and a higher-scored detection chooses first.
// gE x=0, gF x=3; dx (0.9) at x=2: IoU gE 2/3, gF 9/11 -> gF;
// dy (0.8) at x=1: IoU gE 9/11 -> gE. Both TP, AP 1.
func TestDetectionScoreMatchesBestFreeGT(t *testing.T) {
	var d DetectionScore
	d.Add([]geom.Box{sq(0), sq(3)}, nil, []Scored{{sq(1), 0.8}, {sq(2), 0.9}})
	m := d.Metrics()
	if m.TP != 2 || m.FP != 0 || m.AP50 != 1 {
		t.Errorf("TP %d FP %d AP50 %g; want 2 0 1", m.TP, m.FP, m.AP50)
	}
}

// TestDetectionIgnoreEdge: an unmatched detection is ignored when at least
// half of it (IoA >= 0.5) lies in an ignore region.
func TestDetectionIgnoreEdge(t *testing.T) {
	ignore := []geom.Box{{X1: 200, Y1: 0, X2: 220, Y2: 20}}
	var d DetectionScore
	d.Add(nil, ignore, []Scored{
		{geom.Box{X1: 210, Y1: 0, X2: 230, Y2: 20}, 0.9}, // half inside: ignored
		{geom.Box{X1: 211, Y1: 0, X2: 231, Y2: 20}, 0.9}, // 45% inside: FP
	})
	if m := d.Metrics(); m.FP != 1 || m.TP != 0 {
		t.Errorf("FP %d TP %d; want 1 0", m.FP, m.TP)
	}
}

// TestDetectionZeroDenominators documents the conventions: nothing to find
// and nothing found is perfect; AP50 is 0 without gt.
func TestDetectionZeroDenominators(t *testing.T) {
	var empty DetectionScore
	m := empty.Metrics()
	if m.Recall != 1 || m.Precision != 1 || m.F1 != 1 || m.AP50 != 0 {
		t.Errorf("empty: %+v", m)
	}
	var onlyFP DetectionScore
	onlyFP.Add(nil, nil, []Scored{{sq(0), 0.5}})
	m = onlyFP.Metrics()
	if m.Recall != 1 || m.Precision != 0 || m.F1 != 0 || m.FP != 1 {
		t.Errorf("only false positives: %+v", m)
	}
	var onlyFN DetectionScore
	onlyFN.Add([]geom.Box{sq(0)}, nil, nil)
	m = onlyFN.Metrics()
	if m.Recall != 0 || m.Precision != 1 || m.F1 != 0 || m.FN != 1 || m.AP50 != 0 {
		t.Errorf("only misses: %+v", m)
	}
}
