package accuracy

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/tracker"
)

// Event is one line crossing. Frame is 1-based like the MOT files.
type Event struct {
	Line, Direction string
	Frame           int
	TrackID         int
}

// GTCrossings derives the counting truth from gt tracks by running them
// through the production counting.Counter (default options, bottom-centre
// anchor, band, confirmation, finalisation of tracks that leave), so ground
// truth and prediction follow the same crossing rules and differ only in
// the tracks. Every frame from 1 to the last gt frame is fed, empty ones
// too, because the Counter forgets tracks after a number of updates; the
// Counter is flushed at the end.
//
// Rows of class pedestrian are used whatever their consider flag: consider=0
// marks a box as not to be scored for tracking (occluded, ambiguous), but
// the person still walks over the line. Other classes (static persons,
// reflections, vehicles...) are left out. An id twice in one frame is an
// error. Events are ordered by frame, line order and track id.
func GTCrossings(gt []Row, lines []counting.Line) ([]Event, error) {
	counter, err := counting.NewCounter(lines, nil)
	if err != nil {
		return nil, fmt.Errorf("gt crossings: %w", err)
	}
	var people []Row
	last := 0
	for _, r := range gt {
		if r.Class != pedestrianClass {
			continue
		}
		if r.Frame < 1 {
			return nil, fmt.Errorf("gt crossings: id %d: frame %d is not 1-based", r.ID, r.Frame)
		}
		people = append(people, r)
		last = max(last, r.Frame)
	}
	frames, err := byFrame(people, last, "gt")
	if err != nil {
		return nil, fmt.Errorf("gt crossings: %w", err)
	}
	var events []Event
	add := func(cs []counting.Crossing) {
		for _, c := range cs {
			events = append(events, Event{Line: c.Line, Direction: c.Direction, Frame: int(c.Frame), TrackID: int(c.TrackID)})
		}
	}
	for t, rows := range frames {
		tracks := make([]tracker.Track, len(rows))
		for i, r := range rows {
			tracks[i] = tracker.Track{ID: uint64(r.ID), Box: r.Box, Score: 1, Class: 0, State: tracker.Confirmed}
		}
		cs, _ := counter.Update(counting.Observation{Frame: int64(t + 1), Tracks: tracks})
		add(cs)
	}
	add(counter.Flush())
	// Update and Flush each order their own crossings; crossings confirmed
	// later can have happened earlier.
	lineIndex := make(map[string]int, len(lines))
	for i, l := range counter.Lines() {
		lineIndex[l.Name] = i
	}
	slices.SortStableFunc(events, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.Frame, b.Frame), cmp.Compare(lineIndex[a.Line], lineIndex[b.Line]), cmp.Compare(a.TrackID, b.TrackID))
	})
	return events, nil
}

// ReadCrossingsCSV reads explicit counting truth: a CSV whose header starts
// with line,direction,frame (further columns, such as a description, are
// allowed and ignored), one crossing per record, frame 1-based. Errors read
// "path:line: ...".
func ReadCrossingsCSV(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read crossings: %w", err)
	}
	defer f.Close()
	return parseCrossingsCSV(f, path)
}

func parseCrossingsCSV(r io.Reader, name string) ([]Event, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header line,direction,frame", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	want := []string{"line", "direction", "frame"}
	if len(header) < len(want) {
		return nil, fmt.Errorf("%s:1: header %q must start with line,direction,frame", name, strings.Join(header, ","))
	}
	for i, w := range want {
		if !strings.EqualFold(strings.TrimSpace(header[i]), w) {
			return nil, fmt.Errorf("%s:1: header %q must start with line,direction,frame", name, strings.Join(header, ","))
		}
	}
	var events []Event
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		ev := Event{Line: strings.TrimSpace(rec[0]), Direction: strings.TrimSpace(rec[1])}
		if ev.Line == "" || ev.Direction == "" {
			return nil, fmt.Errorf("%s:%d: line and direction must not be empty", name, line)
		}
		frame := strings.TrimSpace(rec[2])
		if ev.Frame, err = strconv.Atoi(frame); err != nil {
			return nil, fmt.Errorf("%s:%d: frame %q is not an integer", name, line, frame)
		}
		if ev.Frame < 1 {
			return nil, fmt.Errorf("%s:%d: frame %d: frames are 1-based", name, line, ev.Frame)
		}
		events = append(events, ev)
	}
}

