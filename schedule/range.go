package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Range is a daily time range "09:00-18:00"; To <= From means it runs past
// midnight ("22:00-06:00"). Both are offsets from local midnight, measured on
// the wall clock: From in [0,24h), To in (0,24h].
type Range struct{ From, To time.Duration }

// Overnight reports whether the range runs past midnight into the next day.
func (r Range) Overnight() bool { return r.To <= r.From }

// String formats the range as ParseRange accepts it.
func (r Range) String() string { return clock(r.From) + "-" + clock(r.To) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ParseRange parses "HH:MM-HH:MM" (24-hour clock, two digits each).
// "00:00-24:00" is the whole day; an end of "00:00" also means midnight at
// the end of the day, so "18:00-00:00" is the same as "18:00-24:00". A range
// whose end is before its start runs past midnight. Start and end may not be
// equal: "22:00-22:00" could mean nothing or all day.
func ParseRange(s string) (Range, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Range{}, fmt.Errorf("time range: want HH:MM-HH:MM, got %q", s)
	}
	f, err := parseClock(strings.TrimSpace(from), false)
	if err != nil {
		return Range{}, fmt.Errorf("time range: want HH:MM-HH:MM, got %q: start: %w", s, err)
	}
	t, err := parseClock(strings.TrimSpace(to), true)
	if err != nil {
		return Range{}, fmt.Errorf("time range: want HH:MM-HH:MM, got %q: end: %w", s, err)
	}
	if t == 0 {
		t = 24 * time.Hour
	}
	if f == t {
		return Range{}, fmt.Errorf("time range %q: start equals end, which could mean never or always; use 00:00-24:00 for the whole day", s)
	}
	return Range{From: f, To: t}, nil
}

// parseClock parses "HH:MM"; 24:00 is allowed only as an end.
func parseClock(s string, end bool) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM (two digits each)", s)
	}
	h, err1 := strconv.ParseUint(hh, 10, 8)
	m, err2 := strconv.ParseUint(mm, 10, 8)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q is not HH:MM (two digits each)", s)
	}
	switch {
	case m > 59:
		return 0, fmt.Errorf("minute %d out of range 00-59 in %q", m, s)
	case h == 24 && m == 0 && end:
	case h > 23:
		if end {
			return 0, fmt.Errorf("hour %d out of range 00-23 (or 24:00) in %q", h, s)
		}
		return 0, fmt.Errorf("hour %d out of range 00-23 in %q", h, s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// Date is a civil (calendar) date, without time or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD", e.g. "2026-12-25".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("date: want YYYY-MM-DD (e.g. 2026-12-25), got %q: %w", s, err)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats the date as ParseDate accepts it.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// AddDays returns the date n days later (n may be negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday of the date.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}
