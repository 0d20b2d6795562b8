package alerts

import (
	"fmt"
	"time"
)

// occupancyDip is how long the count may fall to the limit or below
// without ending an over-limit run: a person missed by the detector for a
// frame or two must not restart a minute-long For.
const occupancyDip = time.Second

// occupancy raises when more than Max people are in the zone continuously
// for For. The count is Result.Occupancy[zone], which counting computes
// from the counted classes only (persons), on the same anchor point that
// dwell and zone events use. The value is the highest count of the
// episode; a new highest count makes an updated step with that frame as
// best frame (rate-limited). The alert resolves after Clear at or below
// Max.
type occupancy struct {
	rule     *Rule
	open     *live
	since    time.Time // start of the current over-limit run, zero if none
	lastOver time.Time
	peak     int
	pending  bool // a new peak since the last step
}

func newOccupancy(r *Rule) *occupancy { return &occupancy{rule: r} }

func (s *occupancy) frame(f *frame) {
	n := f.r.Occupancy[s.rule.Zone]
	over := n > s.rule.Max
	if over {
		if s.since.IsZero() {
			s.since = f.r.Time
		}
		s.lastOver = f.r.Time
	}
	if s.open == nil {
		switch {
		case over && f.r.Time.Sub(s.since) >= s.rule.For:
			s.peak = max(s.peak, n)
			s.raise(f, n)
		case over:
			s.peak = max(s.peak, n)
		case !s.since.IsZero() && f.r.Time.Sub(s.lastOver) > occupancyDip:
			s.since, s.peak = time.Time{}, 0
		}
		return
	}
	if over {
		a := &s.open.a
		a.TrackIDs, _ = addIDs(a.TrackIDs, f.personTracks(s.rule.Zone))
		if n > s.peak {
			s.peak, s.pending = n, true
			a.Value = float64(n)
		}
		if s.pending && n == s.peak && f.due(s.open) {
			s.best(f, n)
			f.update(s.open, personMarks(f.personTracks(s.rule.Zone), a.Class, true))
			s.pending = false
		}
		return
	}
	if f.r.Time.Sub(s.lastOver) >= s.rule.Clear {
		f.resolve(s.open, s.lastOver)
		s.open, s.since, s.peak, s.pending = nil, time.Time{}, 0, false
	}
}

func (s *occupancy) raise(f *frame, n int) {
	ps := f.personTracks(s.rule.Zone)
	ids, _ := addIDs(nil, ps)
	s.open = &live{a: Alert{
		Camera:   f.r.Camera,
		Started:  s.since,
		TrackIDs: ids,
		Class:    f.e.className(f.e.person),
	}}
	s.best(f, n)
	s.open = f.raise(s.rule, s.open.a, firstID(ps), personMarks(ps, s.open.a.Class, true))
	s.pending = false
}

// best makes this frame, with n people, the best frame. The box is the
// union of the people the dweller saw in the zone (none without a dweller).
func (s *occupancy) best(f *frame, n int) {
	a := &s.open.a
	ps := f.personTracks(s.rule.Zone)
	if len(ps) > 0 {
		u := ps[0].box
		for _, p := range ps[1:] {
			u.X1, u.Y1 = min(u.X1, p.box.X1), min(u.Y1, p.box.Y1)
			u.X2, u.Y2 = max(u.X2, p.box.X2), max(u.Y2, p.box.Y2)
		}
		a.Box = BoxOf(u)
	}
	a.Value = float64(s.peak)
	a.Message = fmt.Sprintf("%d people in zone %s, limit %d", n, s.rule.Zone, s.rule.Max) + cameraSuffix(a.Camera)
}

func (s *occupancy) final(f *frame) {
	if s.open != nil {
		f.resolve(s.open, s.lastOver)
		s.open = nil
	}
	s.since, s.peak, s.pending = time.Time{}, 0, false
}
