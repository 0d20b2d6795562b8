package detectors

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
	"gocv.io/x/gocv"
)

// frameGeometry records how one frame was fitted into the model input, so
// boxes can be mapped back to the frame's pixels.
type frameGeometry struct {
	origW, origH int
	newW, newH   int     // size of the resized frame inside the input
	padX, padY   int     // where the resized frame starts in the input
	sx, sy       float64 // input pixels per frame pixel
}

// toOriginal maps a box from model-input pixels to frame pixels, clipped to
// the frame.
func (g frameGeometry) toOriginal(x1, y1, x2, y2 float32) geom.Box {
	b := geom.Box{
		X1: (float64(x1) - float64(g.padX)) / g.sx,
		Y1: (float64(y1) - float64(g.padY)) / g.sy,
		X2: (float64(x2) - float64(g.padX)) / g.sx,
		Y2: (float64(y2) - float64(g.padY)) / g.sy,
	}
	return b.Clip(float64(g.origW), float64(g.origH))
}

// preprocessor turns BGR frames into a model's NCHW float32 input. It keeps
// the resize buffer and writes straight into the input tensor's memory, so a
// steady stream of same-sized frames allocates nothing.
type preprocessor struct {
	size      int
	letterbox string
	rgb       bool
	// lut maps a byte to its normalised value for each tensor plane: one
	// load instead of a multiply-add per element, and it folds in any
	// mean/std the model wants.
	lut    [3][256]float32
	pad    uint8
	dst    []float32 // 3*size*size, the input tensor's backing slice
	resize gocv.Mat
	contig gocv.Mat
	last   frameGeometry
	filled bool // dst's padding is valid for last
}

func newPreprocessor(in models.Input, size int, dst []float32) (*preprocessor, error) {
	if len(dst) != 3*size*size {
		return nil, fmt.Errorf("input buffer holds %d floats, want 3x%dx%d", len(dst), size, size)
	}
	p := &preprocessor{
		size:      size,
		letterbox: in.Letterbox,
		rgb:       in.ChannelOrder == "rgb",
		pad:       in.PadValue,
		dst:       dst,
		resize:    gocv.NewMat(),
		contig:    gocv.NewMat(),
	}
	for c := 0; c < 3; c++ {
		for v := 0; v < 256; v++ {
			p.lut[c][v] = (float32(v)*in.Scale - in.Mean[c]) / in.Std[c]
		}
	}
	return p, nil
}

func (p *preprocessor) close() {
	p.resize.Close()
	p.contig.Close()
}

// geometry decides where a w x h frame goes in the input.
func (p *preprocessor) geometry(w, h int) frameGeometry {
	s := p.size
	g := frameGeometry{origW: w, origH: h, newW: s, newH: s}
	if p.letterbox != models.LetterboxStretch {
		r := math.Min(float64(s)/float64(w), float64(s)/float64(h))
		g.newW = min(s, max(1, int(math.Round(float64(w)*r))))
		g.newH = min(s, max(1, int(math.Round(float64(h)*r))))
		if p.letterbox == models.LetterboxCenter {
			// Integer division matches Ultralytics' round(dw - 0.1).
			g.padX, g.padY = (s-g.newW)/2, (s-g.newH)/2
		}
	}
	g.sx = float64(g.newW) / float64(w)
	g.sy = float64(g.newH) / float64(h)
	return g
}

// run fills the input tensor from img and returns the geometry used.
func (p *preprocessor) run(img gocv.Mat) (frameGeometry, error) {
	if img.Empty() {
		return frameGeometry{}, errors.New("preprocess: empty image")
	}
	if t := img.Type(); t != gocv.MatTypeCV8UC3 {
		return frameGeometry{}, fmt.Errorf("preprocess: image type %v, want 8-bit 3-channel BGR", t)
	}
	g := p.geometry(img.Cols(), img.Rows())
	src := img
	if g.newW != g.origW || g.newH != g.origH {
		gocv.Resize(img, &p.resize, image.Pt(g.newW, g.newH), 0, 0, gocv.InterpolationLinear)
		src = p.resize
	}
	if !src.IsContinuous() {
		src.CopyTo(&p.contig)
		src = p.contig
	}
	data, err := src.DataPtrUint8()
	if err != nil {
		return frameGeometry{}, fmt.Errorf("preprocess: %w", err)
	}
	if !p.filled || g != p.last {
		p.fillPad()
		p.last, p.filled = g, true
	}
	p.fill(data, g)
	return g, nil
}

// fillPad sets every element to the padding value. Only needed when the
// frame geometry changes: the image area is rewritten every frame and
// nothing else writes to the input tensor.
func (p *preprocessor) fillPad() {
	n := p.size * p.size
	for c := 0; c < 3; c++ {
		v := p.lut[c][p.pad]
		plane := p.dst[c*n : (c+1)*n]
		for i := range plane {
			plane[i] = v
		}
	}
}

// fill converts HWC BGR bytes to the three planes in one pass over the
// pixels; the channel order decides which byte feeds which plane.
func (p *preprocessor) fill(data []uint8, g frameGeometry) {
	s, n, w := p.size, p.size*p.size, g.newW
	d0, d1, d2 := p.dst[:n], p.dst[n:2*n], p.dst[2*n:3*n]
	l0, l1, l2 := &p.lut[0], &p.lut[1], &p.lut[2]
	if p.rgb {
		l0, l2 = l2, l0 // byte 0 (B) goes to plane 2 through plane 2's table
		d0, d2 = d2, d0
	}
	for y := 0; y < g.newH; y++ {
		row := data[y*w*3 : (y+1)*w*3]
		o := (y+g.padY)*s + g.padX
		r0, r1, r2 := d0[o:o+w], d1[o:o+w], d2[o:o+w]
		// Equal lengths let the compiler drop the per-element bounds checks
		// on r1, r2; three bytes per step walk row without re-slicing it.
		r1, r2 = r1[:len(r0)], r2[:len(r0)]
		for x, i := 0, 0; x < len(r0) && i+2 < len(row); x, i = x+1, i+3 {
			r0[x] = l0[row[i]]
			r1[x] = l1[row[i+1]]
			r2[x] = l2[row[i+2]]
		}
	}
}
