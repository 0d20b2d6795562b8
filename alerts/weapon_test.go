package alerts

import (
	"slices"
	"testing"

	"github.com/storesight/storesight/geom"
)

func TestWeaponConfirmedNextToPersonBestFrameAndClear(t *testing.T) {
	rule := Rule{Name: "knife", Kind: KindWeapon, Classes: []int{knifeCls}, MinScore: 0.5, Near: 0.1}
	h := start(t, []Rule{rule})
	const cam = "till"
	holder := box(100, 100, 200, 400)      // 300 px tall: grown by 30 px
	near := box(205, 240, 225, 260)        // centre (215, 250): outside the box, inside the grown one
	shelf := box(600, 100, 620, 120)       // far from anyone
	knife := func(i int) (float32, bool) { // the knife next to the person, per frame
		switch {
		case i == 20: // one-frame false positive
			return 0.62, true
		case i == 40 || i == 42 || i == 43:
			return 0.62, true
		case i == 50 || i == 150: // clearly better, first rate-limited, then not
			return 0.9, true
		case i == 60: // below MinScore: not a weapon frame... but 59 and 61 are
			return 0.4, true
		case i > 43 && i <= 150:
			return 0.62, true
		}
		return 0, false
	}
	for i := 0; i <= 260; i++ {
		r := frameAt(cam, i)
		r.Tracks = append(r.Tracks, personTrack(2, holder))
		r.Detections = append(r.Detections, det(personCls, 0.9, holder))
		if i >= 10 && i < 200 {
			r.Detections = append(r.Detections, det(knifeCls, 0.95, shelf))
		}
		if s, ok := knife(i); ok {
			r.Detections = append(r.Detections, det(knifeCls, s, near))
		}
		h.e.Result(r)
	}
	// A second episode: the person is only a detection (not tracked yet).
	for i := 300; i <= 320; i++ {
		r := frameAt(cam, i)
		r.Detections = append(r.Detections, det(personCls, 0.7, holder))
		if i <= 304 {
			r.Detections = append(r.Detections, det(knifeCls, 0.7, near))
		}
		h.e.Result(r)
	}
	h.e.Result(final(cam, 320))
	all := h.stop()
	got := byID(all)
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want 2: %+v", len(got), all)
	}

	first := got[alertID(cam, "knife", "", timeAt(40), 2)]
	checkSeq(t, first)
	if want := []State{StateRaised, StateUpdated, StateResolved}; !slices.Equal(states(first), want) {
		t.Fatalf("steps %v, want %v", states(first), want)
	}
	r := first[0]
	if r.Frame != 43 || r.Score != 0.62 || r.Value != 3 || r.Level != LevelLife || r.Class != "knife" ||
		r.Box != BoxOf(near) || !slices.Equal(r.TrackIDs, []uint64{2}) || r.Zone != "" {
		t.Fatalf("raised %+v", r)
	}
	if want := "Knife next to a person (camera till), score 0.62"; r.Message != want {
		t.Fatalf("message %q, want %q", r.Message, want)
	}
	// Frame 50 was better but within UpdateEvery of the raise; frame 150 is
	// the next better one. 107 more weapon frames from 44 to 150, minus the
	// weak one at 60.
	u := first[1]
	if u.Frame != 150 || u.Score != 0.9 || u.Value != 3+107-1 || !u.Time.Equal(timeAt(150)) {
		t.Fatalf("updated %+v", u)
	}
	if want := "Knife next to a person (camera till), score 0.90"; u.Message != want {
		t.Fatalf("message %q, want %q", u.Message, want)
	}
	res := first[2]
	if !res.Ended.Equal(timeAt(150)) || !res.Time.Equal(timeAt(200)) || res.Frame != 150 || res.Score != 0.9 {
		t.Fatalf("resolved %+v, want 5 s (Clear) after the last weapon frame", res)
	}

	second := got[alertID(cam, "knife", "", timeAt(300), 0)]
	if want := []State{StateRaised, StateResolved}; !slices.Equal(states(second), want) {
		t.Fatalf("second episode steps %v, want %v", states(second), want)
	}
	if second[0].Frame != 302 || len(second[0].TrackIDs) != 0 || !second[1].Ended.Equal(timeAt(304)) || !second[1].Time.Equal(timeAt(320)) {
		t.Fatalf("second episode %+v", second)
	}
}

func TestWeaponZoneFilterUsesPersonsSeenInZone(t *testing.T) {
	rule := Rule{Name: "knife-till", Kind: KindWeapon, Zone: "till", Classes: []int{knifeCls}, MinScore: 0.5, Near: 0.1,
		Frames: 2, Window: 2}
	h := start(t, []Rule{rule})
	holder := box(100, 100, 200, 400)
	near := box(205, 240, 225, 260)
	for i := 0; i < 10; i++ {
		r := frameAt("c", i)
		r.Tracks = append(r.Tracks, personTrack(5, holder))
		r.Detections = append(r.Detections, det(knifeCls, 0.8, near))
		// From frame 5 the dweller sees the person in the till zone; the
		// presences at frames 3 and 4 are stale (last seen at frame 2).
		switch {
		case i >= 5:
			r.Dwell = append(r.Dwell, presence("till", 1, []uint64{5}, timeAt(5), i, holder))
		case i == 3 || i == 4:
			r.Dwell = append(r.Dwell, presence("till", 1, []uint64{5}, timeAt(2), 2, holder))
		}
		h.e.Result(r)
	}
	got := h.stop()
	if len(got) != 1 || got[0].Frame != 6 || !got[0].Started.Equal(timeAt(5)) || got[0].Zone != "till" {
		t.Fatalf("steps %+v, want one raised at frame 6 (frames 5 and 6 in zone)", got)
	}
	if want := "Knife next to a person in zone till (camera c), score 0.80"; got[0].Message != want {
		t.Fatalf("message %q, want %q", got[0].Message, want)
	}
}

func TestGrowAndInBox(t *testing.T) {
	b := grow(box(10, 10, 20, 30), 5)
	for _, c := range []struct {
		p  geom.Point
		in bool
	}{{geom.Point{X: 5, Y: 5}, true}, {geom.Point{X: 25, Y: 35}, true}, {geom.Point{X: 4.9, Y: 20}, false}, {geom.Point{X: 15, Y: 35.1}, false}} {
		if inBox(b, c.p) != c.in {
			t.Errorf("inBox(%v, %v) = %v", b, c.p, !c.in)
		}
	}
}
