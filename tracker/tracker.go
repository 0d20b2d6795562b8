// Package tracker follows detected objects from frame to frame and gives
// each a stable ID. It implements ByteTrack (Zhang et al., 2022): a Kalman
// filter predicts every track's box, detections are associated to the
// predictions by IoU with an optimal linear assignment, and low-confidence
// detections are used in a second stage to keep existing tracks alive
// through partial occlusion instead of being thrown away.
//
// Differences from the reference implementation, all deliberate:
//   - IDs are handed out only when a track is confirmed (after
//     Config.MinHits consecutive matches), so confirmed IDs are dense
//     (1, 2, 3, ...) and false positives never burn an ID.
//   - Detections are only associated with tracks of the same class.
//   - Tentative tracks are predicted by the Kalman filter like all others.
//   - ByteTrack's remove_duplicate_stracks pass is left out: it drops one of
//     a tracked and a lost track whose boxes overlap heavily, which is
//     exactly the situation of one person walking behind another, and would
//     cost the hidden person their ID.
package tracker

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
)

const (
	// lowMatchThresh is ByteTrack's stricter cost limit for the second
	// stage: a low-score detection is weak evidence, so it must overlap a
	// track clearly (IoU >= 0.5) to extend it.
	lowMatchThresh = 0.5
	// tentativeMatchThresh is ByteTrack's cost limit for matching
	// unconfirmed tracks; it is capped by Config.MatchThresh.
	tentativeMatchThresh = 0.7
)

// strack is the tracker's private state for one track: the public snapshot
// plus the filter and bookkeeping.
type strack struct {
	Track
	kf        kalman
	pred      geom.Box // box predicted for the current frame
	lastFrame int      // frame of the last match
}

// Tracker is a ByteTrack-class multi-object tracker for one camera.
//
// IDs are issued only when a track is confirmed, in order of confirmation,
// so the IDs a Tracker reports are exactly 1, 2, 3, ... with no gaps left by
// false positives that never reached MinHits; downstream counts can use the
// highest ID seen as "objects so far".
//
// A Tracker is not safe for concurrent use: it belongs to the one goroutine
// that feeds it frames in order (the camera worker), so it needs no locks.
type Tracker struct {
	cfg    Config
	frame  int
	nextID uint64
	tracks []*strack // live tracks (tentative, confirmed, lost) in birth order
}

// New returns a tracker. It panics if cfg is invalid, as that is a
// programming error: configurations from users must go through
// Config.Validate first.
func New(cfg Config) *Tracker {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("tracker.New: %v", err))
	}
	return &Tracker{cfg: cfg, nextID: 1}
}

