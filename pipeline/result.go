package pipeline

import (
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/tracker"
)

// Result is what one analysed frame produced. Outputs must not keep the
// slices beyond the call; they are not reused today, but may be.
type Result struct {
	Camera        string
	Frame         int64 // 0-based decode index (video.Frame.Seq)
	StreamTime    time.Duration
	Time          time.Time // event time
	Width, Height int
	// Image is the analysed frame (BGR). It is borrowed: valid only during
	// Output.Result, released right after; Clone it to keep it. Empty on
	// the Final result.
	Image      gocv.Mat
	Detections []detectors.Detection
	// Tracks are the confirmed tracks of every configured class matched in
	// this frame; counting and dwell see only the counted classes.
	Tracks    []tracker.Track
	Crossings []counting.Crossing
	Occupancy map[string]int
	// Dwell holds the zone visits in progress (counted classes only), when
	// the camera has a dweller.
	Dwell []counting.Presence
	// Visits holds the zone visits that ended at this frame.
	Visits []counting.Presence
	// Windows holds the aggregate windows that closed at this frame (at most
	// one, except at the end of a stream).
	Windows []counting.Window
	// Detect is the detector latency for this frame (queueing for a free
	// session included).
	Detect time.Duration
	// Latency is from the frame leaving the decoder (video.Frame.Received)
	// to this result: queueing, detection, tracking and counting.
	Latency time.Duration
	// Final marks the last result of a camera: counters were flushed and
	// Crossings/Windows hold what was still pending. It carries no frame.
	Final bool
}

// Output consumes results. Result is called from the camera's worker
// goroutine, in frame order per camera, possibly concurrently for different
// cameras; it must not block for long (queue, do not wait on the network).
type Output interface {
	Result(r *Result)
}

// OutputFunc adapts a function to Output.
type OutputFunc func(r *Result)

// Result calls f.
func (f OutputFunc) Result(r *Result) { f(r) }
