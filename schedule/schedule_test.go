package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones under test must not depend on the host
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustRange(t *testing.T, s string) Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

// checkOpen asserts Open at UTC instants.
func checkOpen(t *testing.T, s *Schedule, want map[time.Time]bool) {
	t.Helper()
	for at, w := range want {
		if got := s.Open(at); got != w {
			t.Errorf("Open(%s = %s local) = %v, want %v", at.Format(time.RFC3339), at.In(s.loc()).Format("Mon 15:04 MST"), got, w)
		}
	}
}

// checkChanges walks NextChange from start and compares with the expected
// instants, then brute-forces that Open is constant between them.
func checkChanges(t *testing.T, s *Schedule, start time.Time, want ...time.Time) {
	t.Helper()
	at := start
	for i, w := range want {
		got := s.NextChange(at)
		if !got.Equal(w) {
			t.Fatalf("change %d: NextChange(%s) = %s, want %s", i, at.Format(time.RFC3339), got.Format(time.RFC3339), w.Format(time.RFC3339))
		}
		at = got
	}
	verifyChanges(t, s, start, want)
}

// verifyChanges checks, minute by minute, that Open flips at every given
// instant (and not a nanosecond earlier) and nowhere else in between.
func verifyChanges(t *testing.T, s *Schedule, start time.Time, changes []time.Time) {
	t.Helper()
	v := s.Open(start)
	at := start
	for _, c := range changes {
		for m := at; m.Before(c); m = m.Add(time.Minute) {
			if s.Open(m) != v {
				t.Fatalf("Open(%s) = %v, want %v (before change at %s)", m.Format(time.RFC3339), !v, v, c.Format(time.RFC3339))
			}
		}
		if s.Open(c.Add(-time.Nanosecond)) != v || s.Open(c) == v {
			t.Fatalf("no flip exactly at %s", c.Format(time.RFC3339))
		}
		v, at = !v, c
	}
}

func berlinShop(t *testing.T) *Schedule {
	s := &Schedule{Loc: mustLoc(t, "Europe/Berlin")}
	for d := time.Monday; d <= time.Friday; d++ {
		s.Week[d] = []Range{mustRange(t, "09:00-18:00")}
	}
	s.Week[time.Saturday] = []Range{mustRange(t, "10:00-14:00")}
	return s
}

func TestOpenWeek(t *testing.T) {
	s := berlinShop(t)
	// 2026-06-01 is a Monday; Berlin is UTC+2 in summer.
	checkOpen(t, s, map[time.Time]bool{
		utc(2026, 6, 1, 6, 59):  false, // 08:59
		utc(2026, 6, 1, 7, 0):   true,  // 09:00
		utc(2026, 6, 1, 15, 59): true,  // 17:59
		utc(2026, 6, 1, 16, 0):  false, // 18:00: ranges are half-open
		utc(2026, 6, 6, 8, 0):   true,  // Saturday 10:00
		utc(2026, 6, 6, 12, 0):  false, // Saturday 14:00
		utc(2026, 6, 7, 10, 0):  false, // Sunday
	})
	// Saturday 15:00 local: the next change is Monday 09:00.
	checkChanges(t, s, utc(2026, 6, 6, 13, 0), utc(2026, 6, 8, 7, 0), utc(2026, 6, 8, 16, 0))
}

func TestNilLocIsUTC(t *testing.T) {
	s := Daily(nil, mustRange(t, "09:00-17:00"))
	checkOpen(t, s, map[time.Time]bool{utc(2026, 1, 1, 9, 0): true, utc(2026, 1, 1, 8, 59): false})
}

