package motion

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes a Gate. Start from DefaultConfig: New does not fill in zero
// fields, so a half-set Config fails Validate instead of silently gating
// with surprising values.
type Config struct {
	// Width is the width, in pixels, frames are shrunk to before they are
	// compared; the height keeps the frame's aspect ratio. Frames narrower
	// than Width are compared at their own size.
	Width int
	// Threshold is the absolute difference of one gray level (0-255, after
	// a small blur) at or above which a pixel counts as changed.
	Threshold int
	// MinArea is the fraction of the frame's pixels that must change for
	// the frame to count as motion.
	MinArea float64
	// StillRefresh is the longest stretch of stream time the detector is
	// skipped without motion: still people's tracks are refreshed and
	// tracks of people who left unnoticed get frames to expire in.
	StillRefresh time.Duration
}

// DefaultConfig returns the defaults: 160 px wide, Threshold 25, MinArea
// 0.002 (38 pixels of a 160x120 picture, about a quarter of a person far
// from a ceiling camera), a refresh every second.
func DefaultConfig() Config {
	return Config{Width: 160, Threshold: 25, MinArea: 0.002, StillRefresh: time.Second}
}

// Limits Validate enforces on Width: below minWidth the 5x5 blur spans a
// large part of the picture and a person is a few pixels; above maxWidth
// the gate costs as much as the detector's own preprocessing.
const (
	minWidth = 16
	maxWidth = 1920
)

// Validate reports every invalid field at once, each by name.
func (c Config) Validate() error {
	var errs []error
	if c.Width < minWidth || c.Width > maxWidth {
		errs = append(errs, fmt.Errorf("Width = %d: must be in [%d,%d] pixels", c.Width, minWidth, maxWidth))
	}
	if c.Threshold < 1 || c.Threshold > 255 {
		errs = append(errs, fmt.Errorf("Threshold = %d: must be a gray-level difference in [1,255]", c.Threshold))
	}
	// The negated test also rejects NaN.
	if !(c.MinArea > 0 && c.MinArea <= 1) {
		errs = append(errs, fmt.Errorf("MinArea = %v: must be a fraction of the frame in (0,1]", c.MinArea))
	}
	if c.StillRefresh <= 0 {
		errs = append(errs, fmt.Errorf("StillRefresh = %v: must be positive", c.StillRefresh))
	}
	if len(errs) > 0 {
		return fmt.Errorf("motion config: %w", errors.Join(errs...))
	}
	return nil
}
