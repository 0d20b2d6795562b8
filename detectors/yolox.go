package detectors

import (
	"fmt"
	"math"

	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
)

// yoloxHead decodes YOLOX raw heads: output [1, A, 5+C] with A grid cells
// over strides 8/16/32, boxes not yet grid-decoded, objectness and class
// scores already through a sigmoid.
type yoloxHead struct {
	noExtras
	size       int
	in, out    string
	anchors    int
	width      int       // 5 + classes
	gx, gy, st []float32 // per anchor: grid cell and stride
}

func newYOLOXHead(m models.Manifest, mi modelInfo) (head, error) {
	if len(mi.ins) != 1 || len(mi.outs) != 1 {
		return nil, fmt.Errorf("want 1 input and 1 output, got %d and %d", len(mi.ins), len(mi.outs))
	}
	size, err := imageInput(mi.ins[0])
	if err != nil {
		return nil, err
	}
	o := mi.outs[0]
	a, w := anchorCount(size), 5+len(m.Classes)
	if o.DataType != ort.TensorElementDataTypeFloat || !o.Dimensions.Equals(ort.NewShape(1, int64(a), int64(w))) {
		return nil, fmt.Errorf("output %q is %v, want [1,%d,%d] (grid cells for input %d, 5 + %d classes)",
			o.Name, o.Dimensions, a, w, size, len(m.Classes))
	}
	h := &yoloxHead{size: size, in: mi.ins[0].Name, out: o.Name, anchors: a, width: w}
	h.gx, h.gy, h.st = make([]float32, 0, a), make([]float32, 0, a), make([]float32, 0, a)
	for _, s := range []int{8, 16, 32} {
		n := size / s
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				h.gx = append(h.gx, float32(x))
				h.gy = append(h.gy, float32(y))
				h.st = append(h.st, float32(s))
			}
		}
	}
	return h, nil
}

func (h *yoloxHead) inputSize() int        { return h.size }
func (h *yoloxHead) inputNames() []string  { return []string{h.in} }
func (h *yoloxHead) outputNames() []string { return []string{h.out} }
func (h *yoloxHead) outputShapes() []ort.Shape {
	return []ort.Shape{ort.NewShape(1, int64(h.anchors), int64(h.width))}
}

func (h *yoloxHead) decode(outs []ort.Value, _, _ int, g frameGeometry, f *filter, dst []Detection) ([]Detection, error) {
	data, err := floats(outs[0], h.out)
	if err != nil {
		return dst, err
	}
	for a := 0; a < h.anchors; a++ {
		row := data[a*h.width : (a+1)*h.width]
		obj := row[4]
		// score = obj * cls <= obj: most cells are rejected here without
		// touching their class scores.
		if obj < f.score {
			continue
		}
		best, cls := float32(-1), -1
		for c, v := range row[5:] {
			if v > best {
				best, cls = v, c
			}
		}
		score := obj * best
		if score < f.score || !f.ok(cls) {
			continue
		}
		s := h.st[a]
		cx, cy := (row[0]+h.gx[a])*s, (row[1]+h.gy[a])*s
		bw := float32(math.Exp(float64(row[2]))) * s
		bh := float32(math.Exp(float64(row[3]))) * s
		box := g.toOriginal(cx-bw/2, cy-bh/2, cx+bw/2, cy+bh/2)
		if box.Area() <= 0 {
			continue
		}
		dst = append(dst, Detection{Box: box, Score: score, Class: cls})
	}
	return dst, nil
}