// csvError names the file and line as "path:N: ..." rather than
// encoding/csv's "record on line N: ...".
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// CountScore is counting accuracy for one line and direction (or, in
// CountingMetrics.Total, all of them: Line and Direction "all"). Zero
// denominators follow DetectionMetrics: with no gt crossings Recall is 1,
// with no predicted ones Precision is 1, so a line where nobody crossed and
// nothing was counted scores 1 everywhere.
type CountScore struct {
	Line, Direction       string
	GT, Pred, TP, FP, FN  int
	Precision, Recall, F1 float64
}

// CountingMetrics compare predicted crossings with the truth.
type CountingMetrics struct {
	PerLine   []CountScore // sorted by line, then direction
	Total     CountScore   // Line and Direction "all"
	Tolerance int          // frames
}

// EvaluateCounting matches predicted crossings to gt crossings of the same
// line and direction one-to-one when their frames differ by at most
// tolerance: the most matches possible, and among those the smallest total
// frame difference. A crossing counted in the wrong direction is therefore
// a false positive in one direction and a miss in the other, and a double
// count is one hit and one false positive. A negative tolerance counts as 0.
func EvaluateCounting(gt, pred []Event, tolerance int) CountingMetrics {
	tolerance = max(tolerance, 0)
	type key struct{ line, dir string }
	gtBy := make(map[key][]int)
	predBy := make(map[key][]int)
	for _, e := range gt {
		k := key{e.Line, e.Direction}
		gtBy[k] = append(gtBy[k], e.Frame)
	}
	for _, e := range pred {
		k := key{e.Line, e.Direction}
		predBy[k] = append(predBy[k], e.Frame)
	}
	keys := make([]key, 0, len(gtBy)+len(predBy))
	for k := range gtBy {
		keys = append(keys, k)
	}
	for k := range predBy {
		if _, ok := gtBy[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.dir, b.dir)) })

	m := CountingMetrics{Tolerance: tolerance, Total: CountScore{Line: "all", Direction: "all"}}
	for _, k := range keys {
		g, p := gtBy[k], predBy[k]
		s := CountScore{Line: k.line, Direction: k.dir, GT: len(g), Pred: len(p), TP: matchFrames(g, p, tolerance)}
		s.FP, s.FN = s.Pred-s.TP, s.GT-s.TP
		s.Recall, s.Precision, s.F1 = prf(s.TP, s.FP, s.FN)
		m.PerLine = append(m.PerLine, s)
		m.Total.GT += s.GT
		m.Total.Pred += s.Pred
		m.Total.TP += s.TP
	}
	m.Total.FP, m.Total.FN = m.Total.Pred-m.Total.TP, m.Total.GT-m.Total.TP
	m.Total.Recall, m.Total.Precision, m.Total.F1 = prf(m.Total.TP, m.Total.FP, m.Total.FN)
	return m
}

// matchFrames returns how many pairs the matching of EvaluateCounting
// makes. A full assignment where an out-of-tolerance pair costs more than
// every in-tolerance pair together maximises the number of in-tolerance
// pairs first and minimises their total |dt| second.
func matchFrames(gt, pred []int, tolerance int) int {
	if len(gt) == 0 || len(pred) == 0 {
		return 0
	}
	forbidden := float64(min(len(gt), len(pred))*tolerance + 1)
	cost := make([]float64, len(gt)*len(pred))
	for i, g := range gt {
		for j, p := range pred {
			dt := math.Abs(float64(g - p))
			if dt > float64(tolerance) {
				dt = forbidden
			}
			cost[i*len(pred)+j] = dt
		}
	}
	pairs, err := linearSumAssignment(cost, len(gt), len(pred))
	if err != nil {
		// Finite costs always have a full assignment.
		panic(fmt.Sprintf("accuracy: counting assignment: %v", err))
	}
	n := 0
	for _, p := range pairs {
		if cost[p[0]*len(pred)+p[1]] != forbidden {
			n++
		}
	}
	return n
}
