package schedule

import (
	"slices"
	"time"
)

// Week holds the open ranges per weekday (index time.Weekday). Ranges of
// one day may overlap; the store is open in their union.
type Week [7][]Range

// Schedule is a store's opening hours. The zero Loc means UTC. A Schedule
// is read-only once built, so one value may be shared by goroutines.
type Schedule struct {
	Loc      *time.Location
	Week     Week
	Holidays []Date // closed all (local) day
}

// Daily returns a schedule with the same ranges every day and no holidays
// (e.g. quiet hours "22:00-06:00").
func Daily(loc *time.Location, rs ...Range) *Schedule {
	s := &Schedule{Loc: loc}
	for d := range s.Week {
		s.Week[d] = slices.Clone(rs)
	}
	return s
}

func (s *Schedule) loc() *time.Location {
	if s.Loc == nil {
		return time.UTC
	}
	return s.Loc
}

// Open reports whether the store is open at t, judged by the wall clock in
// Loc: ranges are half-open [From, To). A range started the previous day that
// runs past midnight still counts, unless that previous day was a holiday;
// nothing counts on a holiday.
func (s *Schedule) Open(t time.Time) bool {
	lt := t.In(s.loc())
	today := DateOf(lt)
	if s.holiday(today) {
		return false
	}
	h, m, sec := lt.Clock()
	off := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(lt.Nanosecond())
	for _, r := range s.Week[today.Weekday()] {
		if off >= r.From && (r.Overnight() || off < r.To) {
			return true
		}
	}
	yesterday := today.AddDays(-1)
	if s.holiday(yesterday) {
		return false
	}
	for _, r := range s.Week[yesterday.Weekday()] {
		if r.Overnight() && off < r.To {
			return true
		}
	}
	return false
}

// Holidays are a handful per year: a scan is cheaper than keeping an index
// in sync with an exported slice.
func (s *Schedule) holiday(d Date) bool { return slices.Contains(s.Holidays, d) }

// horizon is how far NextChange looks: a weekly schedule that changes at all
// changes within a week, plus a day for a change right after t's day.
const horizon = 8 * 24 * time.Hour

// NextChange returns the first instant after t at which Open differs from
// Open(t), or the zero time if there is none within 8 days (always open,
// always closed, or closed only by a run of holidays).
//
// Open depends only on the local wall clock, which moves continuously
// except at the zone's offset changes. So the value can only change at a
// zone transition or at an instant whose wall clock is exactly midnight or a
// range boundary; those candidates are checked in order, which is exact also
// where a boundary falls into a skipped hour (the change then happens at the
// transition) or into a repeated one (both instants are candidates).
func (s *Schedule) NextChange(t time.Time) time.Time {
	loc := s.loc()
	end := t.Add(horizon)
	cands := s.transitions(t, end)
	offsets := map[int]bool{}
	_, o := t.In(loc).Zone()
	offsets[o] = true
	for _, c := range cands {
		_, o := c.In(loc).Zone()
		offsets[o] = true
	}
	bounds := []time.Duration{0}
	for _, day := range s.Week {
		for _, r := range day {
			bounds = append(bounds, r.From, r.To)
		}
	}
	first := DateOf(t.In(loc)).AddDays(-1)
	for i := range int(horizon/(24*time.Hour)) + 3 {
		d := first.AddDays(i)
		for _, b := range bounds {
			// The wall clock as if it were UTC; an instant shows this wall
			// clock in loc when subtracting its offset lands on it.
			w := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(b)
			for o := range offsets {
				c := w.Add(-time.Duration(o) * time.Second)
				if _, co := c.In(loc).Zone(); co == o {
					cands = append(cands, c)
				}
			}
		}
	}
	slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
	now := s.Open(t)
	for _, c := range cands {
		if !c.After(t) || c.After(end) {
			continue
		}
		if s.Open(c) != now {
			return c
		}
	}
	return time.Time{}
}

// transitions returns the instants in (from, to] at which Loc changes its
// offset.
func (s *Schedule) transitions(from, to time.Time) []time.Time {
	var out []time.Time
	x := from.In(s.loc())
	for {
		_, next := x.ZoneBounds()
		if next.IsZero() || next.After(to) || !next.After(x) {
			return out
		}
		out = append(out, next)
		x = next
	}
}
