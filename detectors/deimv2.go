package detectors

import (
	"fmt"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
)

// deimv2Head drives DEIMv2 (DETR-style) exports: inputs images and
// orig_target_sizes int64 [[w,h]]; outputs labels, boxes (x1,y1,x2,y2 in
// frame pixels, scaled by the model from orig_target_sizes) and scores.
// Queries are already one-to-one, so no NMS follows.
type deimv2Head struct {
	size    int
	in      []string
	outs    []string // labels, boxes, scores
	classes int
	batch   bool // images and orig_target_sizes both have a dynamic first dimension
	// sizes[n-1] is orig_target_sizes for a batch of n; all of them view
	// sizesBuf, so prepare writes image i's row once whatever n is.
	sizes    []*ort.Tensor[int64]
	sizesBuf []int64
}

func newDEIMv2Head(m models.Manifest, mi modelInfo) (head, error) {
	if len(mi.ins) != 2 {
		return nil, fmt.Errorf("want 2 inputs (images, orig_target_sizes), got %d", len(mi.ins))
	}
	size, err := imageInput(mi.ins[0])
	if err != nil {
		return nil, err
	}
	ts := mi.ins[1]
	if ts.DataType != ort.TensorElementDataTypeInt64 || len(ts.Dimensions) != 2 || ts.Dimensions[1] != 2 {
		return nil, fmt.Errorf("input %q is %v %v, want int64 [N,2]", ts.Name, ts.DataType, ts.Dimensions)
	}
	want := map[string]struct {
		dt   ort.TensorElementDataType
		rank int
	}{
		"labels": {ort.TensorElementDataTypeInt64, 2},
		"boxes":  {ort.TensorElementDataTypeFloat, 3},
		"scores": {ort.TensorElementDataTypeFloat, 2},
	}
	h := &deimv2Head{size: size, in: []string{mi.ins[0].Name, ts.Name}, classes: len(m.Classes),
		batch: mi.ins[0].Dimensions[0] == -1 && ts.Dimensions[0] == -1}
	for _, name := range []string{"labels", "boxes", "scores"} {
		o, ok := mi.output(name)
		if !ok {
			return nil, fmt.Errorf("no output named %s", name)
		}
		if w := want[name]; o.DataType != w.dt || len(o.Dimensions) != w.rank {
			return nil, fmt.Errorf("output %s is %v %v, want %v of rank %d", name, o.DataType, o.Dimensions, w.dt, w.rank)
		}
		h.outs = append(h.outs, name)
	}
	return h, nil
}

func (h *deimv2Head) inputSize() int        { return h.size }
func (h *deimv2Head) inputNames() []string  { return h.in }
func (h *deimv2Head) outputNames() []string { return h.outs }

// outputShapes leaves all three to ONNX Runtime: the query count is a
// dynamic dimension in these exports.
func (h *deimv2Head) outputShapes() []ort.Shape             { return make([]ort.Shape, 3) }
func (h *deimv2Head) checkMetadata(map[string]string) error { return nil }
func (h *deimv2Head) dynamicBatch() bool                    { return h.batch }
func (h *deimv2Head) extraInputs(n int) []ort.Value         { return []ort.Value{h.sizes[n-1]} }

func (h *deimv2Head) allocBatch(maxBatch int) error {
	h.sizesBuf = make([]int64, 2*maxBatch)
	for n := 1; n <= maxBatch; n++ {
		t, err := ort.NewTensor(ort.NewShape(int64(n), 2), h.sizesBuf)
		if err != nil {
			return fmt.Errorf("allocate orig_target_sizes [%d,2]: %w", n, err)
		}
		h.sizes = append(h.sizes, t)
	}
	return nil
}

func (h *deimv2Head) destroy() {
	for _, t := range h.sizes {
		t.Destroy()
	}
	h.sizes = nil
}

func (h *deimv2Head) prepare(i int, g frameGeometry) {
	h.sizesBuf[2*i], h.sizesBuf[2*i+1] = int64(g.origW), int64(g.origH) // width first
}

func (h *deimv2Head) decode(outs []ort.Value, i, n int, g frameGeometry, f *filter, dst []Detection) ([]Detection, error) {
	lt, ok := outs[0].(*ort.Tensor[int64])
	if !ok {
		return dst, fmt.Errorf("output labels is %T, want int64 tensor", outs[0])
	}
	labels := lt.GetData()
	boxes, err := floats(outs[1], "boxes")
	if err != nil {
		return dst, err
	}
	scores, err := floats(outs[2], "scores")
	if err != nil {
		return dst, err
	}
	if len(labels) != len(scores) || len(boxes) != 4*len(scores) {
		return dst, fmt.Errorf("output sizes disagree: %d labels, %d boxes values, %d scores", len(labels), len(boxes), len(scores))
	}
	// Every output is [n, queries, ...]: image i owns the i-th block. The
	// length gives the query count without GetShape, which allocates.
	if n <= 0 || i >= n || len(scores)%n != 0 {
		return dst, fmt.Errorf("%d scores do not split into %d images", len(scores), n)
	}
	q := len(scores) / n
	labels, scores, boxes = labels[i*q:(i+1)*q], scores[i*q:(i+1)*q], boxes[4*i*q:4*(i+1)*q]
	for i, s := range scores {
		c := int(labels[i])
		if s < f.score || c < 0 || c >= h.classes || !f.ok(c) {
			continue
		}
		b := boxes[4*i : 4*i+4]
		box := geom.Box{X1: float64(b[0]), Y1: float64(b[1]), X2: float64(b[2]), Y2: float64(b[3])}.
			Clip(float64(g.origW), float64(g.origH))
		if box.Area() <= 0 {
			continue
		}
		dst = append(dst, Detection{Box: box, Score: s, Class: c})
	}
	return dst, nil
}
