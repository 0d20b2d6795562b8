package pipeline

import "sync/atomic"

// Stats counts what happened to a camera's frames. Read it with Snapshot
// while the camera runs.
type Stats struct {
	Decoded  atomic.Int64 // frames decoded
	Sampled  atomic.Int64 // frames skipped by the analysis frame rate
	Dropped  atomic.Int64 // frames dropped because the worker fell behind
	Gated    atomic.Int64 // frames not analysed because motion gating saw nothing move
	Analysed atomic.Int64 // frames through detector, tracker and counter
	Errors   atomic.Int64 // frames whose detection failed
}

// StatsSnapshot is a copy of Stats at one moment.
type StatsSnapshot struct {
	Decoded, Sampled, Dropped, Gated, Analysed, Errors int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Decoded: s.Decoded.Load(), Sampled: s.Sampled.Load(), Dropped: s.Dropped.Load(), Gated: s.Gated.Load(),
		Analysed: s.Analysed.Load(), Errors: s.Errors.Load(),
	}
}
