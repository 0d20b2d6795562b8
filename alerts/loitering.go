package alerts

import (
	"fmt"
	"slices"
	"time"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/evidence"
)

// loitering raises one alert per zone visit that lasts Rule.Dwell. It reads
// the dweller's visits (Result.Dwell, Result.Visits), which already ride
// out short occlusions and tracker ID switches, so one person standing at
// the door is one visit and one alert. The alert resolves when the visit
// ends (the dweller's Gap plays the role of Rule.Clear) or at the end of
// the stream.
type loitering struct {
	rule *Rule
	open map[uint64]*loiterer // by visit number
}

type loiterer struct {
	*live
	last  time.Time // latest sighting
	dwell time.Duration
}

func newLoitering(r *Rule) *loitering {
	return &loitering{rule: r, open: make(map[uint64]*loiterer)}
}

func (s *loitering) frame(f *frame) {
	for _, p := range f.r.Visits {
		if l := s.open[p.Visit]; l != nil && p.Zone == s.rule.Zone {
			s.track(l, p)
			f.resolve(l.live, p.Last)
			delete(s.open, p.Visit)
		}
	}
	inProgress := map[uint64]bool{}
	for _, p := range f.r.Dwell {
		if p.Zone != s.rule.Zone {
			continue
		}
		inProgress[p.Visit] = true
		l := s.open[p.Visit]
		if l == nil {
			if p.Dwell >= s.rule.Dwell {
				s.raise(f, p)
			}
			continue
		}
		if s.track(l, p) && f.due(l.live) {
			f.update(l.live, nil)
		}
	}
	// The dweller reports every visit's end in Visits; a visit that
	// vanished from both lists (a restarted dweller) still must not leave
	// its alert open forever.
	for v, l := range s.open {
		if !inProgress[v] {
			f.resolve(l.live, l.last)
			delete(s.open, v)
		}
	}
}

func (s *loitering) raise(f *frame, p counting.Presence) {
	a := Alert{
		Camera:   f.r.Camera, // for the message; raise sets it too
		Started:  p.Start,
		TrackIDs: slices.Clone(p.TrackIDs),
		Class:    f.e.className(f.e.person),
		Score:    f.trackScore(p.TrackID),
		Box:      BoxOf(p.Box),
	}
	label := fmt.Sprintf("%s %ds", a.Class, seconds(p.Dwell))
	marks := []evidence.Mark{{Box: p.Box, Label: label, Threat: true}}
	first := p.TrackID
	if len(p.TrackIDs) > 0 {
		first = p.TrackIDs[0]
	}
	l := &loiterer{live: &live{a: a}}
	s.track(l, p)
	l.live = f.raise(s.rule, l.a, first, marks)
	s.open[p.Visit] = l
}

// track copies the visit's progress into the alert and reports whether the
// dwell grew.
func (s *loitering) track(l *loiterer, p counting.Presence) bool {
	l.last = p.Last
	if len(p.TrackIDs) > len(l.a.TrackIDs) {
		l.a.TrackIDs = slices.Clone(p.TrackIDs)
	}
	if p.Dwell <= l.dwell {
		return false
	}
	l.dwell = p.Dwell
	l.a.Value = p.Dwell.Seconds()
	l.a.Message = fmt.Sprintf("Person loitering %ds in zone %s", seconds(p.Dwell), s.rule.Zone) + cameraSuffix(l.a.Camera)
	return true
}

func (s *loitering) final(f *frame) {
	// The final result carries the visits the dweller flushed.
	for _, p := range f.r.Visits {
		if l := s.open[p.Visit]; l != nil && p.Zone == s.rule.Zone {
			s.track(l, p)
		}
	}
	for v, l := range s.open {
		f.resolve(l.live, l.last)
		delete(s.open, v)
	}
}