func TestBerlinSpringForward(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	// 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
	day := Daily(berlin, mustRange(t, "09:00-18:00"))
	checkChanges(t, day, utc(2026, 3, 28, 12, 0),
		utc(2026, 3, 28, 17, 0), // Sat 18:00 CET
		utc(2026, 3, 29, 7, 0),  // Sun 09:00 CEST: the wall clock, not "24h after Saturday's opening"
		utc(2026, 3, 29, 16, 0), // Sun 18:00 CEST
	)

	// A range starting inside the skipped hour opens when the clock jumps
	// past its start.
	gap := Daily(berlin, mustRange(t, "02:30-05:00"))
	checkOpen(t, gap, map[time.Time]bool{
		utc(2026, 3, 29, 0, 59): false, // 01:59 CET
		utc(2026, 3, 29, 1, 0):  true,  // 03:00 CEST
	})
	checkChanges(t, gap, utc(2026, 3, 28, 23, 0),
		utc(2026, 3, 29, 1, 0), // the transition itself
		utc(2026, 3, 29, 3, 0), // 05:00 CEST
		utc(2026, 3, 30, 0, 30),
	)

	// An overnight range across the change is an hour shorter in real time.
	night := Daily(berlin, mustRange(t, "22:00-06:00"))
	checkChanges(t, night, utc(2026, 3, 28, 12, 0),
		utc(2026, 3, 28, 21, 0), // Sat 22:00 CET
		utc(2026, 3, 29, 4, 0),  // Sun 06:00 CEST: 7 hours later
	)
}

func TestBerlinFallBack(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	// 2026-10-25 (Sunday): 03:00 CEST goes back to 02:00 CET at 01:00 UTC,
	// so 02:00-03:00 local happens twice.
	twice := Daily(berlin, mustRange(t, "02:30-03:00"))
	checkChanges(t, twice, utc(2026, 10, 24, 23, 0),
		utc(2026, 10, 25, 0, 30), // 02:30 CEST
		utc(2026, 10, 25, 1, 0),  // 03:00 CEST = 02:00 CET: closed again
		utc(2026, 10, 25, 1, 30), // 02:30 CET
		utc(2026, 10, 25, 2, 0),  // 03:00 CET
	)
	day := Daily(berlin, mustRange(t, "09:00-18:00"))
	checkChanges(t, day, utc(2026, 10, 25, 0, 0),
		utc(2026, 10, 25, 8, 0),  // 09:00 CET
		utc(2026, 10, 25, 17, 0), // 18:00 CET
	)
	night := Daily(berlin, mustRange(t, "22:00-06:00"))
	checkChanges(t, night, utc(2026, 10, 24, 12, 0),
		utc(2026, 10, 24, 20, 0), // Sat 22:00 CEST
		utc(2026, 10, 25, 5, 0),  // Sun 06:00 CET: 9 hours later
	)
}

func TestNewYork(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	night := Daily(ny, mustRange(t, "22:00-06:00"))
	// 2026-03-08: 02:00 EST jumps to 03:00 EDT.
	checkChanges(t, night, utc(2026, 3, 7, 12, 0),
		utc(2026, 3, 8, 3, 0),  // Sat 22:00 EST
		utc(2026, 3, 8, 10, 0), // Sun 06:00 EDT
		utc(2026, 3, 9, 2, 0),  // Sun 22:00 EDT
	)
	// 2026-11-01: 02:00 EDT goes back to 01:00 EST.
	checkChanges(t, night, utc(2026, 10, 31, 12, 0),
		utc(2026, 11, 1, 2, 0),  // Sat 22:00 EDT
		utc(2026, 11, 1, 11, 0), // Sun 06:00 EST
	)
	checkOpen(t, night, map[time.Time]bool{
		utc(2026, 11, 1, 5, 30): true, // 01:30 EDT
		utc(2026, 11, 1, 6, 30): true, // 01:30 EST, the repeated hour
	})
}

func TestOvernightTailBelongsToStartDay(t *testing.T) {
	s := &Schedule{Loc: mustLoc(t, "Europe/Berlin")}
	s.Week[time.Friday] = []Range{mustRange(t, "22:00-02:00")}
	// 2026-06-05 is a Friday.
	checkOpen(t, s, map[time.Time]bool{
		utc(2026, 6, 5, 19, 59): false, // Fri 21:59
		utc(2026, 6, 5, 20, 0):  true,  // Fri 22:00
		utc(2026, 6, 5, 23, 30): true,  // Sat 01:30, though Saturday has no ranges
		utc(2026, 6, 6, 0, 0):   false, // Sat 02:00
		utc(2026, 6, 6, 20, 30): false, // Sat 22:30
		utc(2026, 6, 6, 23, 30): false, // Sun 01:30: Saturday started nothing
		utc(2026, 6, 4, 23, 30): false, // Fri 01:30: Thursday started nothing
	})
}

