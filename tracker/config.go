package tracker

import (
	"errors"
	"fmt"
	"math"
)

// Config tunes the tracker. Thresholds on scores are detector confidences in
// [0,1]; MatchThresh is a cost (1 - IoU, fused with score) in (0,1].
// Frame counts are in analysed frames, so a pipeline sampling at 10 fps that
// wants three seconds of memory for lost tracks sets LostBuffer to 30.
type Config struct {
	// HighThresh splits detections: at or above it they take part in the
	// first association stage and may start tracks.
	HighThresh float64
	// LowThresh is the floor: detections in [LowThresh, HighThresh) are only
	// used to keep existing tracks alive (ByteTrack's second stage), which
	// is what carries a partly occluded person; below it they are ignored.
	LowThresh float64
	// NewTrackThresh is the score an unmatched detection needs to start a
	// tentative track; it must be at least HighThresh.
	NewTrackThresh float64
	// MatchThresh is the largest cost accepted in the first stage.
	MatchThresh float64
	// MinHits is how many consecutive frames a new track must be matched,
	// its first frame included, before it is confirmed and gets an ID. 1
	// confirms on the first detection.
	MinHits int
	// LostBuffer is how many consecutive frames a confirmed track may go
	// unmatched and still be recovered with its ID.
	LostBuffer int
}

// DefaultConfig returns ByteTrack's defaults (track_thresh 0.5, det_thresh
// 0.6, match_thresh 0.8, track_buffer 30 at 30 fps) with three hits to
// confirm.
func DefaultConfig() Config {
	return Config{
		HighThresh:     0.5,
		LowThresh:      0.1,
		NewTrackThresh: 0.6,
		MatchThresh:    0.8,
		MinHits:        3,
		LostBuffer:     30,
	}
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	unit := func(name string, v float64) bool {
		if math.IsNaN(v) || v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s = %v: must be in [0,1]", name, v))
			return false
		}
		return true
	}
	okHigh := unit("HighThresh", c.HighThresh)
	okLow := unit("LowThresh", c.LowThresh)
	okNew := unit("NewTrackThresh", c.NewTrackThresh)
	if okHigh && okLow && c.LowThresh > c.HighThresh {
		errs = append(errs, fmt.Errorf("LowThresh = %v: must not exceed HighThresh = %v", c.LowThresh, c.HighThresh))
	}
	if okHigh && okNew && c.NewTrackThresh < c.HighThresh {
		// Only high detections can start tracks, so a lower value would be
		// silently ineffective.
		errs = append(errs, fmt.Errorf("NewTrackThresh = %v: must be at least HighThresh = %v", c.NewTrackThresh, c.HighThresh))
	}
	if math.IsNaN(c.MatchThresh) || c.MatchThresh <= 0 || c.MatchThresh > 1 {
		errs = append(errs, fmt.Errorf("MatchThresh = %v: must be in (0,1]", c.MatchThresh))
	}
	if c.MinHits < 1 {
		errs = append(errs, fmt.Errorf("MinHits = %d: must be at least 1", c.MinHits))
	}
	if c.LostBuffer < 0 {
		errs = append(errs, fmt.Errorf("LostBuffer = %d: must not be negative", c.LostBuffer))
	}
	if len(errs) > 0 {
		return fmt.Errorf("tracker config: %w", errors.Join(errs...))
	}
	return nil
}
