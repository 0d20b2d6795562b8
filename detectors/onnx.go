package detectors

import (
	"errors"
	"fmt"

	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// ONNXDetector runs one model with ONNX Runtime on the CPU or, when asked
// for and present, an NVIDIA GPU. Input and output buffers are allocated
// once and reused for every frame.
type ONNXDetector struct {
	manifest models.Manifest
	path     string
	session  *ort.DynamicAdvancedSession
	provider string
	head     head
	maxBatch int
	// pres[i] writes image i of a batch into its block of the shared input
	// buffer; pre is pres[0], the one Detect uses.
	pres []*preprocessor
	pre  *preprocessor
	// images[n-1] is the image input for a batch of n. All of them view the
	// same buffer, so a batch needs no copy whatever its size.
	images []*ort.Tensor[float32]
	// batchInputs[n-1] is the full input list for a batch of n; inputs is
	// batchInputs[0].
	batchInputs [][]ort.Value
	inputs      []ort.Value
	outputs     []ort.Value
	dynamic     []bool // outputs ONNX Runtime allocates per run
	filter      filter
	nms         float32
	cands       []Detection
}

var _ BatchDetector = (*ONNXDetector)(nil)

// NewONNX loads the model file at modelPath as described by m. It verifies
// the file's sha256 against the manifest (when the manifest has one) and
// that the model's inputs and outputs have the shapes of m.Family, so a file
// of another family fails here with a clear error instead of producing
// garbage boxes. The ONNX Runtime is initialised from DefaultLibPath when
// InitRuntime has not been called.
func NewONNX(m models.Manifest, modelPath string, opts Options) (det *ONNXDetector, err error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := checkProvider(opts); err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	if m.SHA256 != "" {
		if err := models.Verify(m, modelPath); err != nil {
			return nil, err
		}
	}
	if err := InitRuntime(""); err != nil {
		return nil, err
	}
	d := &ONNXDetector{manifest: m, path: modelPath, nms: m.NMSThreshold}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := d.setFilter(m, opts); err != nil {
		return nil, err
	}

	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: session options: %w", m.Name, err)
	}
	defer so.Destroy()
	if err := sessionOptions(so, opts.Threads); err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithOptions(modelPath, so)
	if err != nil {
		return nil, fmt.Errorf("model %s: load %s: %w", m.Name, modelPath, err)
	}
	d.head, err = newHead(m, modelInfo{ins: ins, outs: outs})
	if err != nil {
		return nil, fmt.Errorf("model %s (%s): %w", m.Name, modelPath, err)
	}
	if d.maxBatch, err = batchLimit(m.Name, d.head, opts.MaxBatch); err != nil {
		return nil, err
	}
	// so (CPU only) served to read the inputs and outputs; the session
	// gets its own options so a GPU provider is set up once, here.
	d.session, d.provider, err = openSession(m, modelPath, d.head.inputNames(), d.head.outputNames(), opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	if err := d.checkMetadata(); err != nil {
		return nil, fmt.Errorf("model %s (%s): %w", m.Name, modelPath, err)
	}

	if err := d.allocInputs(m.Input); err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	for _, s := range d.head.outputShapes() {
		if s == nil {
			d.outputs = append(d.outputs, nil)
			d.dynamic = append(d.dynamic, true)
			continue
		}
		if d.maxBatch > 1 {
			// A preallocated output has batch 1 baked into its shape.
			return nil, fmt.Errorf("model %s: output shape %v is fixed but the batch is dynamic", m.Name, s)
		}
		t, err := ort.NewEmptyTensor[float32](s)
		if err != nil {
			return nil, fmt.Errorf("model %s: allocate output %v: %w", m.Name, s, err)
		}
		d.outputs = append(d.outputs, t)
		d.dynamic = append(d.dynamic, false)
	}
	return d, nil
}

// allocInputs allocates one image buffer for maxBatch images, the input
// tensors viewing it for each batch size, and a preprocessor per image slot.
func (d *ONNXDetector) allocInputs(in models.Input) error {
	size := d.head.inputSize()
	per := 3 * size * size
	buf := make([]float32, d.maxBatch*per)
	for n := 1; n <= d.maxBatch; n++ {
		t, err := ort.NewTensor(ort.NewShape(int64(n), 3, int64(size), int64(size)), buf)
		if err != nil {
			return fmt.Errorf("allocate input for batch %d: %w", n, err)
		}
		d.images = append(d.images, t)
	}
	if err := d.head.allocBatch(d.maxBatch); err != nil {
		return err
	}
	for n := 1; n <= d.maxBatch; n++ {
		d.batchInputs = append(d.batchInputs, append([]ort.Value{d.images[n-1]}, d.head.extraInputs(n)...))
	}
	d.inputs = d.batchInputs[0]
	for i := 0; i < d.maxBatch; i++ {
		p, err := newPreprocessor(in, size, buf[i*per:(i+1)*per:(i+1)*per])
		if err != nil {
			return err
		}
		d.pres = append(d.pres, p)
	}
	d.pre = d.pres[0]
	return nil
}

func sessionOptions(so *ort.SessionOptions, threads int) error {
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			return fmt.Errorf("set intra-op threads %d: %w", threads, err)
		}
	}
	// One graph, run sequentially: inter-op threads would only compete with
	// the intra-op pool on a small CPU.
	if err := so.SetInterOpNumThreads(1); err != nil {
		return fmt.Errorf("set inter-op threads: %w", err)
	}
	if err := so.SetLogSeverityLevel(ort.LoggingLevelError); err != nil {
		return fmt.Errorf("set log level: %w", err)
	}
	return nil
}

