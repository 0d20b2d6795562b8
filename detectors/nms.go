package detectors

import "slices"

// NMS runs class-wise greedy non-maximum suppression: it sorts dets by
// descending score and drops every box whose IoU with a kept, higher-scored
// box of the same class exceeds iouThreshold. It works in place and returns
// the kept prefix of dets, highest score first.
func NMS(dets []Detection, iouThreshold float64) []Detection {
	slices.SortStableFunc(dets, func(a, b Detection) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	// Each candidate is only compared with boxes already kept, which is the
	// same result as suppressing forward and lets the kept boxes overwrite
	// the front of the slice without a scratch buffer.
	kept := dets[:0]
	for _, d := range dets {
		suppressed := false
		for _, k := range kept {
			if k.Class == d.Class && k.Box.IoU(d.Box) > iouThreshold {
				suppressed = true
				break
			}
		}
		if !suppressed {
			kept = append(kept, d)
		}
	}
	return kept
}
