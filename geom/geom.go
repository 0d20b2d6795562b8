// Package geom holds the small geometry shared along the data path: points,
// boxes, segments and polygons in image pixel coordinates (origin top-left,
// y down).
package geom

import "math"

// Point is a position in image pixels.
type Point struct {
	X, Y float64
}

// Sub returns p - q.
func (p Point) Sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y} }

// Cross is the z component of the 2-D cross product p x q.
func (p Point) Cross(q Point) float64 { return p.X*q.Y - p.Y*q.X }

// Dot is the dot product.
func (p Point) Dot(q Point) float64 { return p.X*q.X + p.Y*q.Y }

// Norm is the Euclidean length.
func (p Point) Norm() float64 { return math.Hypot(p.X, p.Y) }

// Box is an axis-aligned rectangle: (X1,Y1) top-left, (X2,Y2) bottom-right.
type Box struct {
	X1, Y1, X2, Y2 float64
}

// W is the width (never negative).
func (b Box) W() float64 { return math.Max(0, b.X2-b.X1) }

// H is the height (never negative).
func (b Box) H() float64 { return math.Max(0, b.Y2-b.Y1) }

// Area of the box.
func (b Box) Area() float64 { return b.W() * b.H() }

// Center of the box.
func (b Box) Center() Point { return Point{(b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2} }

// BottomCenter is where a standing person touches the floor: the anchor
// used for counting, because it moves with the feet and not with the torso.
func (b Box) BottomCenter() Point { return Point{(b.X1 + b.X2) / 2, b.Y2} }

// Intersect returns the overlap of two boxes (zero-area when disjoint).
func (b Box) Intersect(o Box) Box {
	r := Box{math.Max(b.X1, o.X1), math.Max(b.Y1, o.Y1), math.Min(b.X2, o.X2), math.Min(b.Y2, o.Y2)}
	if r.X2 < r.X1 {
		r.X2 = r.X1
	}
	if r.Y2 < r.Y1 {
		r.Y2 = r.Y1
	}
	return r
}

// IoU is intersection over union; 0 for two empty boxes.
func (b Box) IoU(o Box) float64 {
	in := b.Intersect(o).Area()
	u := b.Area() + o.Area() - in
	if u <= 0 {
		return 0
	}
	return in / u
}

// Clip limits the box to [0,w]x[0,h].
func (b Box) Clip(w, h float64) Box {
	c := func(v, hi float64) float64 { return math.Min(math.Max(v, 0), hi) }
	return Box{c(b.X1, w), c(b.Y1, h), c(b.X2, w), c(b.Y2, h)}
}

// Segment is a directed line segment from A to B.
type Segment struct {
	A, B Point
}

// Side returns the signed distance of p from the infinite line through the
// segment. With image coordinates (y down) it is positive on the right-hand
// side of A->B as seen on screen (A->B turned 90 degrees clockwise), negative
// on the left-hand side. A horizontal line drawn left to right has its
// positive side below it.
func (s Segment) Side(p Point) float64 {
	d := s.B.Sub(s.A)
	n := d.Norm()
	if n == 0 {
		return 0
	}
	return d.Cross(p.Sub(s.A)) / n
}

// Project returns t such that A + t(B-A) is the foot of the perpendicular
// from p; 0..1 means within the segment.
func (s Segment) Project(p Point) float64 {
	d := s.B.Sub(s.A)
	l2 := d.Dot(d)
	if l2 == 0 {
		return 0
	}
	return p.Sub(s.A).Dot(d) / l2
}

// Intersects reports whether segments s and o intersect (proper or touching).
func (s Segment) Intersects(o Segment) bool {
	d1 := orient(o.A, o.B, s.A)
	d2 := orient(o.A, o.B, s.B)
	d3 := orient(s.A, s.B, o.A)
	d4 := orient(s.A, s.B, o.B)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSeg(o.A, o.B, s.A)) || (d2 == 0 && onSeg(o.A, o.B, s.B)) ||
		(d3 == 0 && onSeg(s.A, s.B, o.A)) || (d4 == 0 && onSeg(s.A, s.B, o.B))
}

func orient(a, b, c Point) float64 { return b.Sub(a).Cross(c.Sub(a)) }

func onSeg(a, b, p Point) bool {
	return math.Min(a.X, b.X) <= p.X && p.X <= math.Max(a.X, b.X) &&
		math.Min(a.Y, b.Y) <= p.Y && p.Y <= math.Max(a.Y, b.Y)
}

// Polygon is a simple polygon given by its vertices in order.
type Polygon []Point

// Contains reports whether p is inside the polygon (even-odd rule).
func (pg Polygon) Contains(p Point) bool {
	in := false
	for i, j := 0, len(pg)-1; i < len(pg); j, i = i, i+1 {
		a, b := pg[i], pg[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// Bounds returns the bounding box of the polygon.
func (pg Polygon) Bounds() Box {
	if len(pg) == 0 {
		return Box{}
	}
	b := Box{pg[0].X, pg[0].Y, pg[0].X, pg[0].Y}
	for _, p := range pg[1:] {
		b.X1, b.Y1 = math.Min(b.X1, p.X), math.Min(b.Y1, p.Y)
		b.X2, b.Y2 = math.Max(b.X2, p.X), math.Max(b.Y2, p.Y)
	}
	return b
}
