package tracker

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/internal/crowd"
)

// person is a 40×100 standing-person box centred on (cx, cy).
func person(cx, cy float64) geom.Box {
	return geom.Box{X1: cx - 20, Y1: cy - 50, X2: cx + 20, Y2: cy + 50}
}

func det(b geom.Box, score float32) detectors.Detection {
	return detectors.Detection{Box: b, Score: score}
}

// step runs one Update and checks the output contract that holds for every
// frame: only confirmed tracks, IDs positive and strictly increasing.
func step(t *testing.T, tr *Tracker, dets []detectors.Detection) []Track {
	t.Helper()
	out := tr.Update(dets)
	for i, o := range out {
		if o.State != Confirmed {
			t.Fatalf("frame %d: reported track %d in state %v", tr.frame, o.ID, o.State)
		}
		if o.ID == 0 {
			t.Fatalf("frame %d: reported track without ID", tr.frame)
		}
		if i > 0 && o.ID <= out[i-1].ID {
			t.Fatalf("frame %d: IDs not strictly increasing: %v", tr.frame, ids(out))
		}
	}
	return out
}

func ids(out []Track) []uint64 {
	r := make([]uint64, len(out))
	for i, o := range out {
		r[i] = o.ID
	}
	return r
}

// idNear returns the ID of the reported track best overlapping truth, or 0
// if none overlaps it by IoU >= 0.5.
func idNear(out []Track, truth geom.Box) uint64 {
	best, id := 0.5, uint64(0)
	for _, o := range out {
		if iou := o.Box.IoU(truth); iou >= best {
			best, id = iou, o.ID
		}
	}
	return id
}

func TestOcclusionKeepsID(t *testing.T) {
	tr := New(DefaultConfig())
	var idA, idB uint64
	for f := 0; f < 60; f++ {
		a := person(100+3*float64(f), 200)
		b := person(600-3*float64(f), 400)
		occluded := f >= 20 && f < 30
		dets := []detectors.Detection{det(a, 0.9)}
		if !occluded {
			dets = append(dets, det(b, 0.85))
		}
		out := step(t, tr, dets)
		if f < 2 {
			if len(out) != 0 {
				t.Fatalf("frame %d: tracks reported before MinHits: %v", f, ids(out))
			}
			continue
		}
		gotA, gotB := idNear(out, a), idNear(out, b)
		if f == 2 {
			idA, idB = gotA, gotB
			if idA == 0 || idB == 0 || idA == idB {
				t.Fatalf("frame 2: ids A=%d B=%d", idA, idB)
			}
		}
		if gotA != idA {
			t.Fatalf("frame %d: A has id %d, want %d", f, gotA, idA)
		}
		if occluded {
			if len(out) != 1 {
				t.Fatalf("frame %d: occluded B still reported: %v", f, ids(out))
			}
			continue
		}
		if gotB != idB {
			t.Fatalf("frame %d: B has id %d, want %d (lost track not recovered)", f, gotB, idB)
		}
	}
	if tr.nextID != 3 {
		t.Fatalf("issued %d ids, want 2", tr.nextID-1)
	}
}

func TestLowScoreDetectionsKeepTrack(t *testing.T) {
	walk := func(t *testing.T, cfg Config) (reportedDuringDip int, idBefore, idAfter uint64) {
		tr := New(cfg)
		for f := 0; f < 40; f++ {
			b := person(100+2*float64(f), 300)
			score := float32(0.9)
			dip := f >= 10 && f < 20
			if dip {
				score = 0.3 // partly hidden behind a shelf
			}
			out := step(t, tr, []detectors.Detection{det(b, score)})
			id := idNear(out, b)
			switch {
			case f == 5:
				idBefore = id
			case dip && id != 0:
				reportedDuringDip++
				if id != idBefore {
					t.Fatalf("frame %d: id %d during dip, want %d", f, id, idBefore)
				}
				if out[0].Score != 0.3 {
					t.Fatalf("frame %d: score %v, want the low detection's 0.3", f, out[0].Score)
				}
			case f == 39:
				idAfter = id
			}
		}
		return
	}

	n, before, after := walk(t, DefaultConfig())
	if n != 10 {
		t.Fatalf("track reported in %d of 10 low-score frames", n)
	}
	if before == 0 || before != after {
		t.Fatalf("id before %d, after %d", before, after)
	}

	// Control: with the low detections below LowThresh the second stage
	// has nothing to work with and the track is lost during the dip (and
	// recovered afterwards from the lost pool).
	cfg := DefaultConfig()
	cfg.LowThresh = 0.4
	n, before, after = walk(t, cfg)
	if n != 0 {
		t.Fatalf("control: track reported in %d low-score frames, want 0", n)
	}
	if before == 0 || before != after {
		t.Fatalf("control: id before %d, after %d", before, after)
	}
}

