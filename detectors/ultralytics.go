package detectors

import (
	"fmt"
	"regexp"

	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
)

// ultralyticsHead decodes YOLOv8/YOLO11 detection exports: output
// [1, 4+C, A], channels first, rows 0-3 cx,cy,w,h in input pixels and rows
// 4.. class probabilities (no objectness).
type ultralyticsHead struct {
	noExtras
	size    int
	in, out string
	classes int
	anchors int
	best    []float32 // per anchor, reused across frames
	bestCls []int32
}

func newUltralyticsHead(m models.Manifest, mi modelInfo) (head, error) {
	if len(mi.ins) != 1 || len(mi.outs) != 1 {
		return nil, fmt.Errorf("want 1 input and 1 output, got %d and %d", len(mi.ins), len(mi.outs))
	}
	size, err := imageInput(mi.ins[0])
	if err != nil {
		return nil, err
	}
	o := mi.outs[0]
	a, c := anchorCount(size), len(m.Classes)
	if o.DataType != ort.TensorElementDataTypeFloat || !o.Dimensions.Equals(ort.NewShape(1, int64(4+c), int64(a))) {
		return nil, fmt.Errorf("output %q is %v, want [1,%d,%d] (4 + %d classes, grid cells for input %d)",
			o.Name, o.Dimensions, 4+c, a, c, size)
	}
	return &ultralyticsHead{size: size, in: mi.ins[0].Name, out: o.Name, classes: c, anchors: a,
		best: make([]float32, a), bestCls: make([]int32, a)}, nil
}

func (h *ultralyticsHead) inputSize() int        { return h.size }
func (h *ultralyticsHead) inputNames() []string  { return []string{h.in} }
func (h *ultralyticsHead) outputNames() []string { return []string{h.out} }
func (h *ultralyticsHead) outputShapes() []ort.Shape {
	return []ort.Shape{ort.NewShape(1, int64(4+h.classes), int64(h.anchors))}
}

var ultralyticsName = regexp.MustCompile(`(\d+)\s*:\s*['"]`)

// checkMetadata uses what Ultralytics embeds in every export: a task other
// than detect, or a class list of another length, means the wrong manifest.
func (h *ultralyticsHead) checkMetadata(meta map[string]string) error {
	if t, ok := meta["task"]; ok && t != "detect" {
		return fmt.Errorf("model metadata task is %q, want detect", t)
	}
	if names, ok := meta["names"]; ok {
		if n := len(ultralyticsName.FindAllString(names, -1)); n != h.classes {
			return fmt.Errorf("model metadata names %d classes, manifest has %d", n, h.classes)
		}
	}
	return nil
}

func (h *ultralyticsHead) decode(outs []ort.Value, _, _ int, g frameGeometry, f *filter, dst []Detection) ([]Detection, error) {
	data, err := floats(outs[0], h.out)
	if err != nil {
		return dst, err
	}
	a := h.anchors
	// Class-major argmax: each class row is contiguous, so this walks memory
	// in order instead of striding 4+C rows per anchor.
	copy(h.best, data[4*a:5*a])
	for i := range h.bestCls {
		h.bestCls[i] = 0
	}
	for c := 1; c < h.classes; c++ {
		row := data[(4+c)*a : (5+c)*a]
		best := h.best[:len(row)]
		for i, v := range row {
			if v > best[i] {
				best[i] = v
				h.bestCls[i] = int32(c)
			}
		}
	}
	cx, cy, w, ht := data[:a], data[a:2*a], data[2*a:3*a], data[3*a:4*a]
	for i, s := range h.best {
		if s < f.score || !f.ok(int(h.bestCls[i])) {
			continue
		}
		box := g.toOriginal(cx[i]-w[i]/2, cy[i]-ht[i]/2, cx[i]+w[i]/2, cy[i]+ht[i]/2)
		if box.Area() <= 0 {
			continue
		}
		dst = append(dst, Detection{Box: box, Score: s, Class: int(h.bestCls[i])})
	}
	return dst, nil
}
