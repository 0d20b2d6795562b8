package counting

import (
	"errors"
	"fmt"
	"math"

	"github.com/storesight/storesight/geom"
)

// Defaults applied by NewCounter and NewAggregator to zero-valued fields.
const (
	DefaultBand          = 8.0
	DefaultConfirmFrames = 2
	DefaultForward       = "forward"
	DefaultBackward      = "backward"
)

// Line is a directed counting line.
//
// Forward is movement from the negative (left-hand) side of Seg.A->Seg.B, as
// seen on screen, to the positive (right-hand) side; see geom.Segment.Side.
// For a horizontal line drawn left to right, Forward is moving down the
// image.
type Line struct {
	Name string
	Seg  geom.Segment
	// Forward and Backward name the two directions (e.g. "in" and "out");
	// empty means "forward" and "backward".
	Forward, Backward string
	// Band is the hysteresis half-width in pixels (0 means DefaultBand): an
	// anchor closer than this to the line never decides a side. It is also
	// the tolerance, along the line, for the crossing to count as within the
	// segment's extent.
	Band float64
	// ConfirmFrames is how many consecutive observations on the far side,
	// outside the band, make a crossing (0 means DefaultConfirmFrames).
	ConfirmFrames int
	// Entrance names the direction (Forward or Backward, after defaults)
	// in which crossing this line means entering the store; "" means the
	// line is not an entrance. Counting ignores it: it travels with the
	// LineCount so that consumers (store conversion) know which count is
	// people coming in without knowing the camera layout.
	Entrance string
}

// Zone is a named polygon whose occupancy is counted every frame.
type Zone struct {
	Name    string
	Polygon geom.Polygon
}

// normalise applies defaults and validates one line.
func (l Line) normalise() (Line, error) {
	if l.Name == "" {
		return l, errors.New("line has no name")
	}
	for _, p := range []geom.Point{l.Seg.A, l.Seg.B} {
		if !finite(p) {
			return l, fmt.Errorf("line %q: non-finite point (%g,%g)", l.Name, p.X, p.Y)
		}
	}
	if l.Seg.B.Sub(l.Seg.A).Norm() == 0 {
		return l, fmt.Errorf("line %q: degenerate segment, A and B are both (%g,%g)", l.Name, l.Seg.A.X, l.Seg.A.Y)
	}
	if l.Forward == "" {
		l.Forward = DefaultForward
	}
	if l.Backward == "" {
		l.Backward = DefaultBackward
	}
	if l.Forward == l.Backward {
		return l, fmt.Errorf("line %q: forward and backward are both named %q", l.Name, l.Forward)
	}
	if l.Entrance != "" && l.Entrance != l.Forward && l.Entrance != l.Backward {
		return l, fmt.Errorf("line %q: entrance %q is neither direction (%q, %q)", l.Name, l.Entrance, l.Forward, l.Backward)
	}
	switch {
	case l.Band == 0:
		l.Band = DefaultBand
	case l.Band < 0 || math.IsNaN(l.Band) || math.IsInf(l.Band, 0):
		return l, fmt.Errorf("line %q: band %g must be a positive number of pixels", l.Name, l.Band)
	}
	switch {
	case l.ConfirmFrames == 0:
		l.ConfirmFrames = DefaultConfirmFrames
	case l.ConfirmFrames < 0:
		return l, fmt.Errorf("line %q: confirm frames %d must be positive", l.Name, l.ConfirmFrames)
	}
	return l, nil
}

func (z Zone) validate() error {
	if z.Name == "" {
		return errors.New("zone has no name")
	}
	if len(z.Polygon) < 3 {
		return fmt.Errorf("zone %q: polygon needs at least 3 points, has %d", z.Name, len(z.Polygon))
	}
	for _, p := range z.Polygon {
		if !finite(p) {
			return fmt.Errorf("zone %q: non-finite point (%g,%g)", z.Name, p.X, p.Y)
		}
	}
	return nil
}

// normaliseAll validates lines and zones together (names distinct within
// each kind) and returns the lines with defaults applied.
func normaliseAll(lines []Line, zones []Zone) ([]Line, error) {
	out := make([]Line, len(lines))
	seen := make(map[string]bool, len(lines))
	for i, l := range lines {
		n, err := l.normalise()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("line %d: duplicate line name %q", i, n.Name)
		}
		seen[n.Name] = true
		out[i] = n
	}
	seen = make(map[string]bool, len(zones))
	for i, z := range zones {
		if err := z.validate(); err != nil {
			return nil, fmt.Errorf("zone %d: %w", i, err)
		}
		if seen[z.Name] {
			return nil, fmt.Errorf("zone %d: duplicate zone name %q", i, z.Name)
		}
		seen[z.Name] = true
	}
	return out, nil
}

func finite(p geom.Point) bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}
