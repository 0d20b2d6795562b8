package accuracy

import "fmt"

// clearResult is TrackEval's CLEAR for one sequence.
type clearResult struct {
	MOTA, MOTP, Recall, Precision float64
	TP, FN, FP, IDSW, Frag        int
	MT, PT, ML                    int
}

// clearMetrics computes CLEAR MOT as TrackEval's CLEAR.eval_sequence does.
//
// Per frame, gt and tracker boxes are matched by an optimal assignment
// maximising IoU plus a bonus of 1000 for a pair that continues the match
// this gt had in the previous frame with both gt and tracker boxes present:
// fewer identity switches first, better overlap second. Pairs below IoU 0.5
// are not matches. An IDSW is a matched gt whose tracker differs from the
// one it was last matched to, however long ago. Frag counts a gt id going
// from not matched to matched, minus one per id that was ever matched.
// MT/PT/ML: tracked in > 80%, >= 20%, < 20% of the frames it is present.
//
// As in TrackEval, frames with no gt or no tracker boxes leave the
// "previous frame" memory untouched, so a match interrupted only by such a
// frame still gets the continuity bonus and is not a new fragment; and a
// sequence with no tracker (or no gt) boxes returns its counts with every
// ratio 0, including MOTA.
func clearMetrics(d *seqData) (clearResult, error) {
	var res clearResult
	if d.numTrackerDets == 0 {
		res.FN = d.numGTDets
		res.ML = d.numGTIDs
		return res, nil
	}
	if d.numGTDets == 0 {
		res.FP = d.numTrackerDets
		return res, nil
	}

	n := d.numGTIDs
	idCount := make([]int, n)
	matchedCount := make([]int, n)
	fragCount := make([]int, n)
	// -1 stands for TrackEval's NaN: no tracker.
	lastTracker := make([]int, n)     // last tracker ever matched, for IDSW
	prevStepTracker := make([]int, n) // tracker matched in the previous scored frame
	for i := range n {
		lastTracker[i], prevStepTracker[i] = -1, -1
	}
	motpSum := 0.0

	for t := range d.gtIDs {
		gtIDs, trIDs := d.gtIDs[t], d.trackerIDs[t]
		if len(gtIDs) == 0 {
			res.FP += len(trIDs)
			continue
		}
		if len(trIDs) == 0 {
			res.FN += len(gtIDs)
			for _, g := range gtIDs {
				idCount[g]++
			}
			continue
		}
		sim := d.similarity[t]
		neg := make([]float64, len(sim.v))
		for i, g := range gtIDs {
			for j, tr := range trIDs {
				s := sim.at(i, j)
				score := s
				if prevStepTracker[g] == tr {
					score = 1000 + s
				}
				if s < trackingThreshold-floatEps {
					score = 0
				}
				neg[i*sim.cols+j] = -score
			}
		}
		pairs, err := linearSumAssignment(neg, sim.rows, sim.cols)
		if err != nil {
			return clearResult{}, fmt.Errorf("clear: frame %d: %w", t+1, err)
		}
		matched := pairs[:0]
		for _, p := range pairs {
			if -neg[p[0]*sim.cols+p[1]] > 0+floatEps {
				matched = append(matched, p)
			}
		}

		for _, p := range matched {
			g, tr := gtIDs[p[0]], trIDs[p[1]]
			if lastTracker[g] >= 0 && lastTracker[g] != tr {
				res.IDSW++
			}
		}
		for _, g := range gtIDs {
			idCount[g]++
		}
		wasTracked := make([]bool, n)
		for g, tr := range prevStepTracker {
			wasTracked[g] = tr >= 0
			prevStepTracker[g] = -1
		}
		frameSum := 0.0
		for _, p := range matched {
			g, tr := gtIDs[p[0]], trIDs[p[1]]
			matchedCount[g]++
			lastTracker[g] = tr
			prevStepTracker[g] = tr
			frameSum += sim.at(p[0], p[1])
		}
		for g, tr := range prevStepTracker {
			if tr >= 0 && !wasTracked[g] {
				fragCount[g]++
			}
		}
		res.TP += len(matched)
		res.FN += len(gtIDs) - len(matched)
		res.FP += len(trIDs) - len(matched)
		if len(matched) > 0 {
			motpSum += frameSum
		}
	}

	for g := range n {
		if idCount[g] == 0 {
			continue
		}
		ratio := float64(matchedCount[g]) / float64(idCount[g])
		switch {
		case ratio > 0.8:
			res.MT++
		case ratio >= 0.2:
			res.PT++
		}
		if fragCount[g] > 0 {
			res.Frag += fragCount[g] - 1
		}
	}
	res.ML = n - res.MT - res.PT

	tp, fn, fp, idsw := float64(res.TP), float64(res.FN), float64(res.FP), float64(res.IDSW)
	res.MOTP = motpSum / max(1.0, tp)
	res.Recall = tp / max(1.0, tp+fn)
	res.Precision = tp / max(1.0, tp+fp)
	res.MOTA = (tp - fp - idsw) / max(1.0, tp+fn)
	return res, nil
}
