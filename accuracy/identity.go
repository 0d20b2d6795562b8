package accuracy

import "fmt"

// identityResult is TrackEval's Identity for one sequence.
type identityResult struct {
	IDF1, IDP, IDR   float64
	IDTP, IDFN, IDFP int
}

// idBigCost forbids a pairing in the identity assignment (TrackEval's 1e10).
const idBigCost = 1e10

// identityMetrics computes IDF1/IDP/IDR as TrackEval's Identity does: each
// gt id is paired with at most one tracker id for the whole sequence so
// that the total of unmatched detections (IDFN + IDFP) is minimal. A
// (gt, tracker) pair earns one IDTP per frame where both are present with
// IoU >= 0.5 — every such overlap, with no per-frame one-to-one
// matching, as in TrackEval. The assignment is square: real gt rows then
// one dummy row per tracker id, real tracker columns then one dummy column
// per gt id; a gt left on its dummy costs all its detections as IDFN, a
// tracker left unpaired all its detections as IDFP.
func identityMetrics(d *seqData) (identityResult, error) {
	var res identityResult
	if d.numTrackerDets == 0 {
		res.IDFN = d.numGTDets
		return res, nil
	}
	if d.numGTDets == 0 {
		res.IDFP = d.numTrackerDets
		return res, nil
	}
	ng, nt := d.numGTIDs, d.numTrackerIDs
	overlap := make([]float64, ng*nt)
	gtCount := make([]float64, ng)
	trCount := make([]float64, nt)
	for t := range d.gtIDs {
		gtIDs, trIDs := d.gtIDs[t], d.trackerIDs[t]
		sim := d.similarity[t]
		for i, g := range gtIDs {
			for j, tr := range trIDs {
				// Plain >= without TrackEval's eps, which CLEAR uses:
				// Identity's comparison has none.
				if sim.at(i, j) >= trackingThreshold {
					overlap[g*nt+tr]++
				}
			}
		}
		for _, g := range gtIDs {
			gtCount[g]++
		}
		for _, tr := range trIDs {
			trCount[tr]++
		}
	}

	size := ng + nt
	fn := make([]float64, size*size)
	fp := make([]float64, size*size)
	for r := ng; r < size; r++ {
		for c := 0; c < nt; c++ {
			fp[r*size+c] = idBigCost
		}
	}
	for r := 0; r < ng; r++ {
		for c := nt; c < size; c++ {
			fn[r*size+c] = idBigCost
		}
	}
	for g := 0; g < ng; g++ {
		for c := 0; c < nt; c++ {
			fn[g*size+c] = gtCount[g]
		}
		fn[g*size+nt+g] = gtCount[g]
	}
	for tr := 0; tr < nt; tr++ {
		for r := 0; r < ng; r++ {
			fp[r*size+tr] = trCount[tr]
		}
		fp[(ng+tr)*size+tr] = trCount[tr]
	}
	for g := 0; g < ng; g++ {
		for tr := 0; tr < nt; tr++ {
			fn[g*size+tr] -= overlap[g*nt+tr]
			fp[g*size+tr] -= overlap[g*nt+tr]
		}
	}
	cost := make([]float64, size*size)
	for k := range cost {
		cost[k] = fn[k] + fp[k]
	}
	pairs, err := linearSumAssignment(cost, size, size)
	if err != nil {
		return identityResult{}, fmt.Errorf("identity: %w", err)
	}
	var idfn, idfp, total float64
	for _, p := range pairs {
		idfn += fn[p[0]*size+p[1]]
		idfp += fp[p[0]*size+p[1]]
	}
	for _, c := range gtCount {
		total += c
	}
	res.IDFN, res.IDFP = int(idfn), int(idfp)
	res.IDTP = int(total) - res.IDFN
	tp, fnf, fpf := float64(res.IDTP), float64(res.IDFN), float64(res.IDFP)
	res.IDR = tp / max(1.0, tp+fnf)
	res.IDP = tp / max(1.0, tp+fpf)
	res.IDF1 = tp / max(1.0, tp+0.5*fpf+0.5*fnf)
	return res, nil
}