func TestHolidays(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	week := Week{}
	week[time.Friday] = []Range{mustRange(t, "20:00-02:00")}
	week[time.Saturday] = []Range{mustRange(t, "20:00-02:00")}
	fri := Date{2026, time.June, 5}
	sat := Date{2026, time.June, 6}

	// A holiday closes its whole day, including the tail of the range
	// started the evening before, and what would start that day does not
	// run into the next one.
	s := &Schedule{Loc: berlin, Week: week, Holidays: []Date{sat}}
	checkOpen(t, s, map[time.Time]bool{
		utc(2026, 6, 5, 20, 0):  true,  // Fri 22:00
		utc(2026, 6, 5, 21, 59): true,  // Fri 23:59
		utc(2026, 6, 5, 22, 0):  false, // Sat 00:00: holiday
		utc(2026, 6, 6, 19, 0):  false, // Sat 21:00: holiday
		utc(2026, 6, 6, 22, 30): false, // Sun 00:30: tail of the holiday's range
	})
	checkChanges(t, s, utc(2026, 6, 5, 12, 0),
		utc(2026, 6, 5, 18, 0), // Fri 20:00
		utc(2026, 6, 5, 22, 0), // Sat 00:00: the holiday cuts Friday's range
		utc(2026, 6, 12, 18, 0),
	)

	// Holiday on Friday: Friday's range never starts, Saturday's does.
	s = &Schedule{Loc: berlin, Week: week, Holidays: []Date{fri}}
	checkOpen(t, s, map[time.Time]bool{
		utc(2026, 6, 5, 20, 0):  false, // Fri 22:00
		utc(2026, 6, 5, 22, 30): false, // Sat 00:30: tail of the holiday's range
		utc(2026, 6, 6, 18, 0):  true,  // Sat 20:00
		utc(2026, 6, 6, 22, 30): true,  // Sun 00:30
		utc(2026, 6, 7, 0, 0):   false, // Sun 02:00
	})
}

func TestHolidayIsLocalDay(t *testing.T) {
	// Christmas in New York starts at 05:00 UTC, not at UTC midnight.
	ny := mustLoc(t, "America/New_York")
	s := Daily(ny, mustRange(t, "00:00-24:00"))
	s.Holidays = []Date{{2026, time.December, 25}}
	checkChanges(t, s, utc(2026, 12, 24, 12, 0), utc(2026, 12, 25, 5, 0), utc(2026, 12, 26, 5, 0))
}

func TestNextChangeNever(t *testing.T) {
	at := utc(2026, 6, 1, 12, 0)
	if c := Daily(time.UTC, mustRange(t, "00:00-24:00")).NextChange(at); !c.IsZero() {
		t.Errorf("always open: NextChange = %s", c)
	}
	if c := Daily(time.UTC).NextChange(at); !c.IsZero() {
		t.Errorf("always closed: NextChange = %s", c)
	}
	// Open only on Mondays, next Monday is a holiday: the next opening is
	// 13 days away, beyond the 8 days NextChange looks at.
	s := &Schedule{Loc: time.UTC, Holidays: []Date{{2026, time.June, 8}}}
	s.Week[time.Monday] = []Range{mustRange(t, "09:00-10:00")}
	if c := s.NextChange(utc(2026, 6, 2, 12, 0)); !c.IsZero() {
		t.Errorf("beyond horizon: NextChange = %s", c)
	}
	if c := s.NextChange(utc(2026, 6, 9, 12, 0)); !c.Equal(utc(2026, 6, 15, 9, 0)) {
		t.Errorf("within horizon: NextChange = %s", c)
	}
}

func TestOverlappingRangesAreUnion(t *testing.T) {
	s := Daily(time.UTC, mustRange(t, "09:00-12:00"), mustRange(t, "11:00-14:00"), mustRange(t, "23:00-10:00"))
	checkChanges(t, s, utc(2026, 6, 1, 15, 0), utc(2026, 6, 1, 23, 0), utc(2026, 6, 2, 14, 0))
}

func TestDailyCopiesRanges(t *testing.T) {
	rs := []Range{mustRange(t, "09:00-10:00")}
	s := Daily(time.UTC, rs...)
	rs[0] = mustRange(t, "11:00-12:00")
	if !s.Open(utc(2026, 6, 1, 9, 30)) {
		t.Error("Daily kept a reference to the caller's slice")
	}
}
