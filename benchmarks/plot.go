package benchmarks

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gocv.io/x/gocv"
)

// writePlots draws the report's figures into dir and names them in
// r.Plots: latency p50 at the largest thread count against AP50 and
// against IDF1 when accuracy was measured, else latency against throughput
// with one colour per thread count.
func (r *Report) writePlots(dir string) error {
	r.Plots = []string{}
	type plot struct {
		file string
		s    Scatter
	}
	var plots []plot
	if len(r.Accuracy) > 0 {
		top := slices.Max(r.Settings.Threads)
		p50 := map[string]float64{}
		for _, l := range r.Latency {
			if l.Threads == top {
				p50[l.Model] = l.P50Ms
			}
		}
		xl := fmt.Sprintf("Detect latency p50 (ms, %d threads)", top)
		ap := Scatter{Title: "Latency against detection AP50", XLabel: xl, YLabel: "AP50 (IoU 0.5)"}
		idf1 := Scatter{Title: "Latency against tracking IDF1", XLabel: xl, YLabel: "IDF1"}
		for _, a := range r.Accuracy {
			x, ok := p50[a.Model]
			if !ok {
				continue
			}
			ap.Points = append(ap.Points, Point{X: x, Y: a.AP50, Label: a.Model})
			idf1.Points = append(idf1.Points, Point{X: x, Y: a.IDF1, Label: a.Model})
		}
		if seq := filepath.Base(r.Settings.Sequence); seq != "." {
			ap.Title += " on " + seq
			idf1.Title += " on " + seq
		}
		plots = append(plots, plot{"latency_vs_ap50.png", ap}, plot{"latency_vs_idf1.png", idf1})
	} else {
		s := Scatter{Title: "Latency against throughput (accuracy not measured)",
			XLabel: "Detect latency p50 (ms)", YLabel: "Throughput (frames/s, one detector)"}
		for i, t := range r.Settings.Threads {
			name := fmt.Sprintf("%d threads", t)
			if t == 1 {
				name = "1 thread"
			}
			s.Series = append(s.Series, name)
			for _, l := range r.Latency {
				if l.Threads == t {
					s.Points = append(s.Points, Point{X: l.P50Ms, Y: l.FPS, Label: l.Model, Series: i})
				}
			}
		}
		plots = append(plots, plot{"latency_vs_fps.png", s})
	}
	for _, p := range plots {
		if len(p.s.Points) == 0 {
			continue
		}
		if err := p.s.WritePNG(filepath.Join(dir, p.file)); err != nil {
			return err
		}
		r.Plots = append(r.Plots, p.file)
	}
	return nil
}

// Point is one labelled marker of a scatter plot.
type Point struct {
	X, Y   float64
	Label  string
	Series int // index into Scatter.Series; picks the colour
}

// Scatter is a labelled scatter plot drawn with OpenCV, so the report needs
// no plotting library beyond the gocv the pipeline already links.
type Scatter struct {
	Title, XLabel, YLabel string
	// Series names the colours; a legend is drawn when there are two or more.
	Series        []string
	Points        []Point
	Width, Height int // pixels; 0 means 960x640
}