func TestLowScoreDetectionsNeverStartTracks(t *testing.T) {
	tr := New(DefaultConfig())
	for f := 0; f < 20; f++ {
		// 0.55 is a high detection but below NewTrackThresh; 0.3 is low.
		out := step(t, tr, []detectors.Detection{
			det(person(100, 300), 0.3),
			det(person(400, 300), 0.55),
		})
		if len(out) != 0 {
			t.Fatalf("frame %d: reported %v", f, ids(out))
		}
	}
	if len(tr.tracks) != 0 {
		t.Fatalf("%d tracks created from sub-threshold detections", len(tr.tracks))
	}
}

func TestCrossingKeepsIDs(t *testing.T) {
	cases := []struct {
		name string
		// back returns the detections for the person walking behind,
		// given how much the two true boxes overlap.
		back func(b geom.Box, overlap float64) []detectors.Detection
	}{
		{"both visible", func(b geom.Box, _ float64) []detectors.Detection {
			return []detectors.Detection{det(b, 0.8)}
		}},
		{"back person low score while overlapped", func(b geom.Box, ov float64) []detectors.Detection {
			if ov > 0.3 {
				return []detectors.Detection{det(b, 0.3)}
			}
			return []detectors.Detection{det(b, 0.8)}
		}},
		{"back person hidden while overlapped", func(b geom.Box, ov float64) []detectors.Detection {
			// Hidden from the first touch: ~16 frames in which only the
			// Kalman velocity carries the lost track across the other one.
			if ov > 0.05 {
				return nil
			}
			return []detectors.Detection{det(b, 0.8)}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(DefaultConfig())
			var idA, idB uint64
			hidden := 0
			for f := 0; f < 200; f++ {
				// A walks right, B walks left 5 px lower; they meet at f=100.
				a := person(100+2*float64(f), 300)
				b := person(500-2*float64(f), 305)
				ov := a.IoU(b)
				dets := append([]detectors.Detection{det(b, 0.9)}, tc.back(a, ov)...)
				out := step(t, tr, dets)
				if ov > 0.05 {
					hidden++
					continue // identity while overlapped is judged afterwards
				}
				gotA, gotB := idNear(out, a), idNear(out, b)
				if f == 10 {
					idA, idB = gotA, gotB
					if idA == 0 || idB == 0 || idA == idB {
						t.Fatalf("frame 10: ids A=%d B=%d", idA, idB)
					}
				}
				if f >= 10 && (gotA != idA || gotB != idB) {
					t.Fatalf("frame %d: A=%d B=%d, want A=%d B=%d (ids swapped or lost)", f, gotA, gotB, idA, idB)
				}
			}
			if hidden < 15 {
				t.Fatalf("scenario only overlapped for %d frames; the test would be too easy", hidden)
			}
			if tr.nextID != 3 {
				t.Fatalf("issued %d ids, want 2", tr.nextID-1)
			}
		})
	}
}

func TestFalsePositivesNeverConfirmed(t *testing.T) {
	tr := New(DefaultConfig())
	seen := map[uint64]bool{}
	for f := 0; f < 40; f++ {
		p := person(100+2*float64(f), 300)
		dets := []detectors.Detection{det(p, 0.9)}
		fp1 := person(500, 100)
		fp2 := person(700, 400)
		if f == 5 {
			dets = append(dets, det(fp1, 0.95)) // single-frame glitch
		}
		if f == 8 || f == 9 {
			dets = append(dets, det(fp2, 0.95)) // MinHits-1 frames
		}
		if f == 12 || f == 14 || f == 16 {
			dets = append(dets, det(fp2, 0.95)) // frequent but never consecutive
		}
		out := step(t, tr, dets)
		for _, o := range out {
			seen[o.ID] = true
			if o.Box.IoU(fp1) > 0 || o.Box.IoU(fp2) > 0 {
				t.Fatalf("frame %d: false positive reported as track %d", f, o.ID)
			}
		}
	}
	if len(seen) != 1 || !seen[1] {
		t.Fatalf("ids seen %v, want only 1", seen)
	}

	// The next real object gets ID 2: no IDs were burned by the glitches.
	for f := 0; f < 3; f++ {
		out := step(t, tr, []detectors.Detection{det(person(180+2*float64(f), 300), 0.9), det(person(600, 200), 0.9)})
		if f == 2 {
			if got := idNear(out, person(600, 200)); got != 2 {
				t.Fatalf("second real object got id %d, want 2", got)
			}
		}
	}
}

