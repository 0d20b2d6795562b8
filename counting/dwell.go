package counting

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/tracker"
)

// Defaults of DwellConfig.
const (
	DefaultDwellGap    = 3 * time.Second
	DefaultDwellRejoin = 0.5
)

// DwellConfig tunes how visits survive occlusions and tracker ID switches.
type DwellConfig struct {
	// Gap is how long (event time) a visitor may be unseen in the zone and
	// keep the visit: people are hidden behind shelves and each other for a
	// moment, and that is not a new visit. 0 means DefaultDwellGap.
	Gap time.Duration
	// Rejoin: a new track id appearing in the zone within Gap of a
	// visitor's last sighting, with its anchor within Rejoin x that
	// visitor's last box height of the visitor's last anchor, continues
	// that visit (ID switch after an occlusion). Box height scales the
	// distance with the person's size on screen. 0 means
	// DefaultDwellRejoin.
	Rejoin float64
}

// Presence is one visit of one person to one zone.
type Presence struct {
	Zone     string
	Visit    uint64        // visit number per Dweller, from 1, dense, stable for the visit
	TrackID  uint64        // current (latest) track id
	TrackIDs []uint64      // every track id the visit has had, in order of first use
	Start    time.Time     // event time of first sighting in the zone
	Last     time.Time     // event time of the latest sighting in the zone
	Dwell    time.Duration // Last - Start
	Box      geom.Box      // latest box
	Frame    int64         // frame of the latest sighting
}

// Dweller follows visits of people to zones: how long each has been there,
// across short occlusions and tracker ID switches. Feed it every analysed
// frame of one camera in order. It is not safe for concurrent use.
//
// Choices, and why:
//   - Only event (frame) time counts, never the wall clock, so replays and
//     slow analysis give the same visits. Event time that goes backwards is
//     taken as the latest time seen, so a clock step cannot shorten a visit
//     or end visits early.
//   - A visit keeps all its track ids while it lasts: a track that leaves
//     the zone and comes back within Gap, or an old id the tracker finds
//     again after a switch, continues it. A track id belongs to at most one
//     visit per zone. Two ids of one visit seen in the same frame are two
//     people: the visit keeps its earliest id and loses the others.
//   - Only a track first seen after the visitor's last sighting can take
//     over the visit, and only while none of the visitor's ids is in the
//     frame: a person who was visible all along is someone else, however
//     close.
//   - Candidate takeovers are assigned closest first over the whole zone,
//     so the outcome does not depend on the order of the tracks.
//   - Tracks whose State is not tracker.Confirmed, or whose box is not
//     finite, are ignored; of duplicate ids in one frame the first wins.
type Dweller struct {
	zones []Zone
	gap   time.Duration
	rej   float64

	seq    int64 // number of Update calls
	now    time.Time
	hasNow bool
	nextID uint64
	visits [][]*visit           // per zone (configuration order), ordered by visit number
	tracks map[uint64]trackSeen // every track seen within Gap
}

type visit struct {
	p       Presence
	anchor  geom.Point // latest anchor in the zone
	lastSeq int64      // Update of the latest sighting in the zone
}

type trackSeen struct {
	firstSeq int64
	last     time.Time
}

// NewDweller validates the zones (as NewCounter does) and the config.
func NewDweller(zones []Zone, cfg DwellConfig) (*Dweller, error) {
	if _, err := normaliseAll(nil, zones); err != nil {
		return nil, fmt.Errorf("new dweller: %w", err)
	}
	switch {
	case cfg.Gap == 0:
		cfg.Gap = DefaultDwellGap
	case cfg.Gap < 0:
		return nil, fmt.Errorf("new dweller: gap %s must be positive", cfg.Gap)
	}
	switch {
	case cfg.Rejoin == 0:
		cfg.Rejoin = DefaultDwellRejoin
	case cfg.Rejoin < 0 || math.IsNaN(cfg.Rejoin) || math.IsInf(cfg.Rejoin, 0):
		return nil, fmt.Errorf("new dweller: rejoin %g must be a positive number of box heights", cfg.Rejoin)
	}
	d := &Dweller{
		zones:  make([]Zone, len(zones)),
		gap:    cfg.Gap,
		rej:    cfg.Rejoin,
		visits: make([][]*visit, len(zones)),
		tracks: make(map[uint64]trackSeen),
	}
	for i, z := range zones {
		d.zones[i] = Zone{Name: z.Name, Polygon: slices.Clone(z.Polygon)}
	}
	return d, nil
}

// Update takes one analysed frame (tracks = confirmed tracks matched this
// frame, persons only) with its event time t. It returns the visits in
// progress (seen in this frame or within Gap) and the visits that ended
// (unseen in the zone for more than Gap; their Last is the end), each
// sorted by zone name then visit number. The slices are fresh on every
// call.
func (d *Dweller) Update(frame int64, t time.Time, tracks []tracker.Track) (present, ended []Presence) {
	d.seq++
	if !d.hasNow || t.After(d.now) {
		d.now, d.hasNow = t, true
	}
	now := d.now

	// Visits end before matching, so a track back after more than Gap
	// starts a new visit instead of stretching the old one.
	for zi := range d.visits {
		d.visits[zi] = slices.DeleteFunc(d.visits[zi], func(v *visit) bool {
			if now.Sub(v.p.Last) > d.gap {
				ended = append(ended, v.presence())
				return true
			}
			return false
		})
	}

	seen := make(map[uint64]bool, len(tracks))
	var live []tracker.Track
	for _, tr := range tracks {
		if tr.State != tracker.Confirmed || seen[tr.ID] || !finiteBox(tr.Box) {
			continue
		}
		seen[tr.ID] = true
		live = append(live, tr)
		if ts, ok := d.tracks[tr.ID]; ok {
			ts.last = now
			d.tracks[tr.ID] = ts
		} else {
			d.tracks[tr.ID] = trackSeen{firstSeq: d.seq, last: now}
		}
	}
	// Visit numbers are handed out in track id order, whatever the input
	// order.
	slices.SortStableFunc(live, func(a, b tracker.Track) int { return cmp.Compare(a.ID, b.ID) })

	for zi, z := range d.zones {
		for _, v := range d.visits[zi] {
			v.resolve(seen)
		}
		var in []tracker.Track
		for _, tr := range live {
			if z.Polygon.Contains(tr.Box.BottomCenter()) {
				in = append(in, tr)
			}
		}
		if len(in) > 0 {
			d.updateZone(zi, frame, now, in, seen)
		}
		for _, v := range d.visits[zi] {
			present = append(present, v.presence())
		}
	}
	for id, ts := range d.tracks {
		if now.Sub(ts.last) > d.gap {
			delete(d.tracks, id)
		}
	}
	sortPresence(present)
	sortPresence(ended)
	return present, ended
}

