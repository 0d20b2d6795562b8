package accuracy

import (
	"cmp"
	"slices"

	"github.com/storesight/storesight/geom"
)

// detectionIoU is the overlap a detection needs with a gt box to be a hit,
// and ignoreIoA the fraction of a detection that must lie inside an ignore
// box for an unmatched detection to be ignored rather than false.
const (
	detectionIoU = 0.5
	ignoreIoA    = 0.5
)

// Scored is one detector output box with its confidence.
type Scored struct {
	Box   geom.Box
	Score float64
}

// DetectionScore accumulates detection accuracy over frames that have
// ground truth. The zero value is ready to use.
type DetectionScore struct {
	gt      int
	results []detResult
}

type detResult struct {
	score float64
	tp    bool
}

// DetectionMetrics summarise a DetectionScore. TP/FP/FN count every
// detection given to Add (callers apply their own score threshold first).
// AP50 is the area under the precision-recall curve over decreasing scores
// with all-point interpolation (PASCAL VOC 2010+): precision at each recall
// is the best precision at that recall or higher.
//
// Ratios with a zero denominator: Recall is 1 when there is no gt (nothing
// was missed), Precision is 1 when there are no detections (nothing was
// false), F1 is their harmonic mean (0 when both are 0), and AP50 is 0 when
// there is no gt (undefined).
type DetectionMetrics struct {
	GT, TP, FP, FN              int
	Recall, Precision, F1, AP50 float64
}

// Add scores one frame. Detections are matched greedily in decreasing score
// order, each to the unmatched gt box it overlaps most with IoU >= 0.5 (the
// COCO rule; VOC's differs only when the best box is already taken). An
// unmatched detection lying at least half inside an ignore box (IoA >= 0.5:
// consider=0 or distractor regions) is neither a hit nor a false positive;
// ignore boxes are not counted as gt.
func (d *DetectionScore) Add(gt []geom.Box, ignore []geom.Box, dets []Scored) {
	d.gt += len(gt)
	order := make([]int, len(dets))
	for i := range order {
		order[i] = i
	}
	// Stable, so equal scores keep the caller's order and results are
	// reproducible.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(dets[b].Score, dets[a].Score) })
	taken := make([]bool, len(gt))
	for _, k := range order {
		det := dets[k]
		best, bestIoU := -1, 0.0
		for i, g := range gt {
			if taken[i] {
				continue
			}
			if iou := det.Box.IoU(g); iou >= detectionIoU && (best < 0 || iou > bestIoU) {
				best, bestIoU = i, iou
			}
		}
		if best >= 0 {
			taken[best] = true
			d.results = append(d.results, detResult{score: det.Score, tp: true})
			continue
		}
		if insideAny(det.Box, ignore) {
			continue
		}
		d.results = append(d.results, detResult{score: det.Score})
	}
}

func insideAny(b geom.Box, regions []geom.Box) bool {
	area := b.Area()
	if area <= 0 {
		return false
	}
	for _, r := range regions {
		if b.Intersect(r).Area()/area >= ignoreIoA {
			return true
		}
	}
	return false
}

// Metrics returns the totals so far.
func (d *DetectionScore) Metrics() DetectionMetrics {
	m := DetectionMetrics{GT: d.gt}
	for _, r := range d.results {
		if r.tp {
			m.TP++
		} else {
			m.FP++
		}
	}
	m.FN = m.GT - m.TP
	m.Recall, m.Precision, m.F1 = prf(m.TP, m.FP, m.FN)
	m.AP50 = averagePrecision(d.results, d.gt)
	return m
}

// prf is precision, recall and F1 with the zero-denominator conventions of
// DetectionMetrics (also used by counting).
func prf(tp, fp, fn int) (recall, precision, f1 float64) {
	recall, precision = 1, 1
	if tp+fn > 0 {
		recall = float64(tp) / float64(tp+fn)
	}
	if tp+fp > 0 {
		precision = float64(tp) / float64(tp+fp)
	}
	if recall+precision > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return recall, precision, f1
}

// averagePrecision is VOC's all-point interpolated AP over detections ranked
// by decreasing score (ties in the order they were added).
func averagePrecision(results []detResult, gt int) float64 {
	if gt == 0 {
		return 0
	}
	ranked := slices.Clone(results)
	slices.SortStableFunc(ranked, func(a, b detResult) int { return cmp.Compare(b.score, a.score) })
	n := len(ranked)
	// Sentinels at recall 0 and 1 as in VOC's code, so the envelope and the
	// sum need no special cases.
	rec := make([]float64, n+2)
	prec := make([]float64, n+2)
	tp := 0
	for i, r := range ranked {
		if r.tp {
			tp++
		}
		rec[i+1] = float64(tp) / float64(gt)
		prec[i+1] = float64(tp) / float64(i+1)
	}
	rec[n+1] = 1
	for i := n; i >= 0; i-- {
		prec[i] = max(prec[i], prec[i+1])
	}
	ap := 0.0
	for i := 1; i <= n+1; i++ {
		ap += (rec[i] - rec[i-1]) * prec[i]
	}
	return ap
}