func (d *ONNXDetector) setFilter(m models.Manifest, opts Options) error {
	d.filter.score = m.ScoreThreshold
	if opts.ScoreThreshold > 0 {
		d.filter.score = opts.ScoreThreshold
	}
	if opts.NMSThreshold > 0 {
		d.nms = opts.NMSThreshold
	}
	if d.filter.score <= 0 || d.filter.score > 1 {
		return fmt.Errorf("model %s: score threshold %v is not in (0,1]", m.Name, d.filter.score)
	}
	if len(opts.Classes) > 0 {
		d.filter.allowed = make([]bool, len(m.Classes))
		for _, c := range opts.Classes {
			if c < 0 || c >= len(m.Classes) {
				return fmt.Errorf("model %s: class %d out of range [0,%d)", m.Name, c, len(m.Classes))
			}
			d.filter.allowed[c] = true
		}
	}
	return nil
}

func (d *ONNXDetector) checkMetadata() error {
	md, err := d.session.GetModelMetadata()
	if err != nil {
		return fmt.Errorf("read metadata: %w", err)
	}
	defer md.Destroy()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return fmt.Errorf("read metadata keys: %w", err)
	}
	meta := make(map[string]string, len(keys))
	for _, k := range keys {
		v, _, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return fmt.Errorf("read metadata %s: %w", k, err)
		}
		meta[k] = v
	}
	return d.head.checkMetadata(meta)
}

// Manifest returns the manifest the detector was built from.
func (d *ONNXDetector) Manifest() models.Manifest { return d.manifest }

// InputSize is the square model input side in pixels.
func (d *ONNXDetector) InputSize() int { return d.head.inputSize() }

// Detect runs the model on one BGR frame and returns detections in the
// frame's pixels, highest score first for families that need NMS.
func (d *ONNXDetector) Detect(img gocv.Mat) ([]Detection, error) {
	if d.session == nil {
		return nil, errors.New("detect: detector is closed")
	}
	g, err := d.pre.run(img)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", d.manifest.Name, err)
	}
	d.head.prepare(0, g)
	err = d.session.Run(d.inputs, d.outputs)
	defer d.releaseDynamic()
	if err != nil {
		return nil, fmt.Errorf("model %s: run: %w", d.manifest.Name, err)
	}
	cands, err := d.head.decode(d.outputs, 0, 1, g, &d.filter, d.cands[:0])
	d.cands = cands[:0]
	if err != nil {
		return nil, fmt.Errorf("model %s: decode: %w", d.manifest.Name, err)
	}
	if d.nms > 0 {
		cands = NMS(cands, float64(d.nms))
	}
	// The caller keeps the result; the candidate buffer stays ours.
	out := make([]Detection, len(cands))
	copy(out, cands)
	return out, nil
}

// releaseDynamic frees the outputs ONNX Runtime allocated for this run.
func (d *ONNXDetector) releaseDynamic() {
	for i, dyn := range d.dynamic {
		if dyn && d.outputs[i] != nil {
			d.outputs[i].Destroy()
			d.outputs[i] = nil
		}
	}
}

// Close frees the session and all buffers. It is safe to call twice.
func (d *ONNXDetector) Close() error {
	var errs []error
	if d.session != nil {
		errs = append(errs, d.session.Destroy())
		d.session = nil
	}
	if d.head != nil {
		d.head.destroy()
		d.head = nil
	}
	for i, v := range d.outputs {
		if v != nil {
			errs = append(errs, v.Destroy())
			d.outputs[i] = nil
		}
	}
	for _, t := range d.images {
		errs = append(errs, t.Destroy())
	}
	d.images, d.batchInputs, d.inputs = nil, nil, nil
	for _, p := range d.pres {
		p.close()
	}
	d.pres, d.pre = nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close model %s: %w", d.manifest.Name, err)
	}
	return nil
}
