package benchmarks

import (
	"errors"
	"fmt"
	"math/rand/v2"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
)

// Bare is a model file opened in ONNX Runtime with nothing of storesight
// around it: the same session settings as detectors.NewONNX (intra-op
// threads, one inter-op thread), inputs filled once, no pre- or
// post-processing. Timing its Run next to a full Detect gives the
// detector's own cost as a ratio.
type Bare struct {
	session *ort.DynamicAdvancedSession
	inputs  []ort.Value
	outputs []ort.Value
	dynamic []bool // outputs ONNX Runtime allocates on every run, as the detector lets it
	// ImageShape is the image input's shape as the file declares it (-1
	// for a dynamic dimension).
	ImageShape []int64
}

// OpenBare opens the model file at path with the given intra-op thread
// count (0 lets ONNX Runtime choose) on provider: detectors.ProviderCPU
// ("" too), ProviderCUDA or ProviderTensorRT (GPU 0), so the comparison
// with a detector is on the provider that detector actually got.
func OpenBare(m models.Manifest, path string, threads int, provider string) (b *Bare, err error) {
	if err := detectors.InitRuntime(""); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("bare session %s: read %s: %w", m.Name, path, err)
	}
	if len(ins) == 0 || len(ins[0].Dimensions) != 4 {
		return nil, fmt.Errorf("bare session %s: %s: first input is not an image [N,3,H,W]", m.Name, path)
	}
	bb := &Bare{ImageShape: append([]int64(nil), ins[0].Dimensions...)}
	// The error paths return nil; the cleanup must not read b.
	defer func() {
		if err != nil {
			bb.Close()
		}
	}()
	b = bb
	var inNames, outNames []string
	for i, in := range ins {
		v, err := filledInput(m, in, i == 0)
		if err != nil {
			return nil, fmt.Errorf("bare session %s: %w", m.Name, err)
		}
		b.inputs = append(b.inputs, v)
		inNames = append(inNames, in.Name)
	}
	for _, o := range outs {
		v, err := fixedOutput(o)
		if err != nil {
			return nil, fmt.Errorf("bare session %s: %w", m.Name, err)
		}
		b.outputs = append(b.outputs, v)
		b.dynamic = append(b.dynamic, v == nil)
		outNames = append(outNames, o.Name)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("bare session %s: options: %w", m.Name, err)
	}
	defer so.Destroy()
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			return nil, fmt.Errorf("bare session %s: threads %d: %w", m.Name, threads, err)
		}
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("bare session %s: inter-op threads: %w", m.Name, err)
	}
	if err := so.SetLogSeverityLevel(ort.LoggingLevelError); err != nil {
		return nil, fmt.Errorf("bare session %s: log level: %w", m.Name, err)
	}
	if err := appendProvider(so, provider); err != nil {
		return nil, fmt.Errorf("bare session %s: %w", m.Name, err)
	}
	b.session, err = ort.NewDynamicAdvancedSession(path, inNames, outNames, so)
	if err != nil {
		return nil, fmt.Errorf("bare session %s: create from %s: %w", m.Name, path, err)
	}
	return b, nil
}

// appendProvider sets up a GPU provider as detectors does: TensorRT with
// CUDA behind it for the nodes TensorRT rejects.
func appendProvider(so *ort.SessionOptions, provider string) error {
	switch provider {
	case "", detectors.ProviderCPU:
		return nil
	case detectors.ProviderTensorRT:
		o, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return fmt.Errorf("tensorrt options: %w", err)
		}
		defer o.Destroy()
		if err := so.AppendExecutionProviderTensorRT(o); err != nil {
			return fmt.Errorf("append tensorrt: %w", err)
		}
		fallthrough
	case detectors.ProviderCUDA:
		o, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return fmt.Errorf("cuda options: %w", err)
		}
		defer o.Destroy()
		if err := so.AppendExecutionProviderCUDA(o); err != nil && provider == detectors.ProviderCUDA {
			return fmt.Errorf("append cuda: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("unknown execution provider %q", provider)
	}
}

// concrete replaces dynamic dimensions by 1: one image per run, as Detect.
func concrete(d ort.Shape) ort.Shape {
	s := make(ort.Shape, len(d))
	for i, v := range d {
		s[i] = max(v, 1)
	}
	return s
}

// filledInput allocates an input and fills it once. The image gets random
// pixel values normalised as the manifest says: an all-zero input drives
// activations into denormal floats, which are much slower on x86 and would
// flatter the detector. Other inputs (DEIMv2's orig_target_sizes) only
// scale outputs, so any plausible value times the same.
func filledInput(m models.Manifest, in ort.InputOutputInfo, image bool) (ort.Value, error) {
	shape := concrete(in.Dimensions)
	switch in.DataType {
	case ort.TensorElementDataTypeFloat:
		t, err := ort.NewEmptyTensor[float32](shape)
		if err != nil {
			return nil, fmt.Errorf("input %s %v: %w", in.Name, shape, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		data := t.GetData()
		plane := len(data)
		if image && len(shape) == 4 {
			plane = int(shape[2] * shape[3])
		}
		for i := range data {
			v := float32(rng.IntN(256))
			if image {
				c := (i / plane) % 3
				v = (v*m.Input.Scale - m.Input.Mean[c]) / m.Input.Std[c]
			}
			data[i] = v
		}
		return t, nil
	case ort.TensorElementDataTypeInt64:
		t, err := ort.NewEmptyTensor[int64](shape)
		if err != nil {
			return nil, fmt.Errorf("input %s %v: %w", in.Name, shape, err)
		}
		for i, data := 0, t.GetData(); i < len(data); i++ {
			data[i] = 640
		}
		return t, nil
	default:
		return nil, fmt.Errorf("input %s has type %v; the bare session fills float32 and int64 only", in.Name, in.DataType)
	}
}

// fixedOutput preallocates an output whose shape the file fixes, as the
// detector does; nil leaves a dynamic one to ONNX Runtime.
func fixedOutput(o ort.InputOutputInfo) (ort.Value, error) {
	for _, d := range o.Dimensions {
		if d <= 0 {
			return nil, nil
		}
	}
	switch o.DataType {
	case ort.TensorElementDataTypeFloat:
		t, err := ort.NewEmptyTensor[float32](o.Dimensions)
		if err != nil {
			return nil, fmt.Errorf("output %s %v: %w", o.Name, o.Dimensions, err)
		}
		return t, nil
	case ort.TensorElementDataTypeInt64:
		t, err := ort.NewEmptyTensor[int64](o.Dimensions)
		if err != nil {
			return nil, fmt.Errorf("output %s %v: %w", o.Name, o.Dimensions, err)
		}
		return t, nil
	default:
		return nil, nil
	}
}

// Run runs the session once on the pre-filled inputs.
func (b *Bare) Run() error {
	err := b.session.Run(b.inputs, b.outputs)
	for i, dyn := range b.dynamic {
		if dyn && b.outputs[i] != nil {
			b.outputs[i].Destroy()
			b.outputs[i] = nil
		}
	}
	if err != nil {
		return fmt.Errorf("bare session run: %w", err)
	}
	return nil
}

// Close frees the session and its tensors; it is safe to call twice.
func (b *Bare) Close() error {
	var errs []error
	if b.session != nil {
		errs = append(errs, b.session.Destroy())
		b.session = nil
	}
	for _, vs := range [][]ort.Value{b.inputs, b.outputs} {
		for _, v := range vs {
			if v != nil {
				errs = append(errs, v.Destroy())
			}
		}
	}
	b.inputs, b.outputs = nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close bare session: %w", err)
	}
	return nil
}
