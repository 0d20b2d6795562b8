package detectors

import (
	"fmt"

	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
)

// head is one model family's view of the network: which tensors it reads
// and writes and how raw outputs become detections. Everything else
// (session, preprocessing, NMS) is shared.
type head interface {
	// inputSize is the square input side read from the model.
	inputSize() int
	// inputNames lists the image input first, then any extra inputs.
	inputNames() []string
	outputNames() []string
	// outputShapes gives the shape to preallocate per output; nil lets
	// ONNX Runtime allocate it on every run (dynamic shapes).
	outputShapes() []ort.Shape
	// dynamicBatch reports whether the model takes any batch size and
	// this head can decode every image of a batch. Heads answering false
	// only ever see batch index 0.
	dynamicBatch() bool
	// allocBatch allocates the head's extra inputs for every batch size up
	// to maxBatch; it is called once, before extraInputs.
	allocBatch(maxBatch int) error
	// extraInputs are the head's own input tensors after the image, shaped
	// for a batch of n images.
	extraInputs(n int) []ort.Value
	// prepare fills the extra inputs for image i of the batch.
	prepare(i int, g frameGeometry)
	// decode appends the detections of image i of a batch of n that pass
	// f, in that frame's pixels.
	decode(outs []ort.Value, i, n int, g frameGeometry, f *filter, dst []Detection) ([]Detection, error)
	// checkMetadata rejects a model whose embedded metadata contradicts the
	// manifest; families without metadata accept anything.
	checkMetadata(meta map[string]string) error
	destroy()
}

// noExtras is embedded by heads whose only input is the image. Those heads
// preallocate batch-1 outputs, so they run one image at a time.
type noExtras struct{}

func (noExtras) dynamicBatch() bool                    { return false }
func (noExtras) allocBatch(int) error                  { return nil }
func (noExtras) extraInputs(int) []ort.Value           { return nil }
func (noExtras) prepare(int, frameGeometry)            {}
func (noExtras) checkMetadata(map[string]string) error { return nil }
func (noExtras) destroy()                              {}

// filter holds the per-detector acceptance rules.
type filter struct {
	score   float32
	allowed []bool // nil: every class
}

func (f *filter) ok(class int) bool {
	return f.allowed == nil || (class >= 0 && class < len(f.allowed) && f.allowed[class])
}

// modelInfo is what ONNX Runtime reports about a model file.
type modelInfo struct {
	ins, outs []ort.InputOutputInfo
}

func (mi modelInfo) output(name string) (ort.InputOutputInfo, bool) {
	for _, o := range mi.outs {
		if o.Name == name {
			return o, true
		}
	}
	return ort.InputOutputInfo{}, false
}

func (mi modelInfo) String() string {
	s := "inputs:"
	for _, i := range mi.ins {
		s += fmt.Sprintf(" %s%v", i.Name, i.Dimensions)
	}
	s += "; outputs:"
	for _, o := range mi.outs {
		s += fmt.Sprintf(" %s%v", o.Name, o.Dimensions)
	}
	return s
}

// newHead picks the family's head and checks the model's tensors fit it.
func newHead(m models.Manifest, mi modelInfo) (head, error) {
	var (
		h   head
		err error
	)
	switch m.Family {
	case models.FamilyYOLOX:
		h, err = newYOLOXHead(m, mi)
	case models.FamilyUltralytics:
		h, err = newUltralyticsHead(m, mi)
	case models.FamilyNanoDet:
		h, err = newNanoDetHead(m, mi)
	case models.FamilyDEIMv2:
		h, err = newDEIMv2Head(m, mi)
	default:
		return nil, fmt.Errorf("unknown model family %q", m.Family)
	}
	if err != nil {
		return nil, fmt.Errorf("model file is not a %s model (%s): %w", m.Family, mi, err)
	}
	if m.Input.Size != 0 && m.Input.Size != h.inputSize() {
		h.destroy()
		return nil, fmt.Errorf("manifest input size %d but the model takes %d", m.Input.Size, h.inputSize())
	}
	return h, nil
}

// imageInput checks a float32 [1 or dynamic, 3, S, S] input and returns S.
func imageInput(in ort.InputOutputInfo) (int, error) {
	d := in.Dimensions
	if in.DataType != ort.TensorElementDataTypeFloat || len(d) != 4 || (d[0] != 1 && d[0] != -1) ||
		d[1] != 3 || d[2] <= 0 || d[2] != d[3] {
		return 0, fmt.Errorf("input %q is %v %v, want float32 [1,3,S,S]", in.Name, in.DataType, d)
	}
	return int(d[2]), nil
}

// anchorCount is the number of grid cells over strides 8, 16 and 32, the
// layout every anchor-free head here uses.
func anchorCount(size int) int {
	n := 0
	for _, s := range []int{8, 16, 32} {
		n += (size / s) * (size / s)
	}
	return n
}

// floats returns a float32 output's data.
func floats(v ort.Value, name string) ([]float32, error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output %s is %T, want float32 tensor", name, v)
	}
	return t.GetData(), nil
}
