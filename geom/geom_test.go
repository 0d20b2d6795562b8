package geom

import (
	"math"
	"testing"
)

func TestSideIsPositiveOnTheRightHandSideOnScreen(t *testing.T) {
	// A line drawn left to right: below it (larger y) is its right-hand side.
	s := Segment{A: Point{0, 100}, B: Point{200, 100}}
	if d := s.Side(Point{50, 130}); d != 30 {
		t.Fatalf("below: %v, want +30", d)
	}
	if d := s.Side(Point{50, 90}); d != -10 {
		t.Fatalf("above: %v, want -10", d)
	}
	// Drawn top to bottom: the screen's left is its right-hand side.
	v := Segment{A: Point{300, 150}, B: Point{300, 340}}
	if v.Side(Point{280, 200}) <= 0 || v.Side(Point{320, 200}) >= 0 {
		t.Fatal("vertical line: wrong sign")
	}
	if (Segment{A: Point{1, 1}, B: Point{1, 1}}).Side(Point{5, 5}) != 0 {
		t.Fatal("degenerate segment must give 0")
	}
}

func TestProjectAndIntersects(t *testing.T) {
	s := Segment{A: Point{0, 0}, B: Point{10, 0}}
	if p := s.Project(Point{5, 7}); p != 0.5 {
		t.Fatalf("project = %v", p)
	}
	if !s.Intersects(Segment{Point{5, -1}, Point{5, 1}}) || s.Intersects(Segment{Point{11, -1}, Point{11, 1}}) {
		t.Fatal("intersects")
	}
	if !s.Intersects(Segment{Point{10, 0}, Point{10, 5}}) {
		t.Fatal("touching segments intersect")
	}
}

func TestBoxIoUClipAnchor(t *testing.T) {
	a := Box{0, 0, 10, 10}
	b := Box{5, 0, 15, 10}
	if iou := a.IoU(b); math.Abs(iou-1.0/3) > 1e-12 {
		t.Fatalf("IoU = %v", iou)
	}
	if a.IoU(Box{20, 20, 30, 30}) != 0 || (Box{}).IoU(Box{}) != 0 {
		t.Fatal("disjoint or empty boxes must have IoU 0")
	}
	if c := (Box{-5, -5, 800, 50}).Clip(768, 576); c != (Box{0, 0, 768, 50}) {
		t.Fatalf("clip = %v", c)
	}
	if p := (Box{10, 20, 30, 60}).BottomCenter(); p != (Point{20, 60}) {
		t.Fatalf("bottom centre = %v", p)
	}
}

func TestPolygonContainsAndBounds(t *testing.T) {
	// A concave "L" shape.
	pg := Polygon{{0, 0}, {10, 0}, {10, 4}, {4, 4}, {4, 10}, {0, 10}}
	for _, c := range []struct {
		p  Point
		in bool
	}{{Point{2, 2}, true}, {Point{8, 2}, true}, {Point{2, 8}, true}, {Point{8, 8}, false}, {Point{-1, 5}, false}} {
		if pg.Contains(c.p) != c.in {
			t.Errorf("Contains(%v) = %v", c.p, !c.in)
		}
	}
	if b := pg.Bounds(); b != (Box{0, 0, 10, 10}) {
		t.Fatalf("bounds = %v", b)
	}
}
