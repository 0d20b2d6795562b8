package accuracy

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/storesight/storesight/geom"
)

// Row is one line of a MOTChallenge text file.
//
//	gt.txt:  frame,id,left,top,width,height,consider(0|1),class,visibility   (MOT17/MOT20 ground truth)
//	results: frame,id,left,top,width,height,conf,-1,-1,-1                    (what TrackEval reads)
//
// Frames are 1-based. IDs are positive integers.
type Row struct {
	Frame, ID  int
	Box        geom.Box // X1,Y1,X2,Y2 in pixels (the file stores left,top,width,height)
	Conf       float64  // results: score; gt: 1 = consider, 0 = ignore
	Class      int      // gt only (1 = pedestrian; TrackEval's distractors: 2,7,8,12)
	Visibility float64  // gt only
}

// Kind says which of the two MOTChallenge layouts a file has.
type Kind int

const (
	// GT is a MOT17/MOT20 gt.txt: 9 columns.
	GT Kind = iota
	// Results is a tracker output file: 10 columns.
	Results
)

func (k Kind) String() string {
	switch k {
	case GT:
		return "gt"
	case Results:
		return "results"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

func (k Kind) columns() int {
	if k == GT {
		return 9
	}
	return 10
}

// TrackEval's class ids (MotChallenge2DBox.class_name_to_class_id): with
// preprocessing on, a gt class outside this range aborts the evaluation.
const (
	minClass = 1
	maxClass = 13
	// pedestrianClass is the only class TrackEval evaluates on MOTChallenge.
	pedestrianClass = 1
)

// ReadMOT reads a MOTChallenge file strictly (see ParseMOT).
func ReadMOT(path string, kind Kind) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s file: %w", kind, err)
	}
	defer f.Close()
	return ParseMOT(f, path, kind)
}

// ParseMOT parses a MOTChallenge file; name is used in errors, which read
// "name:line: ...". It is stricter than TrackEval so that anything it
// accepts TrackEval accepts too and reads the same way: comma separated,
// exactly 9 (GT) or 10 (Results) columns (one trailing empty field, which
// TrackEval drops, is allowed), integer frame >= 1 and id >= 1, finite
// numbers, width and height > 0, no id twice in one frame (TrackEval
// rejects that in both gt and tracker files), gt consider 0 or 1 and class
// 1..13, results column 8 (which TrackEval reads as the class) <= 1. Rows
// are returned in file order.
func ParseMOT(r io.Reader, name string, kind Kind) ([]Row, error) {
	if kind != GT && kind != Results {
		return nil, fmt.Errorf("%s: unknown MOT file kind %d", name, int(kind))
	}
	type key struct{ frame, id int }
	seen := make(map[key]int) // -> line number
	var rows []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		row, err := parseMOTLine(sc.Text(), kind)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		k := key{row.Frame, row.ID}
		if first, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s:%d: id %d appears twice in frame %d (first on line %d); TrackEval rejects repeated ids within a frame",
				name, line, row.ID, row.Frame, first)
		}
		seen[k] = line
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return rows, nil
}

