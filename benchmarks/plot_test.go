package benchmarks

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// checkPNG decodes a plot and checks its size and that it is a drawing,
// not an empty or filled canvas.
func checkPNG(t *testing.T, path string) gocv.Mat {
	t.Helper()
	img := gocv.IMRead(path, gocv.IMReadColor)
	if img.Empty() {
		t.Fatalf("%s: does not decode", path)
	}
	t.Cleanup(func() { img.Close() })
	if img.Cols() != 960 || img.Rows() != 640 {
		t.Errorf("%s: %dx%d, want 960x640", path, img.Cols(), img.Rows())
	}
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(img, &grey, gocv.ColorBGRToGray)
	ink := gocv.NewMat()
	defer ink.Close()
	gocv.Threshold(grey, &ink, 250, 255, gocv.ThresholdBinaryInv)
	frac := float64(gocv.CountNonZero(ink)) / float64(img.Rows()*img.Cols())
	// Axes, grid, ticks, labels and markers: a few percent of the canvas.
	if frac < 0.01 || frac > 0.4 {
		t.Errorf("%s: %.1f%% of pixels are not white, want a drawing (1-40%%)", path, frac*100)
	}
	return img
}

// colourNear reports whether the pixel at p (BGR) is within 10 of c.
func colourNear(img gocv.Mat, p image.Point, c color.RGBA) bool {
	v := img.GetVecbAt(p.Y, p.X)
	d := func(a uint8, b uint8) float64 { return math.Abs(float64(a) - float64(b)) }
	return d(v[0], c.B) <= 10 && d(v[1], c.G) <= 10 && d(v[2], c.R) <= 10
}

func TestReportPlotsOfARealRun(t *testing.T) {
	r := smallRun(t)
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	if len(r.Plots) != 2 || r.Plots[0] != "latency_vs_ap50.png" || r.Plots[1] != "latency_vs_idf1.png" {
		t.Fatalf("plots = %v", r.Plots)
	}
	for _, f := range r.Plots {
		img := checkPNG(t, filepath.Join(dir, f))
		// One model: its marker is the only blue in the plot area.
		blue := 0
		for y := 50; y < 570; y++ {
			for x := 90; x < 930; x++ {
				if colourNear(img, image.Pt(x, y), seriesColour(0)) {
					blue++
				}
			}
		}
		if blue < 50 || blue > 200 { // a filled circle of radius 6 is ~110 px
			t.Errorf("%s: %d marker-coloured pixels, want one marker", f, blue)
		}
	}
}

// The axes here are known by hand: x 1..4 pads to [0.76,4.24], step 1,
// axis 0..5; y 0.2..0.8 pads to [0.152,0.848], step 0.2, axis 0..1. The
// plot area is x 90..930, y 50..570.
func TestScatterPutsPointsWhereTheAxesSay(t *testing.T) {
	s := Scatter{Title: "t", XLabel: "x", YLabel: "y", Series: []string{"a", "b"}}
	for i, x := range []float64{1, 2, 3, 4} {
		s.Points = append(s.Points, Point{X: x, Y: x / 5, Label: "model_" + string(rune('a'+i)), Series: i % 2})
	}
	path := filepath.Join(t.TempDir(), "s.png")
	if err := s.WritePNG(path); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path)
	for _, p := range s.Points {
		at := image.Pt(90+int(math.Round(p.X/5*840)), 570-int(math.Round(p.Y*520)))
		if !colourNear(img, at, seriesColour(p.Series)) {
			t.Errorf("point (%v,%v): pixel %v is %v, want series %d's colour", p.X, p.Y, at, img.GetVecbAt(at.Y, at.X), p.Series)
		}
	}
	// The axis lines themselves.
	if !colourNear(img, image.Pt(500, 570), black) || !colourNear(img, image.Pt(90, 300), black) {
		t.Error("axes are not drawn along the plot area's bottom and left edges")
	}
}

func TestNiceAxisSteps(t *testing.T) {
	for _, c := range []struct {
		vs           []float64
		lo, hi, step float64
	}{
		{[]float64{1, 4}, 0, 5, 1},
		{[]float64{0.2, 0.8}, 0, 1, 0.2},
		{[]float64{4.1, 49.9}, 0, 60, 20},
		{[]float64{120, 130}, 117.5, 132.5, 2.5},
		{[]float64{0.5}, 0.44, 0.56, 0.02},
	} {
		a := niceAxis(c.vs)
		if math.Abs(a.lo-c.lo) > 1e-9 || math.Abs(a.hi-c.hi) > 1e-9 || math.Abs(a.step-c.step) > 1e-9 {
			t.Errorf("niceAxis(%v) = %+v, want lo %v hi %v step %v", c.vs, a, c.lo, c.hi, c.step)
		}
		for _, v := range c.vs {
			if v <= a.lo || v >= a.hi {
				t.Errorf("niceAxis(%v): %v on or outside [%v,%v]", c.vs, v, a.lo, a.hi)
			}
		}
	}
	if got := (axis{lo: 0, hi: 1, step: 0.25}).format(0.5); got != "0.50" {
		t.Errorf("format(0.5) at step 0.25 = %q, want 0.50", got)
	}
}

func TestScatterRejectsNonFinitePoints(t *testing.T) {
	for _, p := range []Point{{X: math.NaN(), Y: 1, Label: "a"}, {X: 1, Y: math.Inf(1), Label: "b"}} {
		s := Scatter{Title: "t", Points: []Point{{X: 1, Y: 1, Label: "ok"}, p}}
		if _, err := s.Render(); err == nil || !strings.Contains(err.Error(), p.Label) {
			t.Errorf("point %+v: got %v, want an error naming it", p, err)
		}
	}
}
