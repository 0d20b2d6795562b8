// Package tools holds the scripts that made testdata/mot and the checks that
// keep its labels honest. This file cross-checks the hand-labelled MOT
// ground truth against the independently hand-labelled line crossings in
// testdata/vtest/crossings.csv: two labelling passes of the same video that
// must agree on who crossed which line, in which direction, and when.
package tools

import (
	"bufio"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/storesight/storesight/geom"
	"gopkg.in/yaml.v3"
)

const seqDir = "../vtest-s01"

type sequenceFile struct {
	StartFrame int `yaml:"start_frame"`
	Tolerance  int `yaml:"crossing_tolerance"`
	Lines      []struct {
		Name   string       `yaml:"name"`
		Points [][2]float64 `yaml:"points"`
	} `yaml:"lines"`
}

type line struct {
	name string
	seg  geom.Segment
}

// crossing is one line crossing; frame is 1-based in the sequence.
type crossing struct {
	line, dir string
	frame, id int
}

type gtRow struct {
	frame, id int
	box       geom.Box
}

func readSequence(t *testing.T) (sequenceFile, []line) {
	t.Helper()
	path := filepath.Join(seqDir, "sequence.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s sequenceFile
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var ls []line
	for _, l := range s.Lines {
		if len(l.Points) != 2 || l.Points[0][0] != l.Points[1][0] {
			// Directions below are read off the sign of dx, which is only
			// the configured leftward/rightward for a vertical line.
			t.Fatalf("%s: line %s must be a vertical two-point segment", path, l.Name)
		}
		ls = append(ls, line{l.Name, geom.Segment{A: geom.Point{X: l.Points[0][0], Y: l.Points[0][1]}, B: geom.Point{X: l.Points[1][0], Y: l.Points[1][1]}}})
	}
	return s, ls
}

func readGT(t *testing.T) []gtRow {
	t.Helper()
	path := filepath.Join(seqDir, "gt", "gt.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []gtRow
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		p := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(p) != 9 {
			t.Fatalf("%s:%d: %d fields, want 9", path, ln, len(p))
		}
		v := make([]float64, 9)
		for i := range p {
			if v[i], err = strconv.ParseFloat(p[i], 64); err != nil {
				t.Fatalf("%s:%d: field %d: %v", path, ln, i+1, err)
			}
		}
		rows = append(rows, gtRow{int(v[0]), int(v[1]), geom.Box{X1: v[2], Y1: v[3], X2: v[2] + v[4], Y2: v[3] + v[5]}})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// gtCrossings lists every step of an id's bottom-centre between consecutive
// frames that meets a line segment. The reported frame is whichever end of
// the step is nearer the line, matching crossings.csv's "feet on the line".
func gtCrossings(rows []gtRow, lines []line) []crossing {
	byID := map[int][]gtRow{}
	for _, r := range rows {
		byID[r.id] = append(byID[r.id], r)
	}
	var out []crossing
	for id, rs := range byID {
		sort.Slice(rs, func(i, j int) bool { return rs[i].frame < rs[j].frame })
		for i := 1; i < len(rs); i++ {
			if rs[i].frame != rs[i-1].frame+1 {
				continue
			}
			a, b := rs[i-1].box.BottomCenter(), rs[i].box.BottomCenter()
			for _, l := range lines {
				if a.X == l.seg.A.X || !(geom.Segment{A: a, B: b}).Intersects(l.seg) {
					continue // a foot starting exactly on the line was counted on the step that reached it
				}
				dir := "rightward"
				if b.X < a.X {
					dir = "leftward"
				}
				f := rs[i].frame
				if math.Abs(a.X-l.seg.A.X) < math.Abs(b.X-l.seg.A.X) {
					f = rs[i-1].frame
				}
				out = append(out, crossing{l.name, dir, f, id})
			}
		}
	}
	sortCrossings(out)
	return out
}

func sortCrossings(cs []crossing) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].line != cs[j].line {
			return cs[i].line > cs[j].line // west before east, as in the CSV
		}
		return cs[i].frame < cs[j].frame
	})
}

