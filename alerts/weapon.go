package alerts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/geom"
)

// betterScore is how much a weapon detection must beat the alert's best
// score to replace its best frame: small score jitter between frames is not
// better evidence and would only churn snapshots.
const betterScore = 0.05

// weapon raises when a weapon detection lies next to a person in at least
// Frames of the last Window analysed frames. A weapon on a shelf or a
// detector confusing a phone for a knife once is not an alert; a knife held
// by someone over several frames is. The best frame is the one with the
// highest weapon score.
type weapon struct {
	rule     *Rule
	conf     *confirmer
	open     *live
	lastCond time.Time
}

func newWeapon(r *Rule) *weapon {
	return &weapon{rule: r, conf: newConfirmer(r.Frames, r.Window)}
}

// sighting is one weapon detection next to one person.
type sighting struct {
	det    detectors.Detection
	person person
}

// sightings returns the frame's weapon detections next to a person, best
// score first.
func (s *weapon) sightings(f *frame) []sighting {
	var out []sighting
	var persons []person
	for _, d := range f.r.Detections {
		if d.Score < s.rule.MinScore || !slices.Contains(s.rule.Classes, d.Class) {
			continue
		}
		if persons == nil {
			persons = f.persons(s.rule.Zone)
		}
		c := d.Box.Center()
		for _, p := range persons {
			if inBox(grow(p.box, s.rule.Near*p.box.H()), c) {
				out = append(out, sighting{det: d, person: p})
				break
			}
		}
	}
	slices.SortStableFunc(out, func(a, b sighting) int {
		switch {
		case a.det.Score > b.det.Score:
			return -1
		case a.det.Score < b.det.Score:
			return 1
		}
		return 0
	})
	return out
}

func (s *weapon) frame(f *frame) {
	seen := s.sightings(f)
	cond := len(seen) > 0
	confirmed := s.conf.add(cond, f.r.Time)
	if cond {
		s.lastCond = f.r.Time
	}
	if s.open == nil {
		// Raise on a frame that shows the weapon, so the snapshot does.
		if cond && confirmed {
			s.raise(f, seen)
		}
		return
	}
	if cond {
		a := &s.open.a
		a.Value++
		a.TrackIDs, _ = addIDs(a.TrackIDs, people(seen))
		if seen[0].det.Score >= a.Score+betterScore && f.due(s.open) {
			s.best(f, seen)
			f.update(s.open, s.marks(f, seen))
		}
		return
	}
	if f.r.Time.Sub(s.lastCond) >= s.rule.Clear {
		f.resolve(s.open, s.lastCond)
		s.open = nil
		s.conf.reset()
	}
}

func (s *weapon) raise(f *frame, seen []sighting) {
	ps := people(seen)
	ids, _ := addIDs(nil, ps)
	l := &live{a: Alert{Camera: f.r.Camera, Started: s.conf.first(), TrackIDs: ids, Value: float64(s.conf.count)}}
	s.open = l
	s.best(f, seen)
	s.open = f.raise(s.rule, l.a, firstID(ps), s.marks(f, seen))
}

// best makes this frame the alert's best frame.
func (s *weapon) best(f *frame, seen []sighting) {
	a := &s.open.a
	d := seen[0].det
	a.Class, a.Score, a.Box = f.e.className(d.Class), d.Score, BoxOf(d.Box)
	name := a.Class
	if name != "" {
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	where := ""
	if s.rule.Zone != "" {
		where = " in zone " + s.rule.Zone
	}
	a.Message = fmt.Sprintf("%s next to a person%s%s, score %.2f", name, where, cameraSuffix(a.Camera), d.Score)
}

// marks draws the weapons red and the persons holding them green.
func (s *weapon) marks(f *frame, seen []sighting) []evidence.Mark {
	var ms []evidence.Mark
	var ps []person
	for _, w := range seen {
		ms = append(ms, evidence.Mark{Box: w.det.Box, Label: fmt.Sprintf("%s %.2f", f.e.className(w.det.Class), w.det.Score), Threat: true})
		if !slices.Contains(ps, w.person) {
			ps = append(ps, w.person)
		}
	}
	return append(ms, personMarks(ps, f.e.className(f.e.person), false)...)
}

func (s *weapon) final(f *frame) {
	if s.open != nil {
		f.resolve(s.open, s.lastCond)
		s.open = nil
	}
}

func people(seen []sighting) []person {
	ps := make([]person, len(seen))
	for i, w := range seen {
		ps[i] = w.person
	}
	return ps
}

// grow widens b by d on every side.
func grow(b geom.Box, d float64) geom.Box {
	return geom.Box{X1: b.X1 - d, Y1: b.Y1 - d, X2: b.X2 + d, Y2: b.Y2 + d}
}

// inBox reports whether p lies within b, edges included.
func inBox(b geom.Box, p geom.Point) bool {
	return p.X >= b.X1 && p.X <= b.X2 && p.Y >= b.Y1 && p.Y <= b.Y2
}
