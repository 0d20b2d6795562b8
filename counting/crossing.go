package counting

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/storesight/storesight/geom"
)

// Crossing is one counted passage of one track over one line.
//
// Frame, StreamTime, Time, Point and Score describe the observation where the
// track was first seen on the far side of the line, outside the band: that is
// when the crossing physically happened, even though it is reported only
// once confirmed (ConfirmFrames later, or when the track is forgotten).
type Crossing struct {
	Line      string
	Direction string // the line's Forward or Backward name
	TrackID   uint64
	Frame     int64
	// StreamTime is the camera's stream position; encoded in whole
	// milliseconds.
	StreamTime time.Duration
	// Time is the event (wall-clock) time of the frame.
	Time  time.Time
	Point geom.Point // anchor (bottom-centre of the box)
	Score float32
}

type pointJSON struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

type crossingJSON struct {
	Line         string    `json:"line"`
	Direction    string    `json:"direction"`
	TrackID      uint64    `json:"track_id"`
	Frame        int64     `json:"frame"`
	StreamTimeMS int64     `json:"stream_time_ms"`
	Time         time.Time `json:"time"`
	Point        pointJSON `json:"point"`
	Score        float32   `json:"score"`
}

// MarshalJSON encodes the crossing with snake_case keys, stream time in
// integer milliseconds and time as RFC 3339 with nanoseconds.
func (c Crossing) MarshalJSON() ([]byte, error) {
	return json.Marshal(crossingJSON{
		Line:         c.Line,
		Direction:    c.Direction,
		TrackID:      c.TrackID,
		Frame:        c.Frame,
		StreamTimeMS: c.StreamTime.Milliseconds(),
		Time:         c.Time,
		Point:        pointJSON{c.Point.X, c.Point.Y},
		Score:        c.Score,
	})
}

// UnmarshalJSON is the inverse of MarshalJSON (stream time keeps millisecond
// precision only).
func (c *Crossing) UnmarshalJSON(b []byte) error {
	var w crossingJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode crossing: %w", err)
	}
	*c = Crossing{
		Line:       w.Line,
		Direction:  w.Direction,
		TrackID:    w.TrackID,
		Frame:      w.Frame,
		StreamTime: time.Duration(w.StreamTimeMS) * time.Millisecond,
		Time:       w.Time,
		Point:      geom.Point{X: w.Point.X, Y: w.Point.Y},
		Score:      w.Score,
	}
	return nil
}
