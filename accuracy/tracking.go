package accuracy

import (
	"fmt"
	"slices"
)

// TrackingMetrics are TrackEval's MOTChallenge pedestrian numbers for one
// sequence: CLEAR (MOTA, MOTP, TP/FN/FP, IDSW, Frag, MT/PT/ML, Recall =
// CLR_Re, Precision = CLR_Pr) and Identity (IDF1, IDP, IDR, IDTP/IDFN/IDFP),
// plus the counts after preprocessing (GTDets, TrackerDets, GTIDs,
// TrackerIDs).
type TrackingMetrics struct {
	MOTA, MOTP, IDF1, IDP, IDR, Recall, Precision float64
	TP, FN, FP, IDSW, Frag, MT, PT, ML            int
	IDTP, IDFN, IDFP                              int
	GTDets, TrackerDets, GTIDs, TrackerIDs        int
}

// floatEps is numpy's float64 machine epsilon, which TrackEval adds to or
// subtracts from its thresholds.
const floatEps = 2.220446049250313e-16

// trackingThreshold is the IoU both CLEAR and Identity require for a match.
const trackingThreshold = 0.5

// distractorClasses are the gt classes whose matched tracker boxes
// TrackEval removes instead of counting them as false positives:
// person_on_vehicle, static_person, distractor, reflection. (MOT20 adds
// non_mot_vehicle, 6; the STORESIGHT benchmark is evaluated as MOT17 is.)
var distractorClasses = map[int]bool{2: true, 7: true, 8: true, 12: true}

// EvaluateTracking scores tracker results res against gt on a sequence of
// seqLength frames exactly as TrackEval's MotChallenge2DBox dataset with the
// CLEAR and Identity metrics does for one sequence, class pedestrian.
//
// Rows are taken per frame in (frame, id) order, the order WriteGT and
// WriteResults write them in; TrackEval's matching depends on row order only
// when two matchings score exactly the same. Boxes are used as given: to
// reproduce TrackEval on written files to the last digit, pass the rows as
// the files hold them (ReadMOT, or AsWritten).
//
// Errors, as in TrackEval: a frame outside 1..seqLength, an id twice in one
// frame, a gt class outside 1..13.
func EvaluateTracking(gt, res []Row, seqLength int) (TrackingMetrics, error) {
	d, err := preprocess(gt, res, seqLength)
	if err != nil {
		return TrackingMetrics{}, fmt.Errorf("evaluate tracking: %w", err)
	}
	c, err := clearMetrics(d)
	if err != nil {
		return TrackingMetrics{}, fmt.Errorf("evaluate tracking: %w", err)
	}
	id, err := identityMetrics(d)
	if err != nil {
		return TrackingMetrics{}, fmt.Errorf("evaluate tracking: %w", err)
	}
	return TrackingMetrics{
		MOTA: c.MOTA, MOTP: c.MOTP, Recall: c.Recall, Precision: c.Precision,
		TP: c.TP, FN: c.FN, FP: c.FP, IDSW: c.IDSW, Frag: c.Frag, MT: c.MT, PT: c.PT, ML: c.ML,
		IDF1: id.IDF1, IDP: id.IDP, IDR: id.IDR, IDTP: id.IDTP, IDFN: id.IDFN, IDFP: id.IDFP,
		GTDets: d.numGTDets, TrackerDets: d.numTrackerDets, GTIDs: d.numGTIDs, TrackerIDs: d.numTrackerIDs,
	}, nil
}

// seqData is one sequence after preprocessing, shaped as TrackEval's metrics
// see it: per frame (index t = frame-1), gt and tracker ids relabelled to
// 0..n-1 in ascending order of the original ids, and the IoU matrix
// (gt rows × tracker columns).
type seqData struct {
	gtIDs, trackerIDs [][]int
	similarity        []simMatrix
	numGTDets         int
	numTrackerDets    int
	numGTIDs          int
	numTrackerIDs     int
}

type simMatrix struct {
	rows, cols int
	v          []float64
}

func (m simMatrix) at(i, j int) float64 { return m.v[i*m.cols+j] }

