package accuracy

import "testing"

// TestIdentityGlobalPairing: identity pairs ids once for the whole
// sequence, optimally rather than by largest overlap first.
//
//	g1 x=0 frames 1-9; g2 x=100 frames 6-9
//	tA x=0 frames 1-5 then x=100 frames 6-9; tB x=0 frames 6-9
//
// Overlaps: g1-tA 5, g1-tB 4, g2-tA 4. Pairing g1-tA (the largest) gives
// IDTP 5; g1-tB + g2-tA gives 8, the optimum. gt dets 9+4 = 13, tracker
// dets 9+4 = 13: IDFN = IDFP = 5, IDF1 = 8/(8+2.5+2.5) = 8/13,
// IDP = IDR = 8/13.
//
// CLEAR sees every box matched (TP 13) with one switch, g1 tA -> tB in
// frame 6: MOTA (13-0-1)/13 = 12/13.
func TestIdentityGlobalPairing(t *testing.T) {
	var gt, res []Row
	for f := 1; f <= 9; f++ {
		gt = append(gt, gtRow(f, 1, 0, 1, 1))
		if f <= 5 {
			res = append(res, trRow(f, 1, 0))
			continue
		}
		gt = append(gt, gtRow(f, 2, 100, 1, 1))
		res = append(res, trRow(f, 1, 100), trRow(f, 2, 0))
	}
	m, err := EvaluateTracking(gt, res, 9)
	if err != nil {
		t.Fatal(err)
	}
	if m.IDTP != 8 || m.IDFN != 5 || m.IDFP != 5 || !near(m.IDF1, 8.0/13) || !near(m.IDP, 8.0/13) || !near(m.IDR, 8.0/13) {
		t.Errorf("IDTP %d IDFN %d IDFP %d IDF1 %g IDP %g IDR %g; want 8 5 5 8/13 8/13 8/13", m.IDTP, m.IDFN, m.IDFP, m.IDF1, m.IDP, m.IDR)
	}
	if m.TP != 13 || m.IDSW != 1 || !near(m.MOTA, 12.0/13) {
		t.Errorf("TP %d IDSW %d MOTA %g; want 13 1 12/13", m.TP, m.IDSW, m.MOTA)
	}
}

// TestIdentityCountsEveryOverlap: Identity counts each frame where a gt
// and a tracker box overlap with IoU >= 0.5, without CLEAR's per-frame
// one-to-one matching. Two gt ids stand on the same spot for 3 frames, one
// tracker box covers both: CLEAR matches it to one gt per frame (TP 3,
// FN 3); Identity pairs the tracker with one gt id for all 3 frames
// (IDTP 3, IDFN 3, IDFP 0) — the same here, but the overlap matrix has 3 in
// both cells, which the assignment must treat as a tie, not a sum.
func TestIdentityCountsEveryOverlap(t *testing.T) {
	var gt, res []Row
	for f := 1; f <= 3; f++ {
		gt = append(gt, gtRow(f, 1, 0, 1, 1), gtRow(f, 2, 0, 1, 1))
		res = append(res, trRow(f, 5, 0))
	}
	m, err := EvaluateTracking(gt, res, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.TP != 3 || m.FN != 3 || m.IDTP != 3 || m.IDFN != 3 || m.IDFP != 0 || m.IDSW != 0 {
		t.Errorf("TP %d FN %d IDTP %d IDFN %d IDFP %d IDSW %d; want 3 3 3 3 0 0", m.TP, m.FN, m.IDTP, m.IDFN, m.IDFP, m.IDSW)
	}
}
