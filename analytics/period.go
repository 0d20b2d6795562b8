package analytics

import (
	"encoding/json"
	"fmt"
	"time"
)

// PeriodKind is the length of a reporting period.
type PeriodKind string

// Period kinds. Weeks are ISO weeks: Monday to Sunday, numbered so that
// week 1 holds the year's first Thursday.
const (
	PeriodDay   PeriodKind = "day"
	PeriodWeek  PeriodKind = "week"
	PeriodMonth PeriodKind = "month"
)

// dateLayout is how a civil date is written in keys, URLs and JSON.
const dateLayout = "2006-01-02"

// Period is a span of civil (calendar) dates, not of instants: a store's
// Monday is its own Monday whatever its UTC offset, so facts are placed in
// a period by their local date. Start and End are those dates as
// time.Time at 00:00 UTC (a representation, not an instant); End is
// exclusive, the first date after the period. In JSON they are
// "2006-01-02" strings.
type Period struct {
	Kind  PeriodKind
	Start time.Time
	End   time.Time
}

// civil returns the calendar date of t in t's own location, as 00:00 UTC.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// PeriodOf returns the period of kind k holding the calendar date of date,
// read in date's own location (a POS timestamp keeps its offset, so this
// is the store's local date). An unknown kind gives the zero Period; use
// ParsePeriod for input from people.
func PeriodOf(k PeriodKind, date time.Time) Period {
	d := civil(date)
	switch k {
	case PeriodDay:
		return Period{Kind: k, Start: d, End: d.AddDate(0, 0, 1)}
	case PeriodWeek:
		s := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		return Period{Kind: k, Start: s, End: s.AddDate(0, 0, 7)}
	case PeriodMonth:
		s := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		return Period{Kind: k, Start: s, End: s.AddDate(0, 1, 0)}
	}
	return Period{}
}

// Prev returns the period of the same kind just before p.
func (p Period) Prev() Period { return PeriodOf(p.Kind, p.Start.AddDate(0, 0, -1)) }

// Next returns the period of the same kind just after p.
func (p Period) Next() Period { return PeriodOf(p.Kind, p.End) }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.Kind == "" }

// Contains reports whether the local calendar date of t is in p.
func (p Period) Contains(t time.Time) bool {
	d := civil(t)
	return !d.Before(p.Start) && d.Before(p.End)
}

// Label names the period the way people write it: "2026-11-16",
// "2026-W47" (ISO year and week), "2026-11".
func (p Period) Label() string {
	switch p.Kind {
	case PeriodWeek:
		y, w := p.Start.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case PeriodMonth:
		return p.Start.Format("2006-01")
	}
	return p.Start.Format(dateLayout)
}

// String is kind and label, e.g. "week 2026-W47".
func (p Period) String() string { return string(p.Kind) + " " + p.Label() }

// ParsePeriod reads a period kind ("day", "week", "month") and any date
// ("2006-01-02") inside the wanted period.
func ParsePeriod(kind, date string) (Period, error) {
	k := PeriodKind(kind)
	switch k {
	case PeriodDay, PeriodWeek, PeriodMonth:
	default:
		return Period{}, fmt.Errorf("analytics: period %q is not one of day, week, month", kind)
	}
	d, err := time.Parse(dateLayout, date)
	if err != nil {
		return Period{}, fmt.Errorf("analytics: date %q is not YYYY-MM-DD", date)
	}
	return PeriodOf(k, d), nil
}

type periodJSON struct {
	Kind  PeriodKind `json:"kind"`
	Start string     `json:"start"`
	End   string     `json:"end"`
	Label string     `json:"label"`
}

// MarshalJSON writes {"kind","start","end" (exclusive),"label"} with dates
// as "2006-01-02".
func (p Period) MarshalJSON() ([]byte, error) {
	return json.Marshal(periodJSON{Kind: p.Kind, Start: p.Start.Format(dateLayout),
		End: p.End.Format(dateLayout), Label: p.Label()})
}

// UnmarshalJSON reads what MarshalJSON writes; kind and start decide the
// period (end and label are derived, so they cannot disagree).
func (p *Period) UnmarshalJSON(b []byte) error {
	var w periodJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("analytics: decode period: %w", err)
	}
	q, err := ParsePeriod(string(w.Kind), w.Start)
	if err != nil {
		return err
	}
	*p = q
	return nil
}
