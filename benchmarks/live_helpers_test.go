package benchmarks

import (
	"math"
	"testing"
	"time"
)

// The live benchmark's numbers are only as good as these helpers, so they
// are tested on their own (fast; no cameras, no model).

func TestLiveParseRows(t *testing.T) {
	rows, err := parseLiveRows(defaultLiveRows)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.String())
	}
	want := []string{"cams=1", "cams=2", "cams=4", "cams=8", "cams=8,sessions=2,threads=1",
		"cams=8,motion", "cams=8,quiet", "cams=8,motion,quiet"}
	if len(names) != len(want) {
		t.Fatalf("rows %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("rows %v, want %v", names, want)
		}
	}
	for _, r := range rows {
		back, err := parseLiveRows(r.spec())
		if err != nil || len(back) != 1 || back[0] != r {
			t.Errorf("row %s: spec %q parses to %v, %v", r, r.spec(), back, err)
		}
	}
	for _, bad := range []string{"", "0", "x", "8/turbo", "8/sessions=0", "8/threads=two", "8/motion=1"} {
		if _, err := parseLiveRows(bad); err == nil {
			t.Errorf("parseLiveRows(%q) accepted", bad)
		}
	}
}

func TestLiveHistQuantile(t *testing.T) {
	inf := math.Inf(1)
	// 10 observations: 4 in (0, 0.1], 4 in (0.1, 0.2], 2 in (0.2, 0.5].
	h := map[float64]float64{0.1: 4, 0.2: 8, 0.5: 10, 1: 10, inf: 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.2, 50 * time.Millisecond},  // rank 2 of 4 in the first bucket, from 0
		{0.5, 125 * time.Millisecond}, // rank 5: 1 of 4 into (0.1, 0.2]
		{0.9, 350 * time.Millisecond}, // rank 9: 1 of 2 into (0.2, 0.5]
		{1, 500 * time.Millisecond},
	} {
		got, ok := histQuantile(tc.q, h)
		if !ok || (got-tc.want).Abs() > time.Microsecond {
			t.Errorf("q%.2f = %v, %v; want %v", tc.q, got, ok, tc.want)
		}
	}
	// Rank in the +Inf bucket: the largest finite bound, as PromQL.
	if got, _ := histQuantile(0.99, map[float64]float64{1: 1, inf: 10}); got != time.Second {
		t.Errorf("+Inf bucket quantile = %v, want 1s", got)
	}
	if _, ok := histQuantile(0.5, map[float64]float64{0.1: 0, inf: 0}); ok {
		t.Error("empty histogram gave a quantile")
	}
	d := histDelta(
		scrape{hists: map[string]map[float64]float64{"h": {0.1: 7, inf: 9}}},
		scrape{hists: map[string]map[float64]float64{"h": {0.1: 3, inf: 4}}}, "h")
	if d[0.1] != 4 || d[inf] != 5 {
		t.Errorf("histDelta = %v, want 0.1:4 +Inf:5", d)
	}
}

func TestLiveQuantile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if q := quantile(ds, 0.5); q != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", q)
	}
	if q := quantile(ds, 0.99); q != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", q)
	}
	if q := quantile(ds[:1], 0.99); q != 100*time.Millisecond {
		t.Errorf("p99 of one = %v, want 100ms", q)
	}
	if q := quantile(nil, 0.5); q != 0 {
		t.Errorf("quantile of none = %v", q)
	}
}

func TestLiveSplitH264(t *testing.T) {
	sps := []byte{0x67, 1, 2}
	pps := []byte{0x68, 3}
	sei := []byte{0x06, 4}
	idr := []byte{0x65, 0x88, 5} // first_mb_in_slice 0
	p1 := []byte{0x41, 0x9a, 6}  // first_mb_in_slice 0: a new picture
	p1b := []byte{0x41, 0x40, 7} // first_mb_in_slice 1: same picture
	p2 := []byte{0x41, 0x9a, 8}
	var stream []byte
	for i, n := range [][]byte{sps, pps, sei, idr, p1, p1b, p2} {
		if i%2 == 0 { // 4-byte start codes: their leading zero is not part of the NAL before
			stream = append(stream, 0, 0, 0, 1)
		} else {
			stream = append(stream, 0, 0, 1)
		}
		stream = append(stream, n...)
	}
	aus := splitH264(stream)
	want := [][][]byte{{sps, pps, sei, idr}, {p1, p1b}, {p2}}
	if len(aus) != len(want) {
		t.Fatalf("%d access units, want %d: %v", len(aus), len(want), aus)
	}
	for i := range want {
		if len(aus[i]) != len(want[i]) {
			t.Fatalf("access unit %d = %v, want %v", i, aus[i], want[i])
		}
		for j := range want[i] {
			if string(aus[i][j]) != string(want[i][j]) {
				t.Fatalf("access unit %d = %v, want %v", i, aus[i], want[i])
			}
		}
	}
}

func TestLiveParseStat(t *testing.T) {
	pid, comm, rest, ok := parseStat([]byte("4242 (ff mpeg (x)) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 30 0 0\n"))
	if !ok || pid != 4242 || comm != "ff mpeg (x)" || rest[1] != "17" || rest[11] != "250" || rest[12] != "30" {
		t.Fatalf("parseStat = %d %q %v %v", pid, comm, rest, ok)
	}
}
