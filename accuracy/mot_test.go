package accuracy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

func TestParseMOTErrorsNameFileAndLine(t *testing.T) {
	const goodGT = "1,1,10,20,30,40,1,1,1.0\n"
	const goodRes = "1,1,10,20,30,40,0.9,-1,-1,-1\n"
	cases := []struct {
		name string
		kind Kind
		text string
		want string // after "f.txt:"
	}{
		{"gt too few columns", GT, goodGT + "2,1,10,20,30,40,1,1\n", "2: 8 columns, want 9"},
		{"results too many columns", Results, goodRes + "2,1,10,20,30,40,0.9,-1,-1,-1,7\n", "2: 11 columns, want 10"},
		{"results in gt layout", Results, goodGT, "1: 9 columns, want 10"},
		{"non-numeric left", GT, "1,1,ten,20,30,40,1,1,1\n", `1: left "ten" is not a finite number`},
		{"NaN height", GT, "1,1,10,20,30,NaN,1,1,1\n", "1: height"},
		{"fractional frame", Results, "1.0,1,10,20,30,40,0.9,-1,-1,-1\n", `1: frame "1.0" is not an integer`},
		{"frame 0", GT, goodGT + "0,1,10,20,30,40,1,1,1\n", "2: frame 0: frames are 1-based"},
		{"id 0", Results, "1,0,10,20,30,40,0.9,-1,-1,-1\n", "1: id 0: ids must be positive"},
		{"negative id", GT, "1,-3,10,20,30,40,1,1,1\n", "1: id -3"},
		{"zero width", Results, "1,1,10,20,0,40,0.9,-1,-1,-1\n", "1: box 0x40"},
		{"negative height", GT, "1,1,10,20,30,-4,1,1,1\n", "1: box 30x-4"},
		{"consider 2", GT, "1,1,10,20,30,40,2,1,1\n", "1: consider 2"},
		{"class 14", GT, "1,1,10,20,30,40,1,14,1\n", "1: class 14"},
		{"visibility 1.5", GT, "1,1,10,20,30,40,1,1,1.5\n", "1: visibility 1.5"},
		{"results class column 2", Results, "1,1,10,20,30,40,0.9,2,-1,-1\n", "1: column 8 is 2"},
		{"blank line", GT, goodGT + "\n" + goodGT, "2: empty line"},
		{"repeated tracker id", Results, goodRes + "1,2,0,0,5,5,0.5,-1,-1,-1\n" + "1,1,50,20,30,40,0.8,-1,-1,-1\n", "3: id 1 appears twice in frame 1 (first on line 1)"},
		{"repeated gt id", GT, goodGT + goodGT, "2: id 1 appears twice in frame 1"},
	}
	for _, c := range cases {
		_, err := ParseMOT(strings.NewReader(c.text), "f.txt", c.kind)
		if err == nil || !strings.HasPrefix(err.Error(), "f.txt:") || !strings.Contains(err.Error(), "f.txt:"+c.want) {
			t.Errorf("%s: error %v, want f.txt:%s...", c.name, err, c.want)
		}
	}
}

func TestParseMOTAccepts(t *testing.T) {
	// Spaces after commas, a trailing comma (TrackEval drops the empty last
	// field), CRLF line ends, negative left/top (boxes may start outside
	// the image), the same id in different frames.
	text := "1, 7, -3.5, 20, 30, 40, 0.75, -1, -1, -1,\r\n2,7,0,0,1,1,1,-1,-1,-1\r\n"
	rows, err := ParseMOT(strings.NewReader(text), "r.txt", Results)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Frame: 1, ID: 7, Box: geom.Box{X1: -3.5, Y1: 20, X2: 26.5, Y2: 60}, Conf: 0.75},
		{Frame: 2, ID: 7, Box: geom.Box{X1: 0, Y1: 0, X2: 1, Y2: 1}, Conf: 1},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("got %+v, want %+v", rows, want)
	}
	gt, err := ParseMOT(strings.NewReader("3,2,1,2,3,4,0,7,0.25\n"), "gt.txt", GT)
	if err != nil {
		t.Fatal(err)
	}
	if g := gt[0]; g.Conf != 0 || g.Class != 7 || g.Visibility != 0.25 || g.Box != (geom.Box{X1: 1, Y1: 2, X2: 4, Y2: 6}) {
		t.Errorf("gt row %+v", g)
	}
}

func TestReadMOTMissingFile(t *testing.T) {
	if _, err := ReadMOT(filepath.Join(t.TempDir(), "none.txt"), GT); err == nil {
		t.Error("missing file accepted")
	}
}