func parseMOTLine(text string, kind Kind) (Row, error) {
	text = strings.TrimRight(text, " \t\r")
	if text == "" {
		// TrackEval's csv reader turns a blank line into an empty row and
		// fails on it.
		return Row{}, fmt.Errorf("empty line")
	}
	f := strings.Split(text, ",")
	if len(f) > 1 && strings.TrimSpace(f[len(f)-1]) == "" {
		f = f[:len(f)-1]
	}
	if len(f) != kind.columns() {
		return Row{}, fmt.Errorf("%d columns, want %d for a %s file", len(f), kind.columns(), kind)
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	var row Row
	var err error
	// TrackEval looks frames up by their text ("1", "2", ...), so a frame
	// written as "1.0" would be an unknown timestep there: integers only.
	if row.Frame, err = parseInt(f[0], "frame"); err != nil {
		return Row{}, err
	}
	if row.Frame < 1 {
		return Row{}, fmt.Errorf("frame %d: frames are 1-based", row.Frame)
	}
	if row.ID, err = parseInt(f[1], "id"); err != nil {
		return Row{}, err
	}
	if row.ID < 1 {
		return Row{}, fmt.Errorf("id %d: ids must be positive", row.ID)
	}
	var ltwh [4]float64
	for i, n := range []string{"left", "top", "width", "height"} {
		if ltwh[i], err = parseFloat(f[2+i], n); err != nil {
			return Row{}, err
		}
	}
	if ltwh[2] <= 0 || ltwh[3] <= 0 {
		return Row{}, fmt.Errorf("box %gx%g: width and height must be positive", ltwh[2], ltwh[3])
	}
	// X2 = left + width is the same addition TrackEval does for its IoU,
	// so the IoUs here are bit for bit TrackEval's.
	row.Box = geom.Box{X1: ltwh[0], Y1: ltwh[1], X2: ltwh[0] + ltwh[2], Y2: ltwh[1] + ltwh[3]}

	if kind == GT {
		consider, err := parseInt(f[6], "consider")
		if err != nil {
			return Row{}, err
		}
		if consider != 0 && consider != 1 {
			return Row{}, fmt.Errorf("consider %d: must be 0 or 1", consider)
		}
		row.Conf = float64(consider)
		if row.Class, err = parseInt(f[7], "class"); err != nil {
			return Row{}, err
		}
		if row.Class < minClass || row.Class > maxClass {
			return Row{}, fmt.Errorf("class %d: MOTChallenge classes are %d..%d", row.Class, minClass, maxClass)
		}
		if row.Visibility, err = parseFloat(f[8], "visibility"); err != nil {
			return Row{}, err
		}
		if row.Visibility < 0 || row.Visibility > 1 {
			return Row{}, fmt.Errorf("visibility %g: must be within 0..1", row.Visibility)
		}
		return row, nil
	}
	if row.Conf, err = parseFloat(f[6], "conf"); err != nil {
		return Row{}, err
	}
	var extra [3]float64
	for i := range extra {
		if extra[i], err = parseFloat(f[7+i], fmt.Sprintf("column %d", 8+i)); err != nil {
			return Row{}, err
		}
	}
	if extra[0] > 1 {
		return Row{}, fmt.Errorf("column 8 is %g: TrackEval reads it as the class and accepts only pedestrians (<= 1); write -1", extra[0])
	}
	return row, nil
}

func parseInt(s, what string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", what, s)
	}
	return v, nil
}

func parseFloat(s, what string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s %q is not a finite number", what, s)
	}
	return v, nil
}

// WriteResults writes rows in TrackEval's tracker format, sorted by frame
// then id, with the same layout as pipeline.MOTWriter. A box whose width or
// height rounds to 0.00 is an error: ReadMOT would refuse the file, and
// TrackEval would score the box as overlapping nothing.
func WriteResults(w io.Writer, rows []Row) error {
	return writeMOT(w, rows, Results)
}

// WriteGT writes rows in the MOT17 gt.txt format, sorted by frame then id.
// Conf is written as the consider flag (0 or 1).
func WriteGT(w io.Writer, rows []Row) error {
	return writeMOT(w, rows, GT)
}

func writeMOT(w io.Writer, rows []Row, kind Kind) error {
	sorted := sortedRows(rows)
	bw := bufio.NewWriter(w)
	for _, r := range sorted {
		x, y := ff2(r.Box.X1), ff2(r.Box.Y1)
		wd, ht := ff2(r.Box.X2-r.Box.X1), ff2(r.Box.Y2-r.Box.Y1)
		if !positive(wd) || !positive(ht) {
			return fmt.Errorf("write %s: frame %d id %d: box %+v has width %s, height %s when written", kind, r.Frame, r.ID, r.Box, wd, ht)
		}
		var err error
		if kind == Results {
			_, err = fmt.Fprintf(bw, "%d,%d,%s,%s,%s,%s,%.4f,-1,-1,-1\n", r.Frame, r.ID, x, y, wd, ht, r.Conf)
		} else {
			consider := 0
			if r.Conf != 0 {
				consider = 1
			}
			_, err = fmt.Fprintf(bw, "%d,%d,%s,%s,%s,%s,%d,%d,%.2f\n", r.Frame, r.ID, x, y, wd, ht, consider, r.Class, r.Visibility)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", kind, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", kind, err)
	}
	return nil
}

func ff2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func positive(s string) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v > 0
}

// AsWritten returns rows exactly as ReadMOT returns them after WriteResults
// (Results) or WriteGT (GT): sorted, coordinates rounded to hundredths. The
// file is what TrackEval scores, so metrics meant to equal TrackEval's must
// be computed on these rows, not on the unrounded ones.
func AsWritten(rows []Row, kind Kind) ([]Row, error) {
	var buf bytes.Buffer
	if err := writeMOT(&buf, rows, kind); err != nil {
		return nil, err
	}
	return ParseMOT(&buf, "as written "+kind.String(), kind)
}

// sortedRows returns a copy of rows ordered by frame then id.
func sortedRows(rows []Row) []Row {
	s := slices.Clone(rows)
	slices.SortStableFunc(s, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.ID, b.ID))
	})
	return s
}