func TestConfirmationTiming(t *testing.T) {
	for _, minHits := range []int{1, 2, 3, 5} {
		cfg := DefaultConfig()
		cfg.MinHits = minHits
		tr := New(cfg)
		for f := 1; f <= minHits+2; f++ {
			out := step(t, tr, []detectors.Detection{det(person(200, 200), 0.9)})
			if want := f >= minHits; (len(out) == 1) != want {
				t.Fatalf("MinHits %d frame %d: reported %d tracks", minHits, f, len(out))
			}
			if len(out) == 1 && (out[0].Hits != f || out[0].Age != f-1 || out[0].ID != 1) {
				t.Fatalf("MinHits %d frame %d: %+v", minHits, f, out[0])
			}
		}
	}
}

func TestLongWalkWithJitter(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	tr := New(DefaultConfig())
	var id uint64
	var errSum float64
	var errN, missed int
	for f := 0; f < 600; f++ {
		truth := person(50+1.5*float64(f), 300+0.2*float64(f))
		if f > 10 && rng.IntN(20) == 0 {
			missed++
			step(t, tr, nil) // detector missed this frame
			continue
		}
		j := func() float64 { return rng.NormFloat64() * 2 }
		b := geom.Box{X1: truth.X1 + j(), Y1: truth.Y1 + j(), X2: truth.X2 + j(), Y2: truth.Y2 + j()}
		score := float32(0.55 + 0.4*rng.Float64())
		out := step(t, tr, []detectors.Detection{det(b, score)})
		if id == 0 && len(out) == 0 && f < 10 {
			continue // a first detection below NewTrackThresh delays the birth
		}
		if len(out) != 1 {
			t.Fatalf("frame %d: %d tracks reported", f, len(out))
		}
		if id == 0 {
			id = out[0].ID
		}
		if out[0].ID != id {
			t.Fatalf("frame %d: id changed %d -> %d", f, id, out[0].ID)
		}
		if f > 50 {
			c, tc := out[0].Box.Center(), truth.Center()
			errSum += math.Hypot(c.X-tc.X, c.Y-tc.Y)
			errN++
		}
	}
	if missed == 0 {
		t.Fatal("scenario had no missed frames")
	}
	// Raw detection centres are off by ~2 px on average (two corners of
	// σ=2 averaged per axis); the filter must do at least that well.
	if mean := errSum / float64(errN); mean > 2 {
		t.Fatalf("mean centre error %.2f px, want <= 2", mean)
	}
	if tr.nextID != 2 {
		t.Fatalf("issued %d ids over the walk, want 1", tr.nextID-1)
	}
}

func TestLostTracksRemovedAfterBuffer(t *testing.T) {
	const buffer = 5
	run := func(gap int) (before, after uint64, reportedOnReturn bool) {
		cfg := DefaultConfig()
		cfg.LostBuffer = buffer
		tr := New(cfg)
		p := person(300, 300)
		for f := 0; f < 10; f++ {
			before = idNear(step(t, tr, []detectors.Detection{det(p, 0.9)}), p)
		}
		for f := 0; f < gap; f++ {
			if out := step(t, tr, nil); len(out) != 0 {
				t.Fatalf("lost track reported: %v", ids(out))
			}
		}
		if len(tr.tracks) == 0 != (gap > buffer) {
			t.Fatalf("gap %d: %d tracks kept", gap, len(tr.tracks))
		}
		reportedOnReturn = idNear(step(t, tr, []detectors.Detection{det(p, 0.9)}), p) != 0
		for f := 0; f < 5; f++ {
			after = idNear(step(t, tr, []detectors.Detection{det(p, 0.9)}), p)
		}
		return
	}

	before, after, onReturn := run(buffer)
	if before != 1 || after != 1 || !onReturn {
		t.Fatalf("gap of LostBuffer frames: ids %d -> %d, reported on return %v; want same id at once", before, after, onReturn)
	}
	before, after, onReturn = run(buffer + 1)
	if before != 1 || after != 2 || onReturn {
		t.Fatalf("gap of LostBuffer+1 frames: ids %d -> %d, reported on return %v; want a new tentative track, id 2", before, after, onReturn)
	}
}

