package detectors

import (
	"log/slog"

	"gocv.io/x/gocv"
)

// Detector finds objects in one BGR frame. Implementations are not safe for
// concurrent use: a pool runs one Detector per worker goroutine.
type Detector interface {
	// Detect returns the detections in img's pixel coordinates. img must be
	// an 8-bit, 3-channel BGR Mat; it is only read.
	Detect(img gocv.Mat) ([]Detection, error)
	// Close frees the model session and buffers.
	Close() error
}

// Options tune a detector. Zero values pick the model's defaults.
type Options struct {
	// Threads is ONNX Runtime's intra-op thread count; 0 lets it choose.
	Threads int
	// ScoreThreshold drops detections scoring below it; 0 uses the
	// manifest's default.
	ScoreThreshold float32
	// NMSThreshold is the IoU above which a lower-scored box of the same
	// class is suppressed; 0 uses the manifest's default.
	NMSThreshold float32
	// Classes keeps only these class indices; empty keeps all.
	Classes []int
	// MaxBatch is the most images one DetectBatch call may carry. 0 picks
	// DefaultMaxBatch when the model's batch dimension is dynamic and 1 when
	// it is fixed; a value above 1 for a fixed-batch model is an error.
	MaxBatch int
	// Provider is the execution provider: ProviderAuto (also for ""),
	// ProviderCPU, ProviderCUDA or ProviderTensorRT.
	Provider string
	// DeviceID is the GPU index for the CUDA and TensorRT providers.
	DeviceID int
	// Log receives the line saying which provider a model opened on; nil
	// means slog.Default().
	Log *slog.Logger
}
