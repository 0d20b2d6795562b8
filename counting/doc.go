// Package counting turns confirmed tracks into business numbers: directed
// line crossings, zone occupancy and per-minute aggregates by event time.
//
// A Counter is fed one Observation per analysed frame of one camera. The
// anchor of a track is the bottom-centre of its box (where the feet touch the
// floor). Lines count with hysteresis so that a person standing on a line and
// jittering across it is counted at most once, and only when they really end
// up on the other side. An Aggregator turns the per-frame output into
// fixed windows of event time (LineCount, ZoneOccupancy).
//
// Typical wiring per camera:
//
//	c, _ := counting.NewCounter(lines, zones)
//	a, _ := counting.NewAggregator(lines, zones, time.Minute)
//	// every analysed frame:
//	cs, occ := c.Update(obs)
//	w, closed := a.Add(obs.Time, cs, occ)
//	// end of stream:
//	w, closed = a.Flush(c.Flush())
package counting
