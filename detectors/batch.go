package detectors

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"
)

// DefaultMaxBatch is the batch limit a dynamic-batch model gets when
// Options.MaxBatch is 0: enough for a few cameras' pending frames without
// holding a large input buffer.
const DefaultMaxBatch = 4

// BatchDetector is a Detector that can run several frames in one session call.
type BatchDetector interface {
	Detector
	// MaxBatch is the largest batch DetectBatch accepts; 1 when the model's batch dimension is fixed.
	MaxBatch() int
	// DetectBatch returns one detection slice per image, in order; images may differ in size.
	DetectBatch(imgs []gocv.Mat) ([][]Detection, error)
}

// batchLimit resolves Options.MaxBatch against what the model allows.
func batchLimit(model string, h head, want int) (int, error) {
	switch {
	case want < 0:
		return 0, fmt.Errorf("model %s: max batch %d is negative", model, want)
	case !h.dynamicBatch() && want > 1:
		return 0, fmt.Errorf("model %s: max batch %d requested but the model's batch dimension is fixed at 1", model, want)
	case !h.dynamicBatch():
		return 1, nil
	case want == 0:
		return DefaultMaxBatch, nil
	}
	return want, nil
}

// MaxBatch is the largest number of images DetectBatch accepts.
func (d *ONNXDetector) MaxBatch() int { return d.maxBatch }

// DetectBatch runs the model once on up to MaxBatch BGR frames, which may
// differ in size, and returns each frame's detections in its own pixels,
// in the order of imgs. One bad image fails the whole call (the error names
// its index); callers wanting per-frame errors can retry with Detect. No
// images gives no result and no error.
func (d *ONNXDetector) DetectBatch(imgs []gocv.Mat) ([][]Detection, error) {
	if d.session == nil {
		return nil, errors.New("detect batch: detector is closed")
	}
	n := len(imgs)
	switch {
	case n == 0:
		return nil, nil
	case n > d.maxBatch:
		return nil, fmt.Errorf("model %s: batch of %d images exceeds its max batch %d", d.manifest.Name, n, d.maxBatch)
	case n == 1:
		dets, err := d.Detect(imgs[0])
		if err != nil {
			return nil, err
		}
		return [][]Detection{dets}, nil
	}
	geoms := make([]frameGeometry, n)
	for i, img := range imgs {
		g, err := d.pres[i].run(img)
		if err != nil {
			return nil, fmt.Errorf("model %s: image %d: %w", d.manifest.Name, i, err)
		}
		d.head.prepare(i, g)
		geoms[i] = g
	}
	err := d.session.Run(d.batchInputs[n-1], d.outputs)
	defer d.releaseDynamic()
	if err != nil {
		return nil, fmt.Errorf("model %s: run batch of %d: %w", d.manifest.Name, n, err)
	}
	out := make([][]Detection, n)
	for i, g := range geoms {
		cands, err := d.head.decode(d.outputs, i, n, g, &d.filter, d.cands[:0])
		d.cands = cands[:0]
		if err != nil {
			return nil, fmt.Errorf("model %s: decode image %d: %w", d.manifest.Name, i, err)
		}
		if d.nms > 0 {
			cands = NMS(cands, float64(d.nms))
		}
		out[i] = make([]Detection, len(cands))
		copy(out[i], cands)
	}
	return out, nil
}
