// Command render draws MOT boxes (gt or proposals) with their ids and the
// two counting lines on decoded sample frames, for checking labels by eye.
//
//	go run ./testdata/mot/tools/render -img /tmp/mot/img1 -boxes testdata/mot/vtest-s01/gt/gt.txt \
//	    -frames 1,6,11-14 -crop 150,100,450,300 -scale 2 -grid 10 -out /tmp/mot/view
//
// Each output file is OUT/fNNNNNN.png. Boxes with consider=0 (gt files) are
// grey; the label is "id" or "id v0.4" when visibility < 1. -grid marks
// source-pixel coordinates, for reading box edges off a zoomed crop.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gocv.io/x/gocv"
)

type row struct {
	id         int
	l, t, w, h float64
	consider   float64
	vis        float64
}

func main() {
	imgDir := flag.String("img", "/tmp/mot/img1", "directory of 000001.jpg..")
	boxes := flag.String("boxes", "", "MOT file (gt or results)")
	frames := flag.String("frames", "", "comma-separated gt frames, or a-b ranges")
	crop := flag.String("crop", "", "x,y,w,h crop before scaling")
	scale := flag.Float64("scale", 1, "scale factor")
	out := flag.String("out", "/tmp/mot/view", "output directory")
	grid := flag.Int("grid", 0, "draw a coordinate grid every N source pixels (0 = none)")
	flag.Parse()
	if err := run(*imgDir, *boxes, *frames, *crop, *scale, *grid, *out); err != nil {
		slog.Error("render", "err", err)
		os.Exit(1)
	}
}

func parseFrames(s string) ([]int, error) {
	var fs []int
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			continue
		}
		a, b, rng := strings.Cut(p, "-")
		x, err := strconv.Atoi(a)
		if err != nil {
			return nil, fmt.Errorf("frames %q: %w", p, err)
		}
		y := x
		if rng {
			if y, err = strconv.Atoi(b); err != nil {
				return nil, fmt.Errorf("frames %q: %w", p, err)
			}
		}
		for f := x; f <= y; f++ {
			fs = append(fs, f)
		}
	}
	return fs, nil
}

func readBoxes(path string) (map[int][]row, error) {
	m := map[int][]row{}
	if path == "" {
		return m, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		p := strings.Split(s, ",")
		if len(p) < 7 {
			return nil, fmt.Errorf("%s:%d: %d fields, want >= 7", path, ln, len(p))
		}
		v := make([]float64, len(p))
		for i := range p {
			if v[i], err = strconv.ParseFloat(strings.TrimSpace(p[i]), 64); err != nil {
				return nil, fmt.Errorf("%s:%d: field %d: %w", path, ln, i+1, err)
			}
		}
		r := row{id: int(v[1]), l: v[2], t: v[3], w: v[4], h: v[5], consider: 1, vis: 1}
		if len(v) == 9 { // gt: consider, class, visibility
			r.consider, r.vis = v[6], v[8]
		}
		m[int(v[0])] = append(m[int(v[0])], r)
	}
	return m, sc.Err()
}

var palette = []color.RGBA{
	{255, 0, 0, 0}, {0, 255, 0, 0}, {0, 128, 255, 0}, {255, 255, 0, 0}, {255, 0, 255, 0},
	{0, 255, 255, 0}, {255, 128, 0, 0}, {128, 255, 128, 0}, {255, 128, 255, 0}, {128, 128, 255, 0},
}

