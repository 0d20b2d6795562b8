package accuracy

import "testing"

// TestClearOptimalNotGreedy: one frame where matching the best overlap
// first loses a match.
//
//	gA x=0, gB x=3; tP x=0.5, tQ x=-2.5
//	IoU(gA,tP) = 9.5/10.5 = 0.905, IoU(gB,tP) = 7.5/12.5 = 0.6,
//	IoU(gA,tQ) = 7.5/12.5 = 0.6,   IoU(gB,tQ) = 4.5/15.5 = 0.29 (no match)
//
// Greedy takes gA-tP first and leaves gB and tQ unmatched: TP 1, FN 1, FP 1,
// MOTA 0, MOTP 0.905. TrackEval's optimal assignment takes gA-tQ + gB-tP
// (1.2 > 0.905): TP 2, FN 0, FP 0, MOTA 1, MOTP 0.6.
func TestClearOptimalNotGreedy(t *testing.T) {
	gt := []Row{gtRow(1, 1, 0, 1, 1), gtRow(1, 2, 3, 1, 1)}
	res := []Row{trRow(1, 1, 0.5), trRow(1, 2, -2.5)}
	m, err := EvaluateTracking(gt, res, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.TP != 2 || m.FN != 0 || m.FP != 0 || !near(m.MOTA, 1) || !near(m.MOTP, 0.6) {
		t.Errorf("TP %d FN %d FP %d MOTA %g MOTP %g; want 2 0 0 1 0.6 (greedy would give 1 1 1 0 0.905)",
			m.TP, m.FN, m.FP, m.MOTA, m.MOTP)
	}
}

// TestClearContinuityBonus: in frame 2 a new tracker box fits gA better
// (IoU 1) than the one that followed it in frame 1 (x=2.5, IoU 0.6). Highest
// IoU would switch identity; TrackEval's +1000 for continuing the previous
// match keeps t1: IDSW 0, TP 2, FP 1 (t2), MOTA (2-1-0)/2 = 0.5,
// MOTP (1+0.6)/2 = 0.8. Identity agrees: g1-t1 overlap in both frames,
// IDTP 2, IDFP 1.
func TestClearContinuityBonus(t *testing.T) {
	gt := []Row{gtRow(1, 1, 0, 1, 1), gtRow(2, 1, 0, 1, 1)}
	res := []Row{trRow(1, 1, 0), trRow(2, 1, 2.5), trRow(2, 2, 0)}
	m, err := EvaluateTracking(gt, res, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.IDSW != 0 || m.TP != 2 || m.FP != 1 || !near(m.MOTA, 0.5) || !near(m.MOTP, 0.8) || m.IDTP != 2 || m.IDFP != 1 {
		t.Errorf("IDSW %d TP %d FP %d MOTA %g MOTP %g IDTP %d IDFP %d; want 0 2 1 0.5 0.8 2 1",
			m.IDSW, m.TP, m.FP, m.MOTA, m.MOTP, m.IDTP, m.IDFP)
	}
}

// TestClearSwitchAfterGap: an IDSW is judged against the last tracker the gt
// ever had, not only the previous frame's. g1: t1 in frame 1, missed in
// frame 2 (t1 is elsewhere), t2 in frame 3: IDSW 1, Frag 1 (tracked,
// lost, tracked again), FP 1 (t1 away in frame 2), MOTA (2-1-1)/3 = 0.
func TestClearSwitchAfterGap(t *testing.T) {
	gt := []Row{gtRow(1, 1, 0, 1, 1), gtRow(2, 1, 0, 1, 1), gtRow(3, 1, 0, 1, 1)}
	res := []Row{trRow(1, 1, 0), trRow(2, 1, 300), trRow(3, 2, 0)}
	m, err := EvaluateTracking(gt, res, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.IDSW != 1 || m.Frag != 1 || m.TP != 2 || m.FP != 1 || !near(m.MOTA, 0) {
		t.Errorf("IDSW %d Frag %d TP %d FP %d MOTA %g; want 1 1 2 1 0", m.IDSW, m.Frag, m.TP, m.FP, m.MOTA)
	}
}

// TestClearFrameWithoutTrackerKeepsMemory reproduces a TrackEval quirk:
// a frame with gt but no tracker box at all does not reset "matched in the
// previous frame". g1 is matched by t1 in frames 1 and 3 and missed in
// frame 2.
//
//   - frame 2 empty of tracker boxes: the memory survives, frame 3 is not a
//     new fragment: Frag 0.
//   - frame 2 holding one unrelated tracker box (x=300): the memory is
//     reset, frame 3 starts a second fragment: Frag 1.
//
// Both: TP 2, FN 1, IDSW 0.
func TestClearFrameWithoutTrackerKeepsMemory(t *testing.T) {
	gt := []Row{gtRow(1, 1, 0, 1, 1), gtRow(2, 1, 0, 1, 1), gtRow(3, 1, 0, 1, 1)}
	for _, c := range []struct {
		name string
		res  []Row
		frag int
	}{
		{"no tracker box in frame 2", []Row{trRow(1, 1, 0), trRow(3, 1, 0)}, 0},
		{"unrelated tracker box in frame 2", []Row{trRow(1, 1, 0), trRow(2, 9, 300), trRow(3, 1, 0)}, 1},
	} {
		m, err := EvaluateTracking(gt, c.res, 3)
		if err != nil {
			t.Fatal(err)
		}
		if m.Frag != c.frag || m.TP != 2 || m.FN != 1 || m.IDSW != 0 {
			t.Errorf("%s: Frag %d TP %d FN %d IDSW %d; want %d 2 1 0", c.name, m.Frag, m.TP, m.FN, m.IDSW, c.frag)
		}
	}
}