// updateZone matches the tracks whose anchor is in zone zi to its visits.
func (d *Dweller) updateZone(zi int, frame int64, now time.Time, in []tracker.Track, seen map[uint64]bool) {
	vs := d.visits[zi]
	owner := make(map[uint64]*visit)
	for _, v := range vs {
		for _, id := range v.p.TrackIDs {
			owner[id] = v
		}
	}
	matched := make(map[*visit]tracker.Track)
	var fresh []tracker.Track
	for _, tr := range in {
		if v := owner[tr.ID]; v != nil {
			matched[v] = tr // unique: resolve left one seen id per visit
		} else {
			fresh = append(fresh, tr)
		}
	}

	// ID switches: a track born after an unmatched visitor was last seen,
	// close to where it was last seen.
	type pair struct {
		v    *visit
		ti   int
		dist float64
	}
	var pairs []pair
	for _, v := range vs {
		if _, ok := matched[v]; ok || v.anyIn(seen) {
			continue
		}
		lim := d.rej * v.p.Box.H()
		for ti, tr := range fresh {
			if d.tracks[tr.ID].firstSeq <= v.lastSeq {
				continue
			}
			if dist := tr.Box.BottomCenter().Sub(v.anchor).Norm(); dist <= lim {
				pairs = append(pairs, pair{v, ti, dist})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.v.p.Visit, b.v.p.Visit), cmp.Compare(fresh[a.ti].ID, fresh[b.ti].ID))
	})
	taken := make(map[int]bool)
	for _, p := range pairs {
		if _, ok := matched[p.v]; ok || taken[p.ti] {
			continue
		}
		matched[p.v] = fresh[p.ti]
		taken[p.ti] = true
	}
	for v, tr := range matched {
		v.see(tr, frame, now, d.seq)
	}

	for ti, tr := range fresh {
		if taken[ti] {
			continue
		}
		d.nextID++
		v := &visit{p: Presence{Zone: d.zones[zi].Name, Visit: d.nextID, Start: now}}
		v.see(tr, frame, now, d.seq)
		vs = append(vs, v)
	}
	d.visits[zi] = vs
}

// Flush ends every visit at the end of a stream and returns them sorted
// like Update. Visit numbers keep counting if the Dweller is reused.
func (d *Dweller) Flush() []Presence {
	var ended []Presence
	for zi, vs := range d.visits {
		for _, v := range vs {
			ended = append(ended, v.presence())
		}
		d.visits[zi] = nil
	}
	clear(d.tracks)
	sortPresence(ended)
	return ended
}

func (v *visit) see(tr tracker.Track, frame int64, now time.Time, seq int64) {
	if !slices.Contains(v.p.TrackIDs, tr.ID) {
		v.p.TrackIDs = append(v.p.TrackIDs, tr.ID)
	}
	v.p.TrackID = tr.ID
	v.p.Last = now
	v.p.Dwell = now.Sub(v.p.Start)
	v.p.Box = tr.Box
	v.p.Frame = frame
	v.anchor = tr.Box.BottomCenter()
	v.lastSeq = seq
}

// resolve undoes wrong ID-switch guesses: two ids of one visit in the same
// frame are two people. The earliest id is the one the visit was built on,
// so it keeps the visit; the later ones are removed and, if in the zone,
// start visits of their own.
func (v *visit) resolve(seen map[uint64]bool) {
	keep := slices.IndexFunc(v.p.TrackIDs, func(id uint64) bool { return seen[id] })
	if keep < 0 {
		return
	}
	kept := v.p.TrackIDs[keep]
	v.p.TrackIDs = slices.DeleteFunc(v.p.TrackIDs, func(id uint64) bool { return id != kept && seen[id] })
	if !slices.Contains(v.p.TrackIDs, v.p.TrackID) {
		v.p.TrackID = kept
	}
}

func (v *visit) anyIn(seen map[uint64]bool) bool {
	return slices.ContainsFunc(v.p.TrackIDs, func(id uint64) bool { return seen[id] })
}

// presence is a copy the caller may keep and modify.
func (v *visit) presence() Presence {
	p := v.p
	p.TrackIDs = slices.Clone(p.TrackIDs)
	return p
}

func sortPresence(ps []Presence) {
	slices.SortFunc(ps, func(a, b Presence) int {
		return cmp.Or(cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Visit, b.Visit))
	})
}

func finiteBox(b geom.Box) bool {
	return finite(geom.Point{X: b.X1, Y: b.Y1}) && finite(geom.Point{X: b.X2, Y: b.Y2})
}
