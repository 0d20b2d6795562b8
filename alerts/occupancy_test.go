package alerts

import (
	"slices"
	"testing"
	"time"
)

func TestOccupancyOverLimitForDuration(t *testing.T) {
	rule := Rule{Name: "queue", Kind: KindOccupancy, Zone: "queue", Max: 5, For: 10 * time.Second}
	h := start(t, []Rule{rule})
	const cam = "floor"
	count := func(i int) int {
		switch {
		case i < 30: // over, then a 2 s dip: the run restarts
			return 6
		case i < 50:
			return 4
		case i >= 80 && i <= 82: // a 0.3 s dip (a missed detection): the run goes on
			return 5
		case i >= 170 && i < 300:
			return 7
		case i >= 50 && i < 300:
			return 6
		case i >= 400 && i < 420: // 2 s over: too short
			return 8
		}
		return 3
	}
	for i := 0; i <= 500; i++ {
		r := frameAt(cam, i)
		n := count(i)
		r.Occupancy["queue"] = n
		r.Occupancy["door"] = 20 // another zone's crowd is not this rule's
		for k := 1; k <= n; k++ {
			x := float64(60 * k)
			r.Dwell = append(r.Dwell, presence("queue", uint64(k), []uint64{uint64(k)}, timeAt(0), i, box(x, 200, x+50, 380)))
		}
		h.e.Result(r)
	}
	h.e.Result(final(cam, 500))
	all := h.stop()
	got := byID(all)
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1: %+v", len(got), all)
	}
	steps := got[alertID(cam, "queue", "queue", timeAt(50), 1)]
	checkSeq(t, steps)
	if want := []State{StateRaised, StateUpdated, StateResolved}; !slices.Equal(states(steps), want) {
		t.Fatalf("steps %v, want %v", states(steps), want)
	}
	r := steps[0]
	if r.Frame != 150 || r.Value != 6 || r.Level != LevelIndication || r.Zone != "queue" ||
		!slices.Equal(r.TrackIDs, []uint64{1, 2, 3, 4, 5, 6}) || r.Box != BoxOf(box(60, 200, 410, 380)) {
		t.Fatalf("raised %+v", r)
	}
	if want := "6 people in zone queue, limit 5 (camera floor)"; r.Message != want {
		t.Fatalf("message %q, want %q", r.Message, want)
	}
	// 7 people from frame 170; the update waits for UpdateEvery (frame 250).
	u := steps[1]
	if u.Frame != 250 || u.Value != 7 || !slices.Equal(u.TrackIDs, []uint64{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("updated %+v", u)
	}
	if want := "7 people in zone queue, limit 5 (camera floor)"; u.Message != want {
		t.Fatalf("message %q, want %q", u.Message, want)
	}
	if res := steps[2]; !res.Ended.Equal(timeAt(299)) || !res.Time.Equal(timeAt(349)) || res.Value != 7 {
		t.Fatalf("resolved %+v", res)
	}
	// Occupancy is an indication, below the notify level (human): published, not notified.
	if n := h.notes.got(); len(n) != 0 {
		t.Fatalf("notified %+v", n)
	}
}
