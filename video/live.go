package video

import "time"

// Status is a live camera's state change: it went offline (stopped sending
// frames, refused connections, or its stream could not be decoded) or came
// back online.
type Status struct {
	Camera string
	Online bool
	// Time is the wall time of the change. For going offline it is when the
	// last frame arrived, not when the watchdog noticed.
	Time time.Time
	// Reason says why a camera went offline ("no frames for 5s", "connect:
	// connection refused", ...). It never contains credentials.
	Reason string
}

// LiveStats counts what a live source received and did. All counters only
// grow, for the life of the source, across reconnects.
type LiveStats struct {
	Packets      int64 // RTP packets received
	AccessUnits  int64 // access units (coded pictures) assembled from RTP
	Decoded      int64 // pictures decoded
	DecodeErrors int64 // access units the decoder rejected or RTP it could not depacketize
	Dropped      int64 // decoded pictures dropped because Next was not called in time
	Connects     int64 // successful connections (PLAY accepted)
	Reconnects   int64 // connection attempts after the first, successful or not
	Online       bool
	LastFrame    time.Time // wall time of the last decoded picture
	// DecodeTime is the time spent decoding access units and converting
	// pictures to BGR, summed: the decode cost of the camera.
	DecodeTime time.Duration
}

// LiveSource is implemented by sources that read a live camera.
type LiveSource interface {
	Source
	LiveStats() LiveStats
}
