package alerts

import (
	"slices"
	"testing"
	"time"

	"github.com/storesight/storesight/schedule"
)

func TestAfterHoursOneAlertPerEpisodeTracksAccumulateOpeningResolves(t *testing.T) {
	// Open 22:01 to 18:00 (past midnight): closed when the test starts at
	// 22:00, open from frame 600.
	sched := schedule.Daily(time.UTC, schedule.Range{From: 22*time.Hour + time.Minute, To: 18 * time.Hour})
	rule := Rule{Name: "night", Kind: KindAfterHours, Schedule: sched}
	h := start(t, []Rule{rule})
	const cam = "floor"
	p1, p2 := box(100, 100, 180, 380), box(400, 120, 470, 390)
	for i := 0; i <= 700; i++ {
		r := frameAt(cam, i)
		switch {
		case i == 10 || i == 11: // two frames: not confirmed
			r.Tracks = append(r.Tracks, personTrack(1, p1))
		case i >= 100 && i < 150:
			r.Tracks = append(r.Tracks, personTrack(1, p1))
		case i >= 150 && i <= 400: // the tracker switched the id to 4
			r.Tracks = append(r.Tracks, personTrack(4, p1))
			if i >= 250 {
				tr := personTrack(6, p2)
				tr.Score = 0.95
				r.Tracks = append(r.Tracks, tr)
			}
		case i >= 550:
			r.Tracks = append(r.Tracks, personTrack(9, p1))
		}
		// A tentative track never counts.
		tentative := personTrack(99, p2)
		tentative.State = 0
		r.Tracks = append(r.Tracks, tentative)
		h.e.Result(r)
	}
	h.e.Result(final(cam, 700))
	all := h.stop()
	got := byID(all)
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want 2: %+v", len(got), all)
	}

	night := got[alertID(cam, "night", "", timeAt(100), 1)]
	checkSeq(t, night)
	if want := []State{StateRaised, StateUpdated, StateUpdated, StateResolved}; !slices.Equal(states(night), want) {
		t.Fatalf("steps %v, want %v", states(night), want)
	}
	r := night[0]
	if r.Frame != 102 || r.Value != 3 || r.Level != LevelHuman || r.Class != "person" || !slices.Equal(r.TrackIDs, []uint64{1}) {
		t.Fatalf("raised %+v", r)
	}
	if want := "Person inside after hours (camera floor)"; r.Message != want {
		t.Fatalf("message %q, want %q", r.Message, want)
	}
	// The id switch at 150 makes an update once UpdateEvery has passed
	// since the raise; the second person (250) once it passed again.
	u1, u2 := night[1], night[2]
	if u1.Frame != 202 || !slices.Equal(u1.TrackIDs, []uint64{1, 4}) || u1.Message != r.Message {
		t.Fatalf("first update %+v", u1)
	}
	if u2.Frame != 302 || !slices.Equal(u2.TrackIDs, []uint64{1, 4, 6}) || u2.Value != 203 ||
		u2.Score != 0.95 || u2.Box != BoxOf(p2) {
		t.Fatalf("second update %+v", u2)
	}
	if want := "2 people inside after hours (camera floor)"; u2.Message != want {
		t.Fatalf("message %q, want %q", u2.Message, want)
	}
	if res := night[3]; !res.Ended.Equal(timeAt(400)) || !res.Time.Equal(timeAt(450)) {
		t.Fatalf("resolved %+v, want Clear (5 s) after the last person", res)
	}

	// The store opening ends the second episode at once, and nobody is an
	// intruder while it is open.
	late := got[alertID(cam, "night", "", timeAt(550), 9)]
	if want := []State{StateRaised, StateResolved}; !slices.Equal(states(late), want) {
		t.Fatalf("steps %v, want %v", states(late), want)
	}
	if res := late[1]; !res.Time.Equal(timeAt(600)) || !res.Ended.Equal(timeAt(599)) {
		t.Fatalf("resolved %+v, want at the opening (frame 600)", res)
	}
}