// csvCrossings reads testdata/vtest/crossings.csv rows inside the sequence
// and converts their 0-based decode index to 1-based sequence frames.
func csvCrossings(t *testing.T, start, n int) []crossing {
	t.Helper()
	path := filepath.Join("..", "..", "vtest", "crossings.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []crossing
	for i, r := range recs[1:] {
		dec, err := strconv.Atoi(r[2])
		if err != nil {
			t.Fatalf("%s:%d: frame %q: %v", path, i+2, r[2], err)
		}
		if dec >= start && dec < start+n {
			out = append(out, crossing{line: r[0], dir: r[1], frame: dec - start + 1})
		}
	}
	sortCrossings(out)
	return out
}

func TestGTCrossingsMatchHandLabelledCrossings(t *testing.T) {
	seq, lines := readSequence(t)
	rows := readGT(t)
	got := gtCrossings(rows, lines)
	want := csvCrossings(t, seq.StartFrame, 150)
	if len(want) != 12 {
		t.Fatalf("crossings.csv has %d crossings in decode frames %d..%d, want the 12 the sample was checked against", len(want), seq.StartFrame, seq.StartFrame+149)
	}
	used := make([]bool, len(got))
	t.Logf("%-5s %-9s %8s %8s %6s %3s", "line", "direction", "csv dec", "gt dec", "dt", "id")
	for _, w := range want {
		best := -1
		for i, g := range got {
			if used[i] || g.line != w.line || g.dir != w.dir {
				continue
			}
			if d := abs(g.frame - w.frame); d <= seq.Tolerance && (best < 0 || d < abs(got[best].frame-w.frame)) {
				best = i
			}
		}
		if best < 0 {
			t.Errorf("%s %s at decode %d: no gt track crosses within ±%d frames", w.line, w.dir, w.frame+seq.StartFrame-1, seq.Tolerance)
			continue
		}
		used[best] = true
		g := got[best]
		t.Logf("%-5s %-9s %8d %8d %+6d %3d", w.line, w.dir, w.frame+seq.StartFrame-1, g.frame+seq.StartFrame-1, g.frame-w.frame, g.id)
	}
	for i, g := range got {
		if !used[i] {
			t.Errorf("gt id %d crosses %s %s at decode %d, which crossings.csv does not list", g.id, g.line, g.dir, g.frame+seq.StartFrame-1)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestGTWellFormed checks the invariants the interpolation relies on and
// that MOTChallenge tools assume: 1-based frames inside the sequence, one
// row per id and frame, pedestrian class, visibility in [0,1], and tracks
// without holes (every id is labelled in each frame between its first and
// last, occluded or not).
func TestGTWellFormed(t *testing.T) {
	rows := readGT(t)
	seen := map[[2]int]bool{}
	first, last, count := map[int]int{}, map[int]int{}, map[int]int{}
	for _, r := range rows {
		if r.frame < 1 || r.frame > 150 {
			t.Errorf("id %d: frame %d outside 1..150", r.id, r.frame)
		}
		k := [2]int{r.frame, r.id}
		if seen[k] {
			t.Errorf("id %d twice in frame %d", r.id, r.frame)
		}
		seen[k] = true
		if f, ok := first[r.id]; !ok || r.frame < f {
			first[r.id] = r.frame
		}
		last[r.id] = max(last[r.id], r.frame)
		count[r.id]++
		if h := r.box.H(); h < 50 || h > 130 || r.box.W() < 10 {
			t.Errorf("id %d frame %d: box %+v is not a 50-130 px tall person", r.id, r.frame, r.box)
		}
	}
	for id := range first {
		if n := last[id] - first[id] + 1; count[id] != n {
			t.Errorf("id %d: %d rows over frames %d..%d, want %d", id, count[id], first[id], last[id], n)
		}
	}
	path := filepath.Join(seqDir, "gt", "gt.txt")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p := strings.Split(l, ",")
		if (p[6] != "0" && p[6] != "1") || p[7] != "1" {
			t.Errorf("%s:%d: consider %s class %s, want 0|1 and 1", path, i+1, p[6], p[7])
		}
		if v, err := strconv.ParseFloat(p[8], 64); err != nil || v < 0 || v > 1 {
			t.Errorf("%s:%d: visibility %q not in [0,1]", path, i+1, p[8])
		}
	}
	t.Logf("%d ids, %d rows", len(first), len(rows))
}