var (
	white     = color.RGBA{255, 255, 255, 255}
	black     = color.RGBA{0, 0, 0, 255}
	gridGrey  = color.RGBA{225, 225, 225, 255}
	textGrey  = color.RGBA{60, 60, 60, 255}
	seriesRGB = []color.RGBA{{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {148, 103, 189, 255}, {255, 127, 14, 255}}
)

const (
	font      = gocv.FontHersheySimplex
	tickScale = 0.45
	textScale = 0.42
	axisScale = 0.6
)

// WritePNG renders the plot and writes it to path.
func (s Scatter) WritePNG(path string) error {
	img, err := s.Render()
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	defer img.Close()
	if !gocv.IMWrite(path, img) {
		return fmt.Errorf("plot %s: could not write PNG", path)
	}
	return nil
}

// Render draws the plot into a new BGR Mat the caller must close.
func (s Scatter) Render() (gocv.Mat, error) {
	if len(s.Points) == 0 {
		return gocv.Mat{}, errors.New("no points to plot")
	}
	for _, p := range s.Points {
		// A non-finite value would make the axis step NaN and its tick
		// loop endless.
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			return gocv.Mat{}, fmt.Errorf("point %q is not finite (%v, %v)", p.Label, p.X, p.Y)
		}
	}
	w, h := s.Width, s.Height
	if w == 0 || h == 0 {
		w, h = 960, 640
	}
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), h, w, gocv.MatTypeCV8UC3)
	area := image.Rect(90, 50, w-30, h-70)

	xs, ys := make([]float64, len(s.Points)), make([]float64, len(s.Points))
	for i, p := range s.Points {
		xs[i], ys[i] = p.X, p.Y
	}
	xa, ya := niceAxis(xs), niceAxis(ys)
	px := func(x float64) int {
		return area.Min.X + int(math.Round((x-xa.lo)/(xa.hi-xa.lo)*float64(area.Dx())))
	}
	py := func(y float64) int {
		return area.Max.Y - int(math.Round((y-ya.lo)/(ya.hi-ya.lo)*float64(area.Dy())))
	}

	// Grid and ticks first, so axes and points draw over them.
	for _, t := range xa.ticks() {
		x := px(t)
		gocv.Line(&img, image.Pt(x, area.Min.Y), image.Pt(x, area.Max.Y), gridGrey, 1)
		gocv.Line(&img, image.Pt(x, area.Max.Y), image.Pt(x, area.Max.Y+6), black, 1)
		lbl := xa.format(t)
		sz := gocv.GetTextSize(lbl, font, tickScale, 1)
		gocv.PutText(&img, lbl, image.Pt(x-sz.X/2, area.Max.Y+10+sz.Y), font, tickScale, textGrey, 1)
	}
	for _, t := range ya.ticks() {
		y := py(t)
		gocv.Line(&img, image.Pt(area.Min.X, y), image.Pt(area.Max.X, y), gridGrey, 1)
		gocv.Line(&img, image.Pt(area.Min.X-6, y), image.Pt(area.Min.X, y), black, 1)
		lbl := ya.format(t)
		sz := gocv.GetTextSize(lbl, font, tickScale, 1)
		gocv.PutText(&img, lbl, image.Pt(area.Min.X-10-sz.X, y+sz.Y/2), font, tickScale, textGrey, 1)
	}
	gocv.Line(&img, image.Pt(area.Min.X, area.Max.Y), image.Pt(area.Max.X, area.Max.Y), black, 2)
	gocv.Line(&img, image.Pt(area.Min.X, area.Min.Y), image.Pt(area.Min.X, area.Max.Y), black, 2)

	centred(&img, s.Title, (area.Min.X+area.Max.X)/2, 32, axisScale+0.1, 2)
	centred(&img, s.XLabel, (area.Min.X+area.Max.X)/2, h-20, axisScale, 1)
	if err := verticalText(&img, s.YLabel, 22, (area.Min.Y+area.Max.Y)/2); err != nil {
		img.Close()
		return gocv.Mat{}, err
	}

	// Labels are placed where they cover neither a marker nor an earlier
	// label, so close models stay readable; leader lines go under the
	// markers, text over everything.
	var taken []image.Rectangle
	centres := make([]image.Point, len(s.Points))
	for i, p := range s.Points {
		centres[i] = image.Pt(px(p.X), py(p.Y))
		taken = append(taken, image.Rectangle{Min: centres[i].Sub(image.Pt(7, 7)), Max: centres[i].Add(image.Pt(7, 7))})
	}
	bounds := image.Rect(area.Min.X+2, 2, w-2, area.Max.Y-2)
	labels := make([]image.Rectangle, len(s.Points))
	for i, p := range s.Points {
		c := centres[i]
		labels[i] = placeLabel(p.Label, c, bounds, taken)
		taken = append(taken, labels[i])
		if !labels[i].Inset(-2).Overlaps(image.Rectangle{Min: c.Sub(image.Pt(9, 9)), Max: c.Add(image.Pt(9, 9))}) {
			// Pushed away from its marker: a leader line keeps them paired.
			gocv.Line(&img, c, nearest(labels[i], c), textGrey, 1)
		}
	}
	for i, p := range s.Points {
		gocv.Circle(&img, centres[i], 6, seriesColour(p.Series), -1)
		gocv.Circle(&img, centres[i], 6, black, 1)
	}
	for i, p := range s.Points {
		gocv.PutText(&img, p.Label, image.Pt(labels[i].Min.X, labels[i].Max.Y-3), font, textScale, black, 1)
	}

	if len(s.Series) > 1 {
		legend(&img, s.Series, image.Pt(area.Max.X-10, area.Min.Y+10))
	}
	return img, nil
}

func seriesColour(i int) color.RGBA {
	return seriesRGB[((i%len(seriesRGB))+len(seriesRGB))%len(seriesRGB)]
}

// placeLabel picks the first spot around the marker where the label fits
// inside bounds without overlapping anything taken; failing that, the spot
// with the least overlap.
func placeLabel(label string, c image.Point, bounds image.Rectangle, taken []image.Rectangle) image.Rectangle {
	sz := gocv.GetTextSize(label, font, textScale, 1)
	tw, th := sz.X, sz.Y+6
	var cands []image.Rectangle
	for _, d := range []int{0, 1, 2, 3} {
		gap := 10 + d*th
		for _, o := range []image.Point{
			{10 + d*20, -th / 2}, {-10 - d*20 - tw, -th / 2}, // right, left
			{-tw / 2, -gap - th}, {-tw / 2, gap}, // above, below
			{10, -gap - th + th/2}, {10, gap - th/2}, {-10 - tw, -gap - th + th/2}, {-10 - tw, gap - th/2}, // diagonals
		} {
			min := c.Add(o)
			cands = append(cands, image.Rectangle{Min: min, Max: min.Add(image.Pt(tw, th))})
		}
	}
	best, bestCost := cands[0], math.MaxInt
	for _, r := range cands {
		cost := 0
		if !r.In(bounds) {
			cost += 1 << 20
		}
		for _, t := range taken {
			in := r.Intersect(t)
			cost += in.Dx() * in.Dy()
		}
		if cost == 0 {
			return r
		}
		if cost < bestCost {
			best, bestCost = r, cost
		}
	}
	return best
}