// TestWriteReadRoundTrip writes rows out of order through real files and
// reads them back: sorted by frame then id, values at 2 decimals (4 for the
// score) unchanged.
func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	res := []Row{
		{Frame: 2, ID: 3, Box: geom.Box{X1: 10.25, Y1: 20.5, X2: 40.75, Y2: 120.5}, Conf: 0.8125},
		{Frame: 1, ID: 9, Box: geom.Box{X1: 0, Y1: 0, X2: 5.5, Y2: 7}, Conf: 0.5},
		{Frame: 1, ID: 2, Box: geom.Box{X1: -2, Y1: 3, X2: 8, Y2: 13}, Conf: 1},
	}
	gt := []Row{
		{Frame: 5, ID: 1, Box: geom.Box{X1: 1, Y1: 2, X2: 11, Y2: 22}, Conf: 1, Class: 1, Visibility: 0.5},
		{Frame: 1, ID: 4, Box: geom.Box{X1: 3, Y1: 4, X2: 13.5, Y2: 24.25}, Conf: 0, Class: 8, Visibility: 1},
	}
	for _, c := range []struct {
		kind  Kind
		rows  []Row
		write func(*bytes.Buffer, []Row) error
	}{
		{Results, res, func(b *bytes.Buffer, r []Row) error { return WriteResults(b, r) }},
		{GT, gt, func(b *bytes.Buffer, r []Row) error { return WriteGT(b, r) }},
	} {
		var buf bytes.Buffer
		if err := c.write(&buf, c.rows); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, c.kind.String()+".txt")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadMOT(path, c.kind)
		if err != nil {
			t.Fatal(err)
		}
		want := sortedRows(c.rows)
		if !slices.Equal(got, want) {
			t.Errorf("%s round trip:\n got  %+v\n want %+v\nfile:\n%s", c.kind, got, want, buf.String())
		}
		if c.kind == Results && buf.String() != "1,2,-2.00,3.00,10.00,10.00,1.0000,-1,-1,-1\n1,9,0.00,0.00,5.50,7.00,0.5000,-1,-1,-1\n2,3,10.25,20.50,30.50,100.00,0.8125,-1,-1,-1\n" {
			t.Errorf("results file:\n%s", buf.String())
		}
		if c.kind == GT && buf.String() != "1,4,3.00,4.00,10.50,20.25,0,8,1.00\n5,1,1.00,2.00,10.00,20.00,1,1,0.50\n" {
			t.Errorf("gt file:\n%s", buf.String())
		}
	}
}

// TestWriteResultsSameAsMOTWriter: the file for TrackEval has the layout of
// `analyze -tracks` (pipeline.MOTWriter), byte for byte.
func TestWriteResultsSameAsMOTWriter(t *testing.T) {
	tracks := []tracker.Track{
		{ID: 4, Box: geom.Box{X1: 100.123, Y1: 50.456, X2: 160.789, Y2: 230.001}, Score: 0.87654, State: tracker.Confirmed},
		{ID: 11, Box: geom.Box{X1: 300, Y1: 80, X2: 345.5, Y2: 210.25}, Score: 0.5, State: tracker.Confirmed},
	}
	var prod bytes.Buffer
	w := pipeline.NewMOTWriter(&prod, "cam")
	w.Result(&pipeline.Result{Camera: "cam", Frame: 6, Width: 768, Height: 576, Tracks: tracks})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := make([]Row, len(tracks))
	for i, tr := range tracks {
		rows[i] = Row{Frame: 7, ID: int(tr.ID), Box: tr.Box, Conf: float64(tr.Score)}
	}
	var ours bytes.Buffer
	if err := WriteResults(&ours, rows); err != nil {
		t.Fatal(err)
	}
	if ours.String() != prod.String() {
		t.Errorf("WriteResults:\n%s\npipeline.MOTWriter:\n%s", ours.String(), prod.String())
	}
}

func TestWriteRefusesDegenerateBox(t *testing.T) {
	rows := []Row{{Frame: 1, ID: 1, Box: geom.Box{X1: 10, Y1: 10, X2: 10.004, Y2: 50}, Conf: 1}}
	var buf bytes.Buffer
	if err := WriteResults(&buf, rows); err == nil || !strings.Contains(err.Error(), "width 0.00") {
		t.Errorf("error %v, want a width 0.00 refusal", err)
	}
}

// TestAsWrittenEqualsFile: metrics computed on AsWritten rows are the ones
// TrackEval computes on the written file.
func TestAsWrittenEqualsFile(t *testing.T) {
	rows := []Row{
		{Frame: 2, ID: 1, Box: geom.Box{X1: 1.004, Y1: 2.006, X2: 11.333, Y2: 22.5}, Conf: 0.123456},
		{Frame: 1, ID: 1, Box: geom.Box{X1: 1, Y1: 2, X2: 3, Y2: 4}, Conf: 0.5},
	}
	got, err := AsWritten(rows, Results)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteResults(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want, err := ParseMOT(&buf, "x", Results)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || got[1].Box.X1 != 1 || got[1].Conf != 0.1235 {
		t.Errorf("AsWritten %+v, file %+v", got, want)
	}
}
