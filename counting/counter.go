package counting

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/storesight/storesight/tracker"
)

// DefaultForgetAfter is how many Updates a track may be absent before its
// state is finalised and dropped.
const DefaultForgetAfter = 30

// Observation is the tracker output for one analysed frame.
type Observation struct {
	Frame      int64
	StreamTime time.Duration
	Time       time.Time // event time of the frame
	Tracks     []tracker.Track
}

// Counter counts line crossings and zone occupancy for one camera. It keeps
// per-track state, so it must see the frames of one tracker in order. It is
// not safe for concurrent use.
//
// A track that has not been seen for ForgetAfter Updates is finalised: a
// crossing still waiting for its ConfirmFrames is counted if the track was
// seen at least once on the far side outside the band. People leave the
// frame right after crossing a line near the frame edge, so requiring the
// full confirmation would miss them; a person who only stepped into the
// band is still not counted.
type Counter struct {
	lines       []Line
	zones       []Zone
	lineIndex   map[string]int
	forgetAfter int64
	updates     int64 // number of Update calls so far
	tracks      map[uint64]*trackState
	totals      [][2]int // per line: forward, backward
}

type trackState struct {
	lastSeen int64 // value of Counter.updates when last seen
	lines    []sideState
}

// Option configures a Counter.
type Option func(*Counter)

// WithForgetAfter sets how many Update calls a track may be missing before
// it is forgotten and its pending crossings are finalised (default
// DefaultForgetAfter). It counts Updates rather than frame numbers so that
// it means the same whatever the analysis frame rate.
func WithForgetAfter(n int) Option {
	return func(c *Counter) { c.forgetAfter = int64(n) }
}

// NewCounter validates the lines and zones (non-empty distinct names,
// non-degenerate segments, polygons of at least 3 points), applies defaults
// and returns a Counter.
func NewCounter(lines []Line, zones []Zone, opts ...Option) (*Counter, error) {
	ls, err := normaliseAll(lines, zones)
	if err != nil {
		return nil, fmt.Errorf("new counter: %w", err)
	}
	c := &Counter{
		lines:       ls,
		zones:       make([]Zone, len(zones)),
		lineIndex:   make(map[string]int, len(ls)),
		forgetAfter: DefaultForgetAfter,
		tracks:      make(map[uint64]*trackState),
		totals:      make([][2]int, len(ls)),
	}
	for i, z := range zones {
		// Own copies, so a caller editing its config cannot change a
		// running counter.
		c.zones[i] = Zone{Name: z.Name, Polygon: slices.Clone(z.Polygon)}
	}
	for i, l := range ls {
		c.lineIndex[l.Name] = i
	}
	for _, o := range opts {
		o(c)
	}
	if c.forgetAfter < 1 {
		return nil, fmt.Errorf("new counter: forget after %d must be at least 1", c.forgetAfter)
	}
	return c, nil
}

// Lines returns the lines with defaults applied.
func (c *Counter) Lines() []Line { return slices.Clone(c.lines) }

// Update feeds one frame. It returns the crossings confirmed by this frame
// (including pending ones of tracks just forgotten), ordered by event frame,
// line order and track id, and the occupancy of every zone (zones with
// nobody map to 0). The occupancy map is fresh on every call.
//
// Tracks whose State is not tracker.Confirmed are ignored entirely, so a
// tentative false positive can neither count nor keep a track alive.
func (c *Counter) Update(o Observation) (crossings []Crossing, occupancy map[string]int) {
	c.updates++
	occupancy = make(map[string]int, len(c.zones))
	for _, z := range c.zones {
		occupancy[z.Name] = 0
	}
	for i := range o.Tracks {
		t := &o.Tracks[i]
		if t.State != tracker.Confirmed {
			continue
		}
		p := t.Box.BottomCenter()
		if !finite(p) {
			continue
		}
		ts := c.tracks[t.ID]
		if ts == nil {
			ts = &trackState{lines: make([]sideState, len(c.lines))}
			c.tracks[t.ID] = ts
		} else if ts.lastSeen == c.updates {
			continue // duplicate id in one frame: the first one wins
		}
		ts.lastSeen = c.updates
		for li := range c.lines {
			if cr, ok := ts.lines[li].step(&c.lines[li], p, &o, t.ID, t.Score); ok {
				crossings = append(crossings, cr)
			}
		}
		for _, z := range c.zones {
			if z.Polygon.Contains(p) {
				occupancy[z.Name]++
			}
		}
	}
	for id, ts := range c.tracks {
		if c.updates-ts.lastSeen > c.forgetAfter {
			crossings = c.finalise(ts, crossings)
			delete(c.tracks, id)
		}
	}
	c.record(crossings)
	return crossings, occupancy
}

// Flush finalises every track at the end of a stream: pending crossings
// seen at least once on the far side are counted (see Update), and all
// per-track state is dropped. The Counter can be reused afterwards.
func (c *Counter) Flush() []Crossing {
	var crossings []Crossing
	for id, ts := range c.tracks {
		crossings = c.finalise(ts, crossings)
		delete(c.tracks, id)
	}
	c.record(crossings)
	return crossings
}

// Totals returns the counts since the Counter was created:
// line name -> direction name -> count, with zeros present.
func (c *Counter) Totals() map[string]map[string]int {
	out := make(map[string]map[string]int, len(c.lines))
	for i, l := range c.lines {
		out[l.Name] = map[string]int{l.Forward: c.totals[i][0], l.Backward: c.totals[i][1]}
	}
	return out
}

// Tracks returns how many tracks the Counter currently remembers.
func (c *Counter) Tracks() int { return len(c.tracks) }

func (c *Counter) finalise(ts *trackState, out []Crossing) []Crossing {
	for li := range ts.lines {
		if cr, ok := ts.lines[li].finalise(); ok {
			out = append(out, cr)
		}
	}
	return out
}

// record sorts the crossings (map iteration made the order random) and
// adds them to the totals.
func (c *Counter) record(crossings []Crossing) {
	slices.SortFunc(crossings, func(a, b Crossing) int {
		return cmp.Or(
			cmp.Compare(a.Frame, b.Frame),
			cmp.Compare(c.lineIndex[a.Line], c.lineIndex[b.Line]),
			cmp.Compare(a.TrackID, b.TrackID),
		)
	})
	for _, cr := range crossings {
		i := c.lineIndex[cr.Line]
		if cr.Direction == c.lines[i].Forward {
			c.totals[i][0]++
		} else {
			c.totals[i][1]++
		}
	}
}