// preprocess applies MotChallenge2DBox.get_preprocessed_seq_data: tracker
// boxes matched (IoU >= 0.5, optimal assignment against every gt box of the
// frame, whatever its class or consider flag) to a distractor-class gt box
// are removed; then only gt boxes with consider=1 and class pedestrian are
// kept. A tracker box matched to a consider=0 pedestrian is therefore kept
// and, having nothing left to match, counts as a false positive — that is
// TrackEval's behaviour, followed here on purpose.
func preprocess(gt, res []Row, seqLength int) (*seqData, error) {
	if seqLength < 1 {
		return nil, fmt.Errorf("sequence length %d must be at least 1", seqLength)
	}
	gtFrames, err := byFrame(gt, seqLength, "gt")
	if err != nil {
		return nil, err
	}
	trFrames, err := byFrame(res, seqLength, "tracker")
	if err != nil {
		return nil, err
	}

	d := &seqData{
		gtIDs:      make([][]int, seqLength),
		trackerIDs: make([][]int, seqLength),
		similarity: make([]simMatrix, seqLength),
	}
	gtSet := make(map[int]bool)
	trSet := make(map[int]bool)
	for t := 0; t < seqLength; t++ {
		g, tr := gtFrames[t], trFrames[t]
		sim := iouMatrix(g, tr)

		removed := make([]bool, len(tr))
		if len(g) > 0 && len(tr) > 0 {
			for _, r := range g {
				if r.Class < minClass || r.Class > maxClass {
					return nil, fmt.Errorf("frame %d: gt id %d has class %d; MOTChallenge classes are %d..%d", t+1, r.ID, r.Class, minClass, maxClass)
				}
			}
			score := make([]float64, len(sim.v))
			for k, s := range sim.v {
				if s < trackingThreshold-floatEps {
					s = 0
				}
				score[k] = -s
			}
			pairs, err := linearSumAssignment(score, sim.rows, sim.cols)
			if err != nil {
				return nil, fmt.Errorf("frame %d: distractor matching: %w", t+1, err)
			}
			for _, p := range pairs {
				if -score[p[0]*sim.cols+p[1]] > 0+floatEps && distractorClasses[g[p[0]].Class] {
					removed[p[1]] = true
				}
			}
		}

		var keepTr []int
		for j, r := range tr {
			if !removed[j] {
				keepTr = append(keepTr, j)
				d.trackerIDs[t] = append(d.trackerIDs[t], r.ID)
				trSet[r.ID] = true
			}
		}
		var keepGT []int
		for i, r := range g {
			if r.Conf != 0 && r.Class == pedestrianClass {
				keepGT = append(keepGT, i)
				d.gtIDs[t] = append(d.gtIDs[t], r.ID)
				gtSet[r.ID] = true
			}
		}
		m := simMatrix{rows: len(keepGT), cols: len(keepTr), v: make([]float64, len(keepGT)*len(keepTr))}
		for a, i := range keepGT {
			for b, j := range keepTr {
				m.v[a*m.cols+b] = sim.at(i, j)
			}
		}
		d.similarity[t] = m
		d.numGTDets += len(keepGT)
		d.numTrackerDets += len(keepTr)
	}

	d.numGTIDs = relabel(d.gtIDs, gtSet)
	d.numTrackerIDs = relabel(d.trackerIDs, trSet)
	return d, nil
}

// byFrame groups rows into frames 1..seqLength, each ordered by id, and
// rejects frames out of range and repeated ids.
func byFrame(rows []Row, seqLength int, what string) ([][]Row, error) {
	frames := make([][]Row, seqLength)
	for _, r := range sortedRows(rows) {
		if r.Frame < 1 || r.Frame > seqLength {
			return nil, fmt.Errorf("%s id %d: frame %d is outside the sequence (1..%d)", what, r.ID, r.Frame, seqLength)
		}
		f := frames[r.Frame-1]
		if n := len(f); n > 0 && f[n-1].ID == r.ID {
			return nil, fmt.Errorf("%s: id %d appears twice in frame %d", what, r.ID, r.Frame)
		}
		frames[r.Frame-1] = append(f, r)
	}
	return frames, nil
}

// relabel maps the ids in place to 0..len(set)-1 in ascending order and
// returns how many there are.
func relabel(ids [][]int, set map[int]bool) int {
	sorted := make([]int, 0, len(set))
	for id := range set {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	index := make(map[int]int, len(sorted))
	for i, id := range sorted {
		index[id] = i
	}
	for _, f := range ids {
		for k, id := range f {
			f[k] = index[id]
		}
	}
	return len(sorted)
}

// iouMatrix is TrackEval's _calculate_box_ious for xywh boxes: the same
// operations in the same order, including its guards (a box of area <= eps
// overlaps nothing; a union <= eps gives 0).
func iouMatrix(gt, tr []Row) simMatrix {
	m := simMatrix{rows: len(gt), cols: len(tr), v: make([]float64, len(gt)*len(tr))}
	for i, g := range gt {
		a := g.Box
		areaA := (a.X2 - a.X1) * (a.Y2 - a.Y1)
		for j, t := range tr {
			b := t.Box
			areaB := (b.X2 - b.X1) * (b.Y2 - b.Y1)
			inter := max(min(a.X2, b.X2)-max(a.X1, b.X1), 0) * max(min(a.Y2, b.Y2)-max(a.Y1, b.Y1), 0)
			union := areaA + areaB - inter
			if areaA <= 0+floatEps || areaB <= 0+floatEps || union <= 0+floatEps {
				inter = 0
			}
			if union <= 0+floatEps {
				union = 1
			}
			m.v[i*m.cols+j] = inter / union
		}
	}
	return m
}
