package tracker

import (
	"math"

	"github.com/storesight/storesight/detectors"
)

// iouCost builds the association cost between tracks (at their predicted
// boxes) and the detections dets[idx[k]]: 1 - IoU, or with fuse
// 1 - IoU·score as ByteTrack's fuse_score does, so that among equally
// overlapping detections the confident one wins. Pairs of different classes
// get +Inf, which the assignment treats as forbidden: a person track never
// absorbs a trolley detection.
func iouCost(tracks []*strack, dets []detectors.Detection, idx []int, fuse bool) costMatrix {
	cost := newCostMatrix(len(tracks), len(idx))
	for i, tr := range tracks {
		row := cost.data[i*len(idx) : (i+1)*len(idx)]
		for k, di := range idx {
			d := dets[di]
			if d.Class != tr.Class {
				row[k] = math.Inf(1)
				continue
			}
			p, b := tr.pred, d.Box
			if b.X1 >= p.X2 || p.X1 >= b.X2 || b.Y1 >= p.Y2 || p.Y1 >= b.Y2 {
				// Disjoint, the common case in a crowded frame: skip the
				// full IoU, whose min/max calls dominate this loop.
				row[k] = 1
				continue
			}
			sim := p.IoU(b)
			if fuse {
				sim *= float64(d.Score)
			}
			row[k] = 1 - sim
		}
	}
	return cost
}
