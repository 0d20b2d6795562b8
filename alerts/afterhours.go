package alerts

import (
	"fmt"
	"time"
)

// afterHours raises when confirmed person tracks are present (in the zone,
// if the rule has one) while the store is closed, in at least Frames of the
// last Window analysed frames. It is one alert per episode, not per
// person: a burglar and an accomplice are one incident, and tracker ID
// switches must not page the manager twice. Track ids accumulate; a new
// person makes an updated step with a new best frame (rate-limited). The
// alert resolves after Clear without anyone, or at once when the store
// opens (staff arriving is not an intrusion).
type afterHours struct {
	rule     *Rule
	conf     *confirmer
	open     *live
	lastCond time.Time
	ids      []uint64 // track ids seen since the episode's first evidence
	peak     int      // most persons in one frame
	pending  bool     // a new person appeared since the last step
}

func newAfterHours(r *Rule) *afterHours {
	return &afterHours{rule: r, conf: newConfirmer(r.Frames, r.Window)}
}

func (s *afterHours) frame(f *frame) {
	closed := !s.rule.Schedule.Open(f.r.Time)
	var ps []person
	if closed {
		ps = f.personTracks(s.rule.Zone)
	}
	cond := len(ps) > 0
	confirmed := s.conf.add(cond, f.r.Time)
	if cond {
		s.lastCond = f.r.Time
		var added bool
		s.ids, added = addIDs(s.ids, ps)
		s.pending = s.pending || added
		s.peak = max(s.peak, len(ps))
	}
	if s.open == nil {
		switch {
		case cond && confirmed:
			s.raise(f, ps)
		case !cond && !s.lastCond.IsZero() && f.r.Time.Sub(s.lastCond) >= s.rule.Clear:
			s.forget()
		}
		return
	}
	switch {
	case !closed || (!cond && f.r.Time.Sub(s.lastCond) >= s.rule.Clear):
		f.resolve(s.open, s.lastCond)
		s.open = nil
		s.forget()
	case cond:
		a := &s.open.a
		a.Value++
		if len(a.TrackIDs) != len(s.ids) {
			a.TrackIDs = append(a.TrackIDs[:0:0], s.ids...)
		}
		s.message(a)
		if s.pending && f.due(s.open) {
			s.best(f, ps)
			f.update(s.open, personMarks(ps, a.Class, true))
			s.pending = false
		}
	}
}

func (s *afterHours) raise(f *frame, ps []person) {
	s.open = &live{a: Alert{
		Camera:   f.r.Camera,
		Started:  s.conf.first(),
		TrackIDs: append([]uint64{}, s.ids...),
		Class:    f.e.className(f.e.person),
		Value:    float64(s.conf.count),
	}}
	s.best(f, ps)
	first := firstID(ps)
	if len(s.ids) > 0 {
		first = s.ids[0]
	}
	s.open = f.raise(s.rule, s.open.a, first, personMarks(ps, s.open.a.Class, true))
	s.pending = false
}

// best makes this frame the best frame: the most confident person.
func (s *afterHours) best(f *frame, ps []person) {
	a := &s.open.a
	b := ps[0]
	bs := f.trackScore(b.id)
	for _, p := range ps[1:] {
		if sc := f.trackScore(p.id); sc > bs {
			b, bs = p, sc
		}
	}
	a.Box, a.Score = BoxOf(b.box), bs
	s.message(a)
}

func (s *afterHours) message(a *Alert) {
	who := "Person"
	if s.peak > 1 {
		who = fmt.Sprintf("%d people", s.peak)
	}
	where := ""
	if s.rule.Zone != "" {
		where = " in zone " + s.rule.Zone
	}
	a.Message = who + " inside after hours" + where + cameraSuffix(a.Camera)
}

// forget ends the pending episode, so the next one needs a fresh
// confirmation and starts its own track list.
func (s *afterHours) forget() {
	s.conf.reset()
	s.ids, s.peak, s.pending = nil, 0, false
	s.lastCond = time.Time{}
}

func (s *afterHours) final(f *frame) {
	if s.open != nil {
		f.resolve(s.open, s.lastCond)
		s.open = nil
	}
	s.forget()
}