func TestClassSeparation(t *testing.T) {
	t.Run("same box, two classes", func(t *testing.T) {
		tr := New(DefaultConfig())
		var out []Track
		for f := 0; f < 5; f++ {
			b := person(200+float64(f), 200)
			out = step(t, tr, []detectors.Detection{
				{Box: b, Score: 0.9, Class: 0},
				{Box: b, Score: 0.9, Class: 1},
			})
		}
		if len(out) != 2 || out[0].Class == out[1].Class {
			t.Fatalf("want one track per class, got %+v", out)
		}
	})
	t.Run("class change is a new object", func(t *testing.T) {
		tr := New(DefaultConfig())
		b := person(200, 200)
		for f := 0; f < 10; f++ {
			step(t, tr, []detectors.Detection{{Box: b, Score: 0.9, Class: 0}})
		}
		for f := 0; f < 5; f++ {
			out := step(t, tr, []detectors.Detection{{Box: b, Score: 0.9, Class: 1}})
			for _, o := range out {
				if o.ID == 1 || o.Class != 1 {
					t.Fatalf("frame %d: class-1 detection reported as %+v", f, o)
				}
			}
			if (len(out) == 1) != (f >= 2) {
				t.Fatalf("frame %d: %d tracks, want the class-1 track only once confirmed", f, len(out))
			}
		}
		// Low-score detections of another class don't keep a track either.
		for f := 0; f < 3; f++ {
			step(t, tr, []detectors.Detection{{Box: b, Score: 0.3, Class: 0}})
		}
		if out := step(t, tr, []detectors.Detection{{Box: b, Score: 0.9, Class: 1}}); len(out) != 1 || out[0].ID != 2 {
			t.Fatalf("class-1 track after class-0 clutter: %+v", out)
		}
	})
}

func TestUnusableDetectionsIgnored(t *testing.T) {
	tr := New(Config{HighThresh: 0.5, LowThresh: 0.1, NewTrackThresh: 0.5, MatchThresh: 0.8, MinHits: 1, LostBuffer: 30})
	out := step(t, tr, []detectors.Detection{
		det(geom.Box{X1: 10, Y1: 10, X2: 10, Y2: 50}, 0.9), // zero width
		det(geom.Box{X1: 10, Y1: 10, X2: 50, Y2: 10}, 0.9), // zero height
		det(geom.Box{X1: math.NaN(), Y1: 10, X2: 50, Y2: 50}, 0.9),
		det(geom.Box{X1: 0, Y1: 0, X2: math.Inf(1), Y2: 50}, 0.9),
		{Box: person(100, 100), Score: float32(math.NaN())},
		det(person(300, 300), 0.9),
	})
	if len(out) != 1 || out[0].ID != 1 || out[0].Box.IoU(person(300, 300)) < 0.99 {
		t.Fatalf("got %+v, want the one valid detection", out)
	}
	for _, v := range []float64{out[0].Box.X1, out[0].Box.Y1, out[0].Box.X2, out[0].Box.Y2} {
		if math.IsNaN(v) {
			t.Fatal("NaN leaked into track box")
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	d := DefaultConfig()
	if d != (Config{0.5, 0.1, 0.6, 0.8, 3, 30}) {
		t.Fatalf("DefaultConfig = %+v", d)
	}
	bad := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.HighThresh = 1.5 }, "HighThresh"},
		{func(c *Config) { c.LowThresh = math.NaN() }, "LowThresh"},
		{func(c *Config) { c.LowThresh = 0.7 }, "must not exceed HighThresh"},
		{func(c *Config) { c.NewTrackThresh = 0.4 }, "NewTrackThresh"},
		{func(c *Config) { c.MatchThresh = 0 }, "MatchThresh"},
		{func(c *Config) { c.MinHits = 0 }, "MinHits"},
		{func(c *Config) { c.LostBuffer = -1 }, "LostBuffer"},
	}
	for _, b := range bad {
		c := DefaultConfig()
		b.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want mention of %q", c, err, b.want)
		}
	}
	// All problems are reported together.
	err := Config{HighThresh: 2, MinHits: 0, LostBuffer: -1, MatchThresh: 0.8}.Validate()
	for _, want := range []string{"HighThresh", "MinHits", "LostBuffer"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("combined error %v lacks %q", err, want)
		}
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted an invalid config")
		}
	}()
	New(Config{})
}

func TestCrowdKeepsOneIDPerPerson(t *testing.T) {
	// 50 people bouncing around the view (paths cross, 3% misses, jitter):
	// every person must end up with exactly one ID over 1500 frames.
	tr := New(DefaultConfig())
	for _, dets := range crowd.Walk(50, 1500, 9) {
		step(t, tr, dets)
	}
	if got := tr.nextID - 1; got != 50 {
		t.Fatalf("issued %d ids for 50 people", got)
	}
}
