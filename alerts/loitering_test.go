package alerts

import (
	"slices"
	"testing"
	"time"

	"github.com/storesight/storesight/counting"
)

// byID groups published steps per alert, in publish order.
func byID(as []Alert) map[string][]Alert {
	m := map[string][]Alert{}
	for _, a := range as {
		m[a.ID] = append(m[a.ID], a)
	}
	return m
}

func checkSeq(t *testing.T, steps []Alert) {
	t.Helper()
	for i, a := range steps {
		if a.Seq != i+1 {
			t.Fatalf("step %d (%s) has seq %d", i, a.State, a.Seq)
		}
		if a.ID != steps[0].ID || a.Rule != steps[0].Rule || !a.Started.Equal(steps[0].Started) {
			t.Fatalf("step %d changed identity: %+v vs %+v", i, a, steps[0])
		}
	}
}

func TestLoiteringOneAlertPerVisitUpdatedAndResolved(t *testing.T) {
	rule := Rule{Name: "door-loiter", Kind: KindLoitering, Zone: "door", Dwell: 30 * time.Second}
	h := start(t, []Rule{rule})
	const cam = "entrance"
	pbox := box(100, 100, 180, 380)
	for i := 0; i <= 1100; i++ {
		r := frameAt(cam, i)
		// Visit 1: the loiterer, frames 0-649, tracker id 3 then 7 (an ID
		// switch the dweller already joined).
		if i < 650 {
			ids := []uint64{3}
			if i >= 200 {
				ids = []uint64{3, 7}
			}
			r.Dwell = append(r.Dwell, presence("door", 1, ids, timeAt(0), i, pbox))
			r.Tracks = append(r.Tracks, personTrack(ids[len(ids)-1], pbox))
		}
		if i == 650 {
			r.Visits = append(r.Visits, presence("door", 1, []uint64{3, 7}, timeAt(0), 649, pbox))
		}
		// Visit 2: 10 s at the door, too short.
		if i >= 100 && i < 200 {
			r.Dwell = append(r.Dwell, presence("door", 2, []uint64{4}, timeAt(100), i, pbox))
		}
		if i == 200 {
			r.Visits = append(r.Visits, presence("door", 2, []uint64{4}, timeAt(100), 199, pbox))
		}
		// Visit 3: a long stay in another zone.
		if i < 900 {
			r.Dwell = append(r.Dwell, presence("aisle", 3, []uint64{5}, timeAt(0), i, pbox))
		}
		// Visit 4: still at the door when the stream ends.
		if i >= 700 {
			r.Dwell = append(r.Dwell, presence("door", 4, []uint64{9}, timeAt(700), i, pbox))
		}
		slices.SortFunc(r.Dwell, func(a, b counting.Presence) int { return int(a.Visit) - int(b.Visit) })
		h.e.Result(r)
	}
	h.e.Result(final(cam, 1100))
	got := byID(h.stop())
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want 2 (visits 1 and 4): %v", len(got), got)
	}

	v1 := got[alertID(cam, rule.Name, "door", timeAt(0), 3)]
	checkSeq(t, v1)
	if want := []State{StateRaised, StateUpdated, StateUpdated, StateUpdated, StateResolved}; !slices.Equal(states(v1), want) {
		t.Fatalf("visit 1 steps %v, want %v", states(v1), want)
	}
	raised := v1[0]
	if raised.Frame != 300 || raised.Value != 30 || !raised.Time.Equal(timeAt(300)) || raised.Level != LevelHuman ||
		raised.Kind != KindLoitering || raised.Zone != "door" || raised.Class != "person" || raised.Score != 0.9 ||
		!slices.Equal(raised.TrackIDs, []uint64{3, 7}) || raised.Box != BoxOf(pbox) || raised.Snapshot != "" {
		t.Fatalf("raised step %+v", raised)
	}
	if want := "Person loitering 30s in zone door (camera entrance)"; raised.Message != want {
		t.Fatalf("message %q, want %q", raised.Message, want)
	}
	// Updated at most every UpdateEvery (10 s of event time), with the dwell.
	for k, want := range []float64{40, 50, 60} {
		u := v1[1+k]
		if u.Value != want || !u.Time.Equal(timeAt(int(want*10))) || u.Frame != 300 {
			t.Fatalf("update %d: %+v, want value %v at frame %v (best frame stays 300)", k, u, want, want*10)
		}
	}
	res := v1[4]
	if !res.Ended.Equal(timeAt(649)) || !res.Time.Equal(timeAt(650)) || res.Value != 64.9 {
		t.Fatalf("resolved %+v, want ended at frame 649, value 64.9", res)
	}
	if want := "Resolved: Person loitering 65s in zone door (camera entrance)"; res.Message != want {
		t.Fatalf("message %q, want %q", res.Message, want)
	}

	v4 := got[alertID(cam, rule.Name, "door", timeAt(700), 9)]
	checkSeq(t, v4)
	if want := []State{StateRaised, StateUpdated, StateResolved}; !slices.Equal(states(v4), want) {
		t.Fatalf("visit 4 steps %v, want %v (resolved by the end of the stream)", states(v4), want)
	}
	if v4[0].Frame != 1000 || !v4[2].Ended.Equal(timeAt(1100)) {
		t.Fatalf("visit 4 raised at %d, ended %v", v4[0].Frame, v4[2].Ended)
	}
	// Loitering is LevelHuman, the notify level: people heard every step.
	if n := len(h.notes.got()); n != len(v1)+len(v4) {
		t.Fatalf("notified %d steps, want %d", n, len(v1)+len(v4))
	}
}

func TestLoiteringRuleWatchesOnlyItsCameras(t *testing.T) {
	rule := Rule{Name: "door-loiter", Kind: KindLoitering, Zone: "door", Dwell: time.Second, Cameras: []string{"entrance"}}
	h := start(t, []Rule{rule})
	for _, cam := range []string{"entrance", "floor"} {
		for i := 0; i <= 20; i++ {
			r := frameAt(cam, i)
			r.Dwell = append(r.Dwell, presence("door", 1, []uint64{1}, timeAt(0), i, box(0, 0, 10, 30)))
			h.e.Result(r)
		}
		h.e.Result(final(cam, 20))
	}
	got := h.stop()
	if len(got) != 2 || got[0].Camera != "entrance" || got[1].Camera != "entrance" {
		t.Fatalf("steps %+v, want raised and resolved on entrance only", got)
	}
}
