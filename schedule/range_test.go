package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	h, m := time.Hour, time.Minute
	for _, tc := range []struct {
		in        string
		want      Range
		overnight bool
	}{
		{"09:00-18:00", Range{9 * h, 18 * h}, false},
		{"08:30-12:45", Range{8*h + 30*m, 12*h + 45*m}, false},
		{"22:00-06:00", Range{22 * h, 6 * h}, true},
		{"00:00-24:00", Range{0, 24 * h}, false},
		{"00:00-00:00", Range{0, 24 * h}, false},
		{"18:00-00:00", Range{18 * h, 24 * h}, false},
		{"23:59-00:01", Range{23*h + 59*m, m}, true},
		{" 09:00 - 18:00 ", Range{9 * h, 18 * h}, false},
	} {
		got, err := ParseRange(tc.in)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || got.Overnight() != tc.overnight {
			t.Errorf("ParseRange(%q) = %+v overnight %v, want %+v overnight %v", tc.in, got, got.Overnight(), tc.want, tc.overnight)
		}
	}
}

func TestParseRangeErrors(t *testing.T) {
	for _, tc := range []struct{ in, detail string }{
		{"", `want HH:MM-HH:MM, got ""`},
		{"09:00", `want HH:MM-HH:MM, got "09:00"`},
		{"9:00-18:00", `"9:00" is not HH:MM`},
		{"09:00-18", `"18" is not HH:MM`},
		{"ab:cd-18:00", `"ab:cd" is not HH:MM`},
		{"+9:00-18:00", `"+9:00" is not HH:MM`},
		{"09:60-18:00", "minute 60 out of range"},
		{"24:00-06:00", "hour 24 out of range 00-23 in"},
		{"09:00-24:30", "hour 24 out of range 00-23 (or 24:00)"},
		{"09:00-25:00", "hour 25 out of range"},
		{"10:00-10:00", "start equals end"},
		{"09:00-18:00-20:00", `"18:00-20:00" is not HH:MM`},
	} {
		_, err := ParseRange(tc.in)
		if err == nil {
			t.Errorf("ParseRange(%q): no error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.detail) {
			t.Errorf("ParseRange(%q) error %q does not say %q", tc.in, err, tc.detail)
		}
		if tc.detail != "start equals end" && !strings.Contains(err.Error(), "want HH:MM-HH:MM, got") {
			t.Errorf("ParseRange(%q) error %q does not show the expected form", tc.in, err)
		}
	}
}

func TestRangeStringRoundTrip(t *testing.T) {
	for _, s := range []string{"09:00-18:00", "22:00-06:00", "00:00-24:00", "07:05-07:06"} {
		r, err := ParseRange(s)
		if err != nil {
			t.Fatal(err)
		}
		if r.String() != s {
			t.Errorf("ParseRange(%q).String() = %q", s, r.String())
		}
	}
}

func TestParseDate(t *testing.T) {
	d, err := ParseDate("2026-12-25")
	if err != nil {
		t.Fatal(err)
	}
	if d != (Date{2026, time.December, 25}) || d.String() != "2026-12-25" || d.Weekday() != time.Friday {
		t.Errorf("got %+v %s %s", d, d, d.Weekday())
	}
	if got := d.AddDays(7); got != (Date{2027, time.January, 1}) {
		t.Errorf("AddDays(7) = %s", got)
	}
	if got := (Date{2024, time.March, 1}).AddDays(-1); got != (Date{2024, time.February, 29}) {
		t.Errorf("leap day: %s", got)
	}
	for _, s := range []string{"", "2026-13-01", "2026-02-30", "25.12.2026", "2026-1-5"} {
		_, err := ParseDate(s)
		if err == nil || !strings.Contains(err.Error(), "want YYYY-MM-DD") || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseDate(%q) error = %v", s, err)
		}
	}
}