func nearest(r image.Rectangle, p image.Point) image.Point {
	return image.Pt(min(max(p.X, r.Min.X), r.Max.X-1), min(max(p.Y, r.Min.Y), r.Max.Y-1))
}

func centred(img *gocv.Mat, text string, x, baseline int, scale float64, thick int) {
	sz := gocv.GetTextSize(text, font, scale, thick)
	gocv.PutText(img, text, image.Pt(x-sz.X/2, baseline), font, scale, black, thick)
}

// verticalText draws text rotated a quarter turn anticlockwise, centred on
// (x, y): OpenCV has no rotated text, so it is drawn flat and rotated.
func verticalText(img *gocv.Mat, text string, x, y int) error {
	if text == "" {
		return nil
	}
	sz, base := gocv.GetTextSizeWithBaseline(text, font, axisScale, 1)
	flat := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), sz.Y+base+4, sz.X+4, gocv.MatTypeCV8UC3)
	defer flat.Close()
	gocv.PutText(&flat, text, image.Pt(2, sz.Y+2), font, axisScale, black, 1)
	up := gocv.NewMat()
	defer up.Close()
	gocv.Rotate(flat, &up, gocv.Rotate90CounterClockwise)
	r := image.Rect(x-up.Cols()/2, y-up.Rows()/2, x-up.Cols()/2+up.Cols(), y-up.Rows()/2+up.Rows())
	if !r.In(image.Rect(0, 0, img.Cols(), img.Rows())) {
		return fmt.Errorf("axis label %q does not fit the %dx%d plot", text, img.Cols(), img.Rows())
	}
	dst := img.Region(r)
	defer dst.Close()
	up.CopyTo(&dst)
	return nil
}

// legend draws one coloured marker and name per series, right-aligned at
// topRight.
func legend(img *gocv.Mat, names []string, topRight image.Point) {
	wMax := 0
	for _, n := range names {
		wMax = max(wMax, gocv.GetTextSize(n, font, textScale, 1).X)
	}
	row := 20
	box := image.Rect(topRight.X-wMax-40, topRight.Y, topRight.X, topRight.Y+row*len(names)+8)
	gocv.Rectangle(img, box, white, -1)
	gocv.Rectangle(img, box, textGrey, 1)
	for i, n := range names {
		y := box.Min.Y + 14 + i*row
		gocv.Circle(img, image.Pt(box.Min.X+14, y), 6, seriesColour(i), -1)
		gocv.PutText(img, n, image.Pt(box.Min.X+28, y+5), font, textScale, black, 1)
	}
}

// axis is a value range snapped to round tick steps.
type axis struct{ lo, hi, step float64 }

// niceAxis covers vs with about five ticks at 1, 2, 2.5 or 5 times a
// power of ten, padded so no marker sits on the frame.
func niceAxis(vs []float64) axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	span := hi - lo
	switch {
	case span == 0:
		// One value (or all equal): a tenth of it either side.
		d := math.Max(math.Abs(hi)*0.1, 1e-3)
		lo, hi = lo-d, hi+d
	case lo >= 0:
		// Latencies and accuracy fractions are never negative: do not pad
		// the axis below zero.
		lo, hi = math.Max(0, lo-0.08*span), hi+0.08*span
	default:
		lo, hi = lo-0.08*span, hi+0.08*span
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, f := range []float64{1, 2, 2.5, 5} {
		if f*mag >= raw*(1-1e-9) { // 0.1/5 is 0.020000000000000007
			step = f * mag
			break
		}
	}
	return axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, step: step}
}

func (a axis) ticks() []float64 {
	var ts []float64
	for i := 0; ; i++ {
		t := a.lo + float64(i)*a.step
		if t > a.hi+a.step/1e6 {
			return ts
		}
		ts = append(ts, t)
	}
}

func (a axis) format(v float64) string {
	dec := max(0, -int(math.Floor(math.Log10(a.step)+1e-9)))
	if r := a.step / math.Pow(10, math.Floor(math.Log10(a.step)+1e-9)); math.Abs(r-2.5) < 1e-9 {
		dec++
	}
	if math.Abs(v) < a.step/1e6 {
		v = 0 // no "-0.00"
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}
