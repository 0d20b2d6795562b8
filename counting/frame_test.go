package counting

import (
	"strings"
	"testing"

	"github.com/storesight/storesight/geom"
)

func TestValidateInFrame(t *testing.T) {
	in := Line{Name: "door", Seg: geom.Segment{A: pt(0, 1070), B: pt(1920, 1080)}}
	zone := Zone{Name: "till", Polygon: geom.Polygon{pt(0, 0), pt(1920, 0), pt(1920, 1080)}}
	cases := []struct {
		name  string
		lines []Line
		zones []Zone
		w, h  int
		want  []string // substrings; nil means valid
	}{
		{"inside, border included", []Line{in}, []Zone{zone}, 1920, 1080, nil},
		{"line past the right edge", []Line{in, {Name: "aisle", Seg: geom.Segment{A: pt(100, 100), B: pt(2000, 100)}}}, nil, 1920, 1080,
			[]string{`line "aisle": point B (2000,100)`}},
		{"line above the frame", []Line{{Name: "top", Seg: geom.Segment{A: pt(10, -1), B: pt(20, -5)}}}, nil, 1920, 1080,
			[]string{`line "top": point A`, `line "top": point B`}},
		{"drawn for 1080p on a 720p stream", []Line{in}, []Zone{zone}, 1280, 720,
			[]string{`line "door"`, `zone "till": point 1 (1920,0)`}},
		{"zero frame", nil, nil, 0, 720, []string{"not positive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateInFrame(tc.lines, tc.zones, tc.w, tc.h)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want containing %q", err, w)
				}
			}
		})
	}
}
