package tracker

import "github.com/storesight/storesight/geom"

// State is where a track is in its life.
type State int

const (
	// Tentative tracks have been seen too few times to be trusted; they never
	// leave the tracker, so a one-frame false positive never reaches counting.
	Tentative State = iota
	// Confirmed tracks are matched and reported.
	Confirmed
	// Lost tracks were confirmed but are currently unmatched; they are kept
	// for a buffer of frames so a person walking behind a pillar keeps the id.
	Lost
	// Removed tracks are gone for good.
	Removed
)

func (s State) String() string {
	switch s {
	case Tentative:
		return "tentative"
	case Confirmed:
		return "confirmed"
	case Lost:
		return "lost"
	case Removed:
		return "removed"
	}
	return "unknown"
}

// Track is a tracked object as seen after one Update.
type Track struct {
	ID    uint64   // unique per tracker, starting at 1, never reused
	Box   geom.Box // filtered box in image pixels
	Score float32  // score of the last matched detection
	Class int      // class of the detections
	State State
	Hits  int // frames matched in total
	Age   int // frames since the track was born
}