func run(imgDir, boxes, frames, crop string, scale float64, grid int, out string) error {
	fs, err := parseFrames(frames)
	if err != nil {
		return err
	}
	bx, err := readBoxes(boxes)
	if err != nil {
		return err
	}
	var cr image.Rectangle
	if crop != "" {
		var x, y, w, h int
		if _, err := fmt.Sscanf(crop, "%d,%d,%d,%d", &x, &y, &w, &h); err != nil {
			return fmt.Errorf("crop %q: %w", crop, err)
		}
		cr = image.Rect(x, y, x+w, y+h)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, f := range fs {
		src := filepath.Join(imgDir, fmt.Sprintf("%06d.jpg", f))
		img := gocv.IMRead(src, gocv.IMReadColor)
		if img.Empty() {
			return fmt.Errorf("read %s", src)
		}
		if !cr.Empty() {
			c := img.Region(cr)
			img.Close()
			img = c.Clone()
			c.Close()
		}
		big := gocv.NewMat()
		gocv.Resize(img, &big, image.Point{}, scale, scale, gocv.InterpolationCubic)
		img.Close()
		pt := func(x, y float64) image.Point {
			return image.Pt(int((x-float64(cr.Min.X))*scale+0.5), int((y-float64(cr.Min.Y))*scale+0.5))
		}
		if grid > 0 {
			drawGrid(&big, cr, scale, grid)
		}
		line := color.RGBA{255, 255, 255, 0}
		gocv.Line(&big, pt(300, 150), pt(300, 340), line, 1)
		gocv.Line(&big, pt(560, 120), pt(560, 440), line, 1)
		for _, r := range bx[f] {
			c := palette[r.id%len(palette)]
			c = color.RGBA{c.B, c.G, c.R, 0} // BGR
			th := 1
			if r.consider == 0 {
				c = color.RGBA{160, 160, 160, 0}
			}
			gocv.Rectangle(&big, image.Rectangle{pt(r.l, r.t), pt(r.l+r.w, r.t+r.h)}, c, th)
			lbl := strconv.Itoa(r.id)
			if r.vis < 1 {
				lbl += fmt.Sprintf(" v%.1f", r.vis)
			}
			gocv.PutText(&big, lbl, pt(r.l, r.t).Add(image.Pt(1, -3)), gocv.FontHersheySimplex, 0.45, c, 1)
		}
		gocv.PutText(&big, fmt.Sprintf("gt %d / dec %d", f, f+259), image.Pt(4, 16), gocv.FontHersheySimplex, 0.5, color.RGBA{255, 255, 255, 0}, 1)
		dst := filepath.Join(out, fmt.Sprintf("f%06d.png", f))
		ok := gocv.IMWrite(dst, big)
		big.Close()
		if !ok {
			return fmt.Errorf("write %s", dst)
		}
	}
	return nil
}

// drawGrid marks source-pixel coordinates so box edges can be read off a
// zoomed crop: faint lines every n px, labelled every 2n.
func drawGrid(img *gocv.Mat, cr image.Rectangle, scale float64, n int) {
	c := color.RGBA{0, 200, 255, 0}
	w, h := img.Cols(), img.Rows()
	x0, y0 := cr.Min.X, cr.Min.Y
	for x := (x0/n + 1) * n; float64(x-x0)*scale < float64(w); x += n {
		px := int(float64(x-x0) * scale)
		for y := 0; y < h; y += 4 {
			img.SetUCharAt(y, px*3, 0)
			img.SetUCharAt(y, px*3+1, 200)
			img.SetUCharAt(y, px*3+2, 255)
		}
		if x%(2*n) == 0 {
			gocv.PutText(img, strconv.Itoa(x), image.Pt(px+2, h-4), gocv.FontHersheyPlain, 0.9, c, 1)
		}
	}
	for y := (y0/n + 1) * n; float64(y-y0)*scale < float64(h); y += n {
		py := int(float64(y-y0) * scale)
		for x := 0; x < w; x += 4 {
			img.SetUCharAt(py, x*3, 0)
			img.SetUCharAt(py, x*3+1, 200)
			img.SetUCharAt(py, x*3+2, 255)
		}
		if y%(2*n) == 0 {
			gocv.PutText(img, strconv.Itoa(y), image.Pt(2, py-2), gocv.FontHersheyPlain, 0.9, c, 1)
		}
	}
}
