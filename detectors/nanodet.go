package detectors

import (
	"fmt"
	"math"

	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
)

// nanodetHead decodes the original NanoDet (GFL) export: per stride 8/16/32
// a cls_pred_stride_S [1,N,C] tensor (sigmoid applied) and a
// dis_pred_stride_S [1,N,4*(R+1)] tensor of side-distance distributions.
type nanodetHead struct {
	noExtras
	size    int
	in      string
	outs    []string // cls8, cls16, cls32, dis8, dis16, dis32
	shapes  []ort.Shape
	classes int
	bins    int // R+1 bins per side
	prob    []float32
}

var nanodetStrides = []int{8, 16, 32}

func newNanoDetHead(m models.Manifest, mi modelInfo) (head, error) {
	if len(mi.ins) != 1 {
		return nil, fmt.Errorf("want 1 input, got %d", len(mi.ins))
	}
	size, err := imageInput(mi.ins[0])
	if err != nil {
		return nil, err
	}
	h := &nanodetHead{size: size, in: mi.ins[0].Name, classes: len(m.Classes)}
	for _, kind := range []string{"cls", "dis"} {
		for _, s := range nanodetStrides {
			name := fmt.Sprintf("%s_pred_stride_%d", kind, s)
			o, ok := mi.output(name)
			if !ok {
				return nil, fmt.Errorf("no output named %s", name)
			}
			n := int64((size / s) * (size / s))
			d := o.Dimensions
			if o.DataType != ort.TensorElementDataTypeFloat || len(d) != 3 || d[0] != 1 || d[1] != n {
				return nil, fmt.Errorf("output %s is %v, want [1,%d,*]", name, d, n)
			}
			switch kind {
			case "cls":
				if d[2] != int64(h.classes) {
					return nil, fmt.Errorf("output %s has %d classes, manifest has %d", name, d[2], h.classes)
				}
			case "dis":
				if d[2]%4 != 0 || (h.bins != 0 && int(d[2]/4) != h.bins) {
					return nil, fmt.Errorf("output %s width %d is not 4 equal distributions", name, d[2])
				}
				h.bins = int(d[2] / 4)
			}
			h.outs = append(h.outs, name)
			h.shapes = append(h.shapes, d.Clone())
		}
	}
	h.prob = make([]float32, h.bins)
	return h, nil
}

func (h *nanodetHead) inputSize() int            { return h.size }
func (h *nanodetHead) inputNames() []string      { return []string{h.in} }
func (h *nanodetHead) outputNames() []string     { return h.outs }
func (h *nanodetHead) outputShapes() []ort.Shape { return h.shapes }

func (h *nanodetHead) decode(outs []ort.Value, _, _ int, g frameGeometry, f *filter, dst []Detection) ([]Detection, error) {
	for si, s := range nanodetStrides {
		cls, err := floats(outs[si], h.outs[si])
		if err != nil {
			return dst, err
		}
		dis, err := floats(outs[3+si], h.outs[3+si])
		if err != nil {
			return dst, err
		}
		n := h.size / s
		for i := 0; i < n*n; i++ {
			best, c := float32(-1), -1
			for k, v := range cls[i*h.classes : (i+1)*h.classes] {
				if v > best {
					best, c = v, k
				}
			}
			if best < f.score || !f.ok(c) {
				continue
			}
			ctrX := float32((i%n)*s) + float32(s-1)/2
			ctrY := float32((i/n)*s) + float32(s-1)/2
			d := dis[i*4*h.bins : (i+1)*4*h.bins]
			l := h.expect(d[0:h.bins]) * float32(s)
			t := h.expect(d[h.bins:2*h.bins]) * float32(s)
			r := h.expect(d[2*h.bins:3*h.bins]) * float32(s)
			b := h.expect(d[3*h.bins:]) * float32(s)
			box := g.toOriginal(ctrX-l, ctrY-t, ctrX+r, ctrY+b)
			if box.Area() <= 0 {
				continue
			}
			dst = append(dst, Detection{Box: box, Score: best, Class: c})
		}
	}
	return dst, nil
}

// expect is the GFL distance: the mean bin index under softmax(logits).
func (h *nanodetHead) expect(logits []float32) float32 {
	m := logits[0]
	for _, v := range logits[1:] {
		m = max(m, v)
	}
	var sum, acc float32
	for i, v := range logits {
		e := float32(math.Exp(float64(v - m)))
		sum += e
		acc += e * float32(i)
	}
	return acc / sum
}
