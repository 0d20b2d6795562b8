package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/storesight/storesight/detectors"
	"gocv.io/x/gocv"
)

// DetectorPool shares a few detector sessions among all cameras. A session
// is used by one goroutine at a time (it reuses its tensors); waiting
// workers are served in arrival order, so one busy camera cannot starve the
// others.
type DetectorPool struct {
	free chan detectors.Detector
	all  []detectors.Detector
}

// NewDetectorPool owns the given detectors and closes them on Close.
func NewDetectorPool(ds ...detectors.Detector) (*DetectorPool, error) {
	if len(ds) == 0 {
		return nil, errors.New("detector pool: no detectors")
	}
	p := &DetectorPool{free: make(chan detectors.Detector, len(ds)), all: ds}
	for _, d := range ds {
		p.free <- d
	}
	return p, nil
}

// Detect runs one image through a free detector.
func (p *DetectorPool) Detect(ctx context.Context, img gocv.Mat) ([]detectors.Detection, error) {
	var d detectors.Detector
	select {
	case d = <-p.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { p.free <- d }()
	dets, err := d.Detect(img)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return dets, nil
}

// Close closes every detector. Call it after Run returned.
func (p *DetectorPool) Close() error {
	var errs []error
	for _, d := range p.all {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}
