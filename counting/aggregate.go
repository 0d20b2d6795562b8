package counting

import (
	"fmt"
	"time"
)

// LineCount is one line's crossings in one window.
type LineCount struct {
	Line        string    `json:"line"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Counts has both direction names, with zeros.
	Counts map[string]int `json:"counts"`
	// Totals are the counts since the Aggregator was created, this window
	// included.
	Totals map[string]int `json:"totals"`
	// Net is cumulative forward minus backward: with Forward named "in" it
	// estimates how many people are inside, as seen by this line alone.
	Net int `json:"net"`
	// EntranceDirection is the line's Entrance: the key of Counts that
	// counts people entering the store; "" when the line is not an entrance.
	EntranceDirection string `json:"entrance_direction,omitempty"`
}

// ZoneOccupancy summarises one zone's per-frame occupancy in one window.
type ZoneOccupancy struct {
	Zone        string    `json:"zone"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Max         int       `json:"max"`
	Mean        float64   `json:"mean"`
	Frames      int       `json:"frames"` // frames observed in the window
}

// Window is everything emitted when one window closes: one LineCount per
// configured line and one ZoneOccupancy per configured zone, in
// configuration order.
type Window struct {
	Start time.Time       `json:"start"`
	End   time.Time       `json:"end"`
	Lines []LineCount     `json:"lines"`
	Zones []ZoneOccupancy `json:"zones"`
}

// Aggregator turns per-frame crossings and occupancy into fixed windows
// (one minute by default) of event time. It is not safe for concurrent use.
//
// Choices, and why:
//   - A window closes when a frame arrives with event time at or past its
//     end, or on Flush (which also takes the Counter's final crossings); windows are aligned to multiples of the window
//     length (whole minutes).
//   - A window in which at least one frame was observed is emitted for every
//     line and zone, zeros included: analysts need the zeros. Windows with no
//     frame at all (camera down, stream gap) are not emitted, because no data
//     is not the same as nobody.
//   - A crossing is put in the window of its own event time while that window
//     is open. Crossings are reported a few frames after they happen (and up
//     to ForgetAfter Updates when a track vanishes), so a crossing whose
//     window has already closed is counted in the open window rather than
//     dropped; totals stay exact.
//   - Frames whose time goes backwards are counted in the open window.
type Aggregator struct {
	lines  []Line
	zones  []Zone
	index  map[string]int
	window time.Duration

	open       bool
	start, end time.Time
	counts     [][2]int // per line in the open window: forward, backward
	totals     [][2]int // per line since creation
	frames     int
	occSum     []int
	occMax     []int
}

// NewAggregator validates lines and zones like NewCounter. window <= 0 means
// one minute.
func NewAggregator(lines []Line, zones []Zone, window time.Duration) (*Aggregator, error) {
	ls, err := normaliseAll(lines, zones)
	if err != nil {
		return nil, fmt.Errorf("new aggregator: %w", err)
	}
	if window <= 0 {
		window = time.Minute
	}
	a := &Aggregator{
		lines:  ls,
		zones:  zones,
		index:  make(map[string]int, len(ls)),
		window: window,
		counts: make([][2]int, len(ls)),
		totals: make([][2]int, len(ls)),
		occSum: make([]int, len(zones)),
		occMax: make([]int, len(zones)),
	}
	for i, l := range ls {
		a.index[l.Name] = i
	}
	return a, nil
}

// Add feeds one frame: its event time t, the crossings Counter.Update
// returned and the zone occupancy. When t reaches the end of the open
// window, that window is returned with closed true.
func (a *Aggregator) Add(t time.Time, crossings []Crossing, occupancy map[string]int) (w Window, closed bool) {
	if !a.open {
		a.begin(t)
	}
	// Crossings that happened before the open window's end belong to it,
	// even when the frame reporting them is already in the next window.
	for _, c := range crossings {
		if c.Time.Before(a.end) {
			a.count(c)
		}
	}
	if !t.Before(a.end) {
		prevEnd := a.end
		w, closed = a.close(), true
		a.begin(t)
		for _, c := range crossings {
			if !c.Time.Before(prevEnd) {
				a.count(c)
			}
		}
	}
	a.frames++
	for i, z := range a.zones {
		n := occupancy[z.Name]
		a.occSum[i] += n
		a.occMax[i] = max(a.occMax[i], n)
	}
	return w, closed
}

// Flush closes the open window at the end of a stream, after counting the
// final crossings in it (pass what Counter.Flush returned). closed is false
// when there is nothing to close: no frame since the last window closed and
// no final crossing.
func (a *Aggregator) Flush(final []Crossing) (w Window, closed bool) {
	if !a.open {
		if len(final) == 0 {
			return Window{}, false
		}
		a.begin(final[0].Time)
	}
	for _, c := range final {
		a.count(c)
	}
	return a.close(), true
}

func (a *Aggregator) begin(t time.Time) {
	a.open = true
	a.start = t.UTC().Truncate(a.window)
	a.end = a.start.Add(a.window)
}

func (a *Aggregator) count(c Crossing) {
	i, ok := a.index[c.Line]
	if !ok {
		return // not a configured line: nothing to attribute it to
	}
	d := 1
	if c.Direction == a.lines[i].Forward {
		d = 0
	}
	a.counts[i][d]++
	a.totals[i][d]++
}

func (a *Aggregator) close() Window {
	w := Window{
		Start: a.start,
		End:   a.end,
		Lines: make([]LineCount, len(a.lines)),
		Zones: make([]ZoneOccupancy, len(a.zones)),
	}
	for i, l := range a.lines {
		w.Lines[i] = LineCount{
			Line:        l.Name,
			WindowStart: a.start,
			WindowEnd:   a.end,
			Counts:      map[string]int{l.Forward: a.counts[i][0], l.Backward: a.counts[i][1]},
			Totals:      map[string]int{l.Forward: a.totals[i][0], l.Backward: a.totals[i][1]},
			Net:         a.totals[i][0] - a.totals[i][1],

			EntranceDirection: l.Entrance,
		}
		a.counts[i] = [2]int{}
	}
	for i, z := range a.zones {
		var mean float64
		if a.frames > 0 {
			mean = float64(a.occSum[i]) / float64(a.frames)
		}
		w.Zones[i] = ZoneOccupancy{
			Zone:        z.Name,
			WindowStart: a.start,
			WindowEnd:   a.end,
			Max:         a.occMax[i],
			Mean:        mean,
			Frames:      a.frames,
		}
		a.occSum[i], a.occMax[i] = 0, 0
	}
	a.frames = 0
	a.open = false
	return w
}
