package counting

import (
	"errors"
	"fmt"

	"github.com/storesight/storesight/geom"
)

// ValidateInFrame reports every line endpoint and zone vertex that lies
// outside a w x h frame (the border itself is inside). Configurations are
// written in pixels of one camera's stream; a point outside the frame means
// the geometry was drawn for another resolution or camera, and that line
// would silently never count. The error names each offending line or zone.
//
// A line lying on the frame border is accepted, but note that it can only
// count in the direction leaving the frame if the tracker's boxes may extend
// past the border: the anchor must get further than Band beyond the line.
func ValidateInFrame(lines []Line, zones []Zone, w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("frame size %dx%d is not positive", w, h)
	}
	in := func(p geom.Point) bool {
		return p.X >= 0 && p.Y >= 0 && p.X <= float64(w) && p.Y <= float64(h)
	}
	var errs []error
	for _, l := range lines {
		for _, e := range []struct {
			name string
			p    geom.Point
		}{{"A", l.Seg.A}, {"B", l.Seg.B}} {
			if !in(e.p) {
				errs = append(errs, fmt.Errorf("line %q: point %s (%g,%g) is outside the %dx%d frame", l.Name, e.name, e.p.X, e.p.Y, w, h))
			}
		}
	}
	for _, z := range zones {
		for i, p := range z.Polygon {
			if !in(p) {
				errs = append(errs, fmt.Errorf("zone %q: point %d (%g,%g) is outside the %dx%d frame", z.Name, i, p.X, p.Y, w, h))
			}
		}
	}
	return errors.Join(errs...)
}