// Update consumes one frame's detections and returns the confirmed tracks
// matched in this frame, sorted by ID: never tentative tracks, never lost
// ones. Detections with a non-finite or empty box, or a score below
// LowThresh, are ignored. It must be called for every analysed frame, with
// or without detections, since frames are the tracker's clock.
//
// Association per frame, as in ByteTrack:
//  1. High detections (score >= HighThresh) against confirmed and lost
//     tracks, cost 1 - IoU·score, limit MatchThresh. A matched lost track is
//     recovered with its ID.
//  2. Low detections (LowThresh <= score < HighThresh) against the confirmed
//     tracks still unmatched, cost 1 - IoU, limit 0.5. Confirmed tracks still
//     unmatched become Lost.
//  3. Remaining high detections against tentative tracks (limit
//     min(MatchThresh, 0.7)). A tentative track reaching MinHits is confirmed
//     and gets the next ID; an unmatched one is dropped.
//  4. Remaining high detections with score >= NewTrackThresh start tentative
//     tracks. Lost tracks unmatched for more than LostBuffer frames are
//     removed.
func (t *Tracker) Update(dets []detectors.Detection) []Track {
	t.frame++
	cfg := t.cfg

	var high, low []int
	for i, d := range dets {
		if !usable(d) {
			continue
		}
		s := float64(d.Score)
		switch {
		case s >= cfg.HighThresh:
			high = append(high, i)
		case s >= cfg.LowThresh:
			low = append(low, i)
		}
	}

	var pool, tentative []*strack
	for _, tr := range t.tracks {
		tr.Age++
		if tr.State == Lost {
			// ByteTrack stops the height from drifting while nothing
			// observes it, but keeps the walking velocity.
			tr.kf.mean[7] = 0
		}
		tr.kf.predict()
		tr.pred = tr.kf.measurement().box()
		if tr.State == Tentative {
			tentative = append(tentative, tr)
		} else {
			pool = append(pool, tr)
		}
	}

	// Stage 1: high detections vs confirmed and lost tracks.
	a := linearAssignment(iouCost(pool, dets, high, true), cfg.MatchThresh)
	for _, m := range a.matches {
		t.match(pool[m[0]], dets[high[m[1]]])
	}
	highLeft := pick(high, a.unmatchedCols)

	// Stage 2: low detections vs confirmed tracks left over; lost tracks
	// are not offered low-score evidence (ByteTrack's choice: a weak box
	// far from where a track was last seen is more likely clutter).
	var remaining []*strack
	for _, i := range a.unmatchedRows {
		if pool[i].State == Confirmed {
			remaining = append(remaining, pool[i])
		}
	}
	a = linearAssignment(iouCost(remaining, dets, low, false), lowMatchThresh)
	for _, m := range a.matches {
		t.match(remaining[m[0]], dets[low[m[1]]])
	}
	for _, i := range a.unmatchedRows {
		remaining[i].State = Lost
	}

	// Stage 3: tentative tracks vs high detections left over.
	a = linearAssignment(iouCost(tentative, dets, highLeft, true), math.Min(cfg.MatchThresh, tentativeMatchThresh))
	for _, m := range a.matches {
		t.match(tentative[m[0]], dets[highLeft[m[1]]])
	}
	for _, i := range a.unmatchedRows {
		tentative[i].State = Removed
	}

	// Stage 4: births.
	for _, k := range a.unmatchedCols {
		d := dets[highLeft[k]]
		if float64(d.Score) >= cfg.NewTrackThresh {
			t.birth(d)
		}
	}

	// Retire and report.
	var out []Track
	live := t.tracks[:0]
	for _, tr := range t.tracks {
		if tr.State == Lost && t.frame-tr.lastFrame > cfg.LostBuffer {
			tr.State = Removed
		}
		if tr.State == Removed {
			continue
		}
		live = append(live, tr)
		if tr.State == Confirmed && tr.lastFrame == t.frame {
			out = append(out, tr.Track)
		}
	}
	clear(t.tracks[len(live):]) // let removed tracks be collected
	t.tracks = live
	slices.SortFunc(out, func(x, y Track) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

// match feeds a detection to a track and promotes it where due.
func (t *Tracker) match(tr *strack, d detectors.Detection) {
	z := boxToXYAH(d.Box)
	if !tr.kf.update(z) {
		tr.kf = newKalman(z) // state was corrupted; restart from the evidence
	}
	tr.Box = tr.kf.measurement().box()
	tr.Score = d.Score
	tr.Hits++
	tr.lastFrame = t.frame
	switch tr.State {
	case Lost:
		tr.State = Confirmed
	case Tentative:
		if tr.Hits >= t.cfg.MinHits {
			t.confirm(tr)
		}
	}
}

// birth starts a tentative track (confirmed at once when MinHits is 1).
func (t *Tracker) birth(d detectors.Detection) {
	z := boxToXYAH(d.Box)
	tr := &strack{
		Track: Track{
			Box:   d.Box,
			Score: d.Score,
			Class: d.Class,
			State: Tentative,
			Hits:  1,
		},
		kf:        newKalman(z),
		lastFrame: t.frame,
	}
	if tr.Hits >= t.cfg.MinHits {
		t.confirm(tr)
	}
	t.tracks = append(t.tracks, tr)
}

// confirm promotes a tentative track and gives it the next ID; this is the
// only place IDs are issued, which keeps them dense.
func (t *Tracker) confirm(tr *strack) {
	tr.State = Confirmed
	tr.ID = t.nextID
	t.nextID++
}

// usable rejects detections the filter cannot represent: the state uses
// w/h, so an empty box would poison it with Inf or NaN.
func usable(d detectors.Detection) bool {
	b := d.Box
	for _, v := range [4]float64{b.X1, b.Y1, b.X2, b.Y2} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return b.X2 > b.X1 && b.Y2 > b.Y1 && !math.IsNaN(float64(d.Score))
}

// pick returns idx[k] for each k in ks.
func pick(idx, ks []int) []int {
	out := make([]int, len(ks))
	for i, k := range ks {
		out[i] = idx[k]
	}
	return out
}
