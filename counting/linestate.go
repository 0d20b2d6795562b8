package counting

import (
	"math"

	"github.com/storesight/storesight/geom"
)

// sideState follows one track relative to one line: a two-state hysteresis
// (established side) plus a pending crossing waiting for confirmation.
//
// Why each piece exists:
//   - side is only decided outside the band, so jitter of the anchor around
//     the line cannot flip it;
//   - a side change is a candidate until the anchor has been on the far side,
//     outside the band, for ConfirmFrames consecutive observations, so a
//     person who steps over the line and straight back is not counted;
//   - crossT remembers where the anchor's path last crossed the infinite
//     line, so walking around the end of a segment is not a crossing.
type sideState struct {
	side    int8       // established side: -1, +1, or 0 while still unknown
	hasPrev bool       // prevS/prevP are valid
	prevS   float64    // signed distance at the previous observation
	prevP   geom.Point // anchor at the previous observation
	hasT    bool       // crossT is valid
	crossT  float64    // projection of the latest crossing of the line

	candSeen   bool     // a pending crossing exists
	candRun    int      // consecutive far-side observations outside the band
	candInside bool     // the pending crossing is within the segment's extent
	cand       Crossing // event details of the pending crossing
}

// step feeds one anchor position; it returns a crossing when one is
// confirmed by this observation.
func (st *sideState) step(l *Line, p geom.Point, o *Observation, id uint64, score float32) (Crossing, bool) {
	s := l.Seg.Side(p)
	if st.hasPrev && (st.prevS < 0) != (s < 0) {
		// Linear interpolation between the two observations gives where
		// the path met the line; frames are close enough in time that the
		// straight path is a good approximation.
		f := st.prevS / (st.prevS - s)
		q := geom.Point{X: st.prevP.X + f*(p.X-st.prevP.X), Y: st.prevP.Y + f*(p.Y-st.prevP.Y)}
		st.crossT, st.hasT = l.Seg.Project(q), true
	}
	st.prevS, st.prevP, st.hasPrev = s, p, true

	far := int8(1)
	if s < 0 {
		far = -1
	}
	switch {
	case math.Abs(s) <= l.Band:
		// Inside the band nothing is decided; a pending crossing survives
		// but its run of far-side observations is no longer consecutive.
		st.candRun = 0
	case st.side == 0:
		// First decision for a track first seen in the band: no count,
		// since we never saw it on the other side.
		st.side = far
	case far == st.side:
		// Back on the established side: the pending crossing (if any)
		// was a step onto the line and back.
		st.clearCand()
	default:
		if !st.candSeen {
			t := l.Seg.Project(p)
			if st.hasT {
				t = st.crossT
			}
			tol := l.Band / l.Seg.B.Sub(l.Seg.A).Norm()
			st.candSeen = true
			st.candInside = t >= -tol && t <= 1+tol
			st.cand = Crossing{
				Line:       l.Name,
				Direction:  direction(l, far),
				TrackID:    id,
				Frame:      o.Frame,
				StreamTime: o.StreamTime,
				Time:       o.Time,
				Point:      p,
				Score:      score,
			}
		}
		st.candRun++
		if st.candRun >= l.ConfirmFrames {
			return st.commit()
		}
	}
	return Crossing{}, false
}

// finalise is called when the track is gone. A pending crossing that was
// seen on the far side outside the band at least once is counted: people
// leave the frame right after crossing a line near the frame edge, so the
// confirmation frames may never come.
func (st *sideState) finalise() (Crossing, bool) {
	if !st.candSeen {
		return Crossing{}, false
	}
	return st.commit()
}

func (st *sideState) commit() (Crossing, bool) {
	c, inside := st.cand, st.candInside
	st.side = -st.side
	st.clearCand()
	// Around the end of the segment the side still changes (so coming back
	// over the segment counts) but nothing is reported.
	return c, inside
}

func (st *sideState) clearCand() {
	st.candSeen, st.candRun, st.candInside, st.cand = false, 0, false, Crossing{}
}

// direction names the movement that ends on side to.
func direction(l *Line, to int8) string {
	if to > 0 {
		return l.Forward
	}
	return l.Backward
}
