package analytics

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestPeriodBoundaries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind              PeriodKind
		at                time.Time
		start, end, label string
		prevStart         string
	}{
		// 2027-01-01 is a Friday: its ISO week is 2026's 53rd (2026 starts
		// on a Thursday), Monday 2026-12-28.
		{PeriodWeek, time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC), "2026-12-28", "2027-01-04", "2026-W53", "2026-12-21"},
		// A Sunday belongs to the week that started six days before.
		{PeriodWeek, time.Date(2021, 1, 3, 23, 59, 0, 0, time.UTC), "2020-12-28", "2021-01-04", "2020-W53", "2020-12-21"},
		// A Monday starts its own week; 2025-12-29 is in ISO 2026-W01.
		{PeriodWeek, time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC), "2025-12-29", "2026-01-05", "2026-W01", "2025-12-22"},
		{PeriodWeek, day("2026-11-16"), "2026-11-16", "2026-11-23", "2026-W47", "2026-11-09"},
		// The month before March of a leap year has 29 days.
		{PeriodMonth, time.Date(2028, 3, 31, 22, 0, 0, 0, time.UTC), "2028-03-01", "2028-04-01", "2028-03", "2028-02-01"},
		{PeriodMonth, day("2027-01-15"), "2027-01-01", "2027-02-01", "2027-01", "2026-12-01"},
		{PeriodDay, day("2027-01-01"), "2027-01-01", "2027-01-02", "2027-01-01", "2026-12-31"},
		// The local date comes from the timestamp's own offset: 23:30 at
		// -05:00 is 04:30 UTC the next day, but still the 16th locally.
		{PeriodDay, time.Date(2026, 11, 16, 23, 30, 0, 0, time.FixedZone("", -5*3600)), "2026-11-16", "2026-11-17", "2026-11-16", "2026-11-15"},
		// And 00:30 at +02:00 is the previous day in UTC, but the 16th here:
		// Monday, so a new week.
		{PeriodWeek, time.Date(2026, 11, 16, 0, 30, 0, 0, time.FixedZone("", 2*3600)), "2026-11-16", "2026-11-23", "2026-W47", "2026-11-09"},
	}
	for _, c := range cases {
		p := PeriodOf(c.kind, c.at)
		got := [4]string{p.Start.Format(dateLayout), p.End.Format(dateLayout), p.Label(), p.Prev().Start.Format(dateLayout)}
		want := [4]string{c.start, c.end, c.label, c.prevStart}
		if got != want {
			t.Errorf("PeriodOf(%s, %v) = start, end, label, prev %v, want %v", c.kind, c.at, got, want)
		}
		if p.Prev().End != p.Start || p.Next().Start != p.End || p.Next().Prev() != p {
			t.Errorf("%v: previous/next periods do not abut: %v %v", p, p.Prev(), p.Next())
		}
		if !p.Contains(c.at) || p.Prev().Contains(c.at) || p.Next().Contains(c.at) {
			t.Errorf("%v should contain %v and its neighbours should not", p, c.at)
		}
	}
	if !PeriodOf("year", day("2026-01-01")).IsZero() {
		t.Error("an unknown kind should give the zero period")
	}
}

func TestParsePeriodAndJSON(t *testing.T) {
	t.Parallel()
	p, err := ParsePeriod("week", "2026-11-19")
	if err != nil {
		t.Fatal(err)
	}
	if p != PeriodOf(PeriodWeek, day("2026-11-16")) {
		t.Fatalf("ParsePeriod(week, 2026-11-19) = %v", p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"week","start":"2026-11-16","end":"2026-11-23","label":"2026-W47"}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var back Period
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Errorf("round trip: %v, %v", back, err)
	}
	for _, bad := range [][2]string{{"year", "2026-11-16"}, {"", "2026-11-16"}, {"week", "2026-13-01"}, {"week", "16.11.2026"}, {"day", ""}} {
		if _, err := ParsePeriod(bad[0], bad[1]); err == nil || !strings.HasPrefix(err.Error(), "analytics: ") {
			t.Errorf("ParsePeriod(%q, %q) = %v, want an analytics error", bad[0], bad[1], err)
		}
	}
	if err := json.Unmarshal([]byte(`{"kind":"fortnight","start":"2026-11-16"}`), &back); err == nil {
		t.Error("a period of unknown kind decoded")
	}
}
