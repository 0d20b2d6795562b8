package pos

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

func TestNewPresenceRejectsBadConfig(t *testing.T) {
	good := testRegisters()
	cases := map[string]struct {
		edit func(*PresenceConfig)
		want string
	}{
		"no registers":      {func(c *PresenceConfig) { c.Registers = nil }, "no registers"},
		"empty id":          {func(c *PresenceConfig) { c.Registers[0].ID = "" }, "empty id"},
		"no camera":         {func(c *PresenceConfig) { c.Registers[1].Camera = "" }, "empty camera"},
		"small zone":        {func(c *PresenceConfig) { c.Registers[0].CustomerZone = c.Registers[0].CustomerZone[:2] }, "customer zone"},
		"bad staff zone":    {func(c *PresenceConfig) { c.Registers[0].StaffZone = c.Registers[0].StaffZone[:1] }, "staff zone"},
		"twice":             {func(c *PresenceConfig) { c.Registers[1].ID = "r1" }, "twice"},
		"negative class":    {func(c *PresenceConfig) { c.PersonClass = -1 }, "person class"},
		"negative history":  {func(c *PresenceConfig) { c.History = -time.Second }, "history"},
		"negative interval": {func(c *PresenceConfig) { c.SnapshotEvery = -time.Second }, "snapshot interval"},
	}
	for name, tc := range cases {
		cfg := PresenceConfig{Registers: slices.Clone(good)}
		tc.edit(&cfg)
		_, err := NewPresence(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

// The zone rule is counting's: the bottom-centre of the box. Only
// confirmed person tracks count.
func TestPresenceZones(t *testing.T) {
	p := newTestPresence(t, 0, 0)
	v := &synthVideo{p: p, cam: "cam-1"}
	straddler := tracker.Track{ID: 3, Box: geom.Box{X1: 20, Y1: 40, X2: 110, Y2: 100}, Class: personClass, State: tracker.Confirmed}
	knife := atR1Customer(8)
	knife.Class = knifeClass
	tentative := atR1Customer(9)
	tentative.State = tracker.Tentative
	v.play(vt0, vt0.Add(10*time.Second), 100*time.Millisecond, func(t time.Time) []tracker.Track {
		tr := []tracker.Track{atR1Staff(2), straddler, knife, tentative}
		if t.Before(vt0.Add(5 * time.Second)) {
			tr = append(tr, atR1Customer(1), atR1Customer(1)) // a duplicate id counts once
		}
		if t.Before(vt0.Add(2 * time.Second)) {
			tr = append(tr, atR1Customer(4))
		}
		return tr
	})

	w, err := p.Window("r1", vt0, vt0.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := Window{From: vt0, To: vt0.Add(10 * time.Second), Frames: 100, First: vt0, Last: vt0.Add(9900 * time.Millisecond),
		MaxGap: 100 * time.Millisecond, CustomerMax: 2, CustomerFrames: 50, CustomerTracks: []uint64{1, 4}, StaffMax: 1}
	if !windowEqual(w, want) {
		t.Errorf("r1 window\n got %+v\nwant %+v", w, want)
	}
	// The straddler's box mostly covers r1's zone, but its feet are in r2's.
	w2, _ := p.Window("r2", vt0, vt0.Add(10*time.Second))
	if !slices.Equal(w2.CustomerTracks, []uint64{3}) || w2.CustomerFrames != 100 || w2.StaffMax != 0 {
		t.Errorf("r2 window: tracks %v, customer frames %d, staff %d; want [3], 100, 0", w2.CustomerTracks, w2.CustomerFrames, w2.StaffMax)
	}
	// Both ends included; nobody at r1's counter after 5 s.
	late, _ := p.Window("r1", vt0.Add(5*time.Second), vt0.Add(9*time.Second))
	if late.Frames != 41 || late.CustomerFrames != 0 || len(late.CustomerTracks) != 0 || late.CustomerTracks == nil {
		t.Errorf("late r1 window: frames %d, customer frames %d, tracks %v; want 41, 0, []", late.Frames, late.CustomerFrames, late.CustomerTracks)
	}
	// cam-2 saw nothing.
	w3, _ := p.Window("r3", vt0, vt0.Add(10*time.Second))
	if w3.Frames != 0 || !w3.First.IsZero() {
		t.Errorf("r3 window: %+v, want no frames", w3)
	}
	if _, err := p.Window("r9", vt0, vt0.Add(time.Second)); !errors.Is(err, ErrUnknownRegister) {
		t.Errorf("unknown register: err = %v", err)
	}
}

func windowEqual(a, b Window) bool {
	return a.From.Equal(b.From) && a.To.Equal(b.To) && a.Frames == b.Frames && a.First.Equal(b.First) && a.Last.Equal(b.Last) &&
		a.MaxGap == b.MaxGap && a.CustomerMax == b.CustomerMax && a.CustomerFrames == b.CustomerFrames &&
		slices.Equal(a.CustomerTracks, b.CustomerTracks) && a.StaffMax == b.StaffMax && a.Ended == b.Ended
}

func TestPresenceGapsLatestAndEnd(t *testing.T) {
	p := newTestPresence(t, 0, 0)
	v := &synthVideo{p: p, cam: "cam-1"}
	if lt, ended := p.Latest("cam-1"); !lt.IsZero() || ended {
		t.Errorf("before any frame: Latest = %v, %v", lt, ended)
	}
	v.play(vt0, vt0.Add(5*time.Second), 200*time.Millisecond, nil)
	v.play(vt0.Add(9*time.Second), vt0.Add(12*time.Second), 200*time.Millisecond, nil)
	w, _ := p.Window("r1", vt0, vt0.Add(12*time.Second))
	if w.MaxGap != 4200*time.Millisecond || w.Frames != 40 {
		t.Errorf("max gap %v over %d frames, want 4.2s over 40", w.MaxGap, w.Frames)
	}
	if inner, _ := p.Window("r1", vt0.Add(10*time.Second), vt0.Add(11*time.Second)); inner.MaxGap != 200*time.Millisecond {
		t.Errorf("max gap after the hole: %v, want 200ms", inner.MaxGap)
	}
	if lt, ended := p.Latest("cam-1"); !lt.Equal(vt0.Add(11800*time.Millisecond)) || ended {
		t.Errorf("Latest = %v, %v; want %v, false", lt, ended, vt0.Add(11800*time.Millisecond))
	}
	v.end()
	if _, ended := p.Latest("cam-1"); !ended {
		t.Error("Final did not mark the camera ended")
	}
	if w, _ := p.Window("r2", vt0, vt0.Add(time.Second)); !w.Ended {
		t.Error("window of an ended camera not marked ended")
	}
	if lt, _ := p.Latest("cam-2"); !lt.IsZero() {
		t.Error("the other camera got frames")
	}
	// A camera that comes back is live again.
	v.play(vt0.Add(20*time.Second), vt0.Add(21*time.Second), 200*time.Millisecond, nil)
	if lt, ended := p.Latest("cam-1"); ended || !lt.Equal(vt0.Add(20800*time.Millisecond)) {
		t.Errorf("after the camera came back: Latest = %v, %v", lt, ended)
	}
	// A camera with no register is ignored altogether.
	p.Result(&pipeline.Result{Camera: "door", Time: vt0})
	if lt, _ := p.Latest("door"); !lt.IsZero() {
		t.Error("a camera without register was recorded")
	}
}

// History is bounded by event time: a window older than History before
// the newest frame is gone, a younger one is answered however late the
// question comes.
func TestPresenceHistoryIsBounded(t *testing.T) {
	p := newTestPresence(t, time.Minute, time.Second)
	v := &synthVideo{p: p, cam: "cam-1", img: frameImage(t)}
	v.play(vt0, vt0.Add(3*time.Minute), 200*time.Millisecond, func(t time.Time) []tracker.Track {
		return []tracker.Track{atR1Customer(uint64(t.Sub(vt0)/time.Minute) + 1)}
	})
	if w, _ := p.Window("r1", vt0, vt0.Add(time.Minute)); w.Frames != 0 {
		t.Errorf("the first minute is still there: %d frames", w.Frames)
	}
	w, _ := p.Window("r1", vt0.Add(2*time.Minute), vt0.Add(3*time.Minute))
	if w.Frames != 300 || !slices.Equal(w.CustomerTracks, []uint64{3}) {
		t.Errorf("last minute: %d frames, tracks %v; want 300, [3]", w.Frames, w.CustomerTracks)
	}
	c := p.cams["cam-1"]
	c.mu.Lock()
	samples, pics := c.samples.n, len(c.pics)
	c.mu.Unlock()
	if samples > 301 {
		t.Errorf("%d frame samples kept for 1 min of history at 5 fps", samples)
	}
	if pics < 60 || pics > 61 {
		t.Errorf("%d pictures kept for 1 min of history at 1 per second, want 60-61", pics)
	}
	if _, _, _, ok := p.Snapshot("r1", vt0.Add(10*time.Second)); ok {
		t.Error("a picture older than the history is still there")
	}
}

func TestPresenceSampleCapHoldsAtAnyFrameRate(t *testing.T) {
	p := newTestPresence(t, time.Second, 0) // cap: max(1024, 1s/5ms) samples
	v := &synthVideo{p: p, cam: "cam-1"}
	v.play(vt0, vt0.Add(time.Second), 100*time.Microsecond, nil) // 10,000 frames in one second
	c := p.cams["cam-1"]
	if c.samples.n != minSamples || len(c.samples.buf) != minSamples {
		t.Errorf("ring holds %d of %d slots, want %d", c.samples.n, len(c.samples.buf), minSamples)
	}
	w, _ := p.Window("r1", vt0, vt0.Add(time.Second))
	if w.Frames != minSamples || !w.Last.Equal(vt0.Add(time.Second-100*time.Microsecond)) {
		t.Errorf("window: %d frames up to %v; want the newest %d", w.Frames, w.Last, minSamples)
	}
}

// Once the ring is warm a frame costs no allocation (no pictures: those
// are taken once a second).
func TestPresenceFrameDoesNotAllocate(t *testing.T) {
	p := newTestPresence(t, 10*time.Second, 0)
	v := &synthVideo{p: p, cam: "cam-1"}
	tracks := []tracker.Track{atR1Customer(1), atR1Staff(2), atR2Customer(3), personAt(4, 150, 10)}
	v.play(vt0, vt0.Add(20*time.Second), 40*time.Millisecond, func(time.Time) []tracker.Track { return tracks })
	r := &pipeline.Result{Camera: "cam-1", Tracks: tracks}
	next := vt0.Add(20 * time.Second)
	allocs := testing.AllocsPerRun(500, func() {
		r.Time = next
		next = next.Add(40 * time.Millisecond)
		p.Result(r)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per frame, want 0", allocs)
	}
}

func TestPresenceSnapshot(t *testing.T) {
	p := newTestPresence(t, 0, time.Second)
	v := &synthVideo{p: p, cam: "cam-1", img: frameImage(t)}
	v.play(vt0, vt0.Add(5*time.Second), 100*time.Millisecond, func(t time.Time) []tracker.Track {
		if t.Before(vt0.Add(2500 * time.Millisecond)) {
			return []tracker.Track{atR1Staff(2), atR1Customer(1), atR2Customer(3)}
		}
		return []tracker.Track{atR1Staff(2)}
	})
	if n := len(p.cams["cam-1"].pics); n != 5 {
		t.Errorf("%d pictures in 5 s, want 5 (one per second)", n)
	}
	for _, c := range []struct {
		at, want time.Time
		marks    []string
	}{
		{vt0.Add(2400 * time.Millisecond), vt0.Add(2 * time.Second), []string{"staff 2", "customer 1"}},
		{vt0.Add(2600 * time.Millisecond), vt0.Add(3 * time.Second), []string{"staff 2"}},
		{vt0.Add(-time.Second), vt0, []string{"staff 2", "customer 1"}},
		{vt0.Add(6 * time.Second), vt0.Add(4 * time.Second), []string{"staff 2"}},
	} {
		img, at, marks, ok := p.Snapshot("r1", c.at)
		if !ok {
			t.Errorf("no snapshot at %v", c.at)
			continue
		}
		if img.Cols() != vidW || img.Rows() != vidH || img.Type() != gocv.MatTypeCV8UC3 {
			t.Errorf("snapshot is %dx%d %v, want %dx%d BGR", img.Cols(), img.Rows(), img.Type(), vidW, vidH)
		}
		img.Close()
		var labels []string
		for _, m := range marks {
			labels = append(labels, m.Label)
			if m.Threat {
				t.Errorf("mark %q drawn as a threat", m.Label)
			}
		}
		if !at.Equal(c.want) || !slices.Equal(labels, c.marks) {
			t.Errorf("snapshot at %v: picture of %v with %v; want %v with %v", c.at, at, labels, c.want, c.marks)
		}
	}
	if _, _, _, ok := p.Snapshot("r1", vt0.Add(7*time.Second)); ok {
		t.Error("a picture 3 s away from the asked time was returned")
	}
	if _, _, _, ok := p.Snapshot("r9", vt0); ok {
		t.Error("snapshot of an unknown register")
	}
	if _, _, _, ok := p.Snapshot("r3", vt0); ok {
		t.Error("snapshot of a camera that sent nothing")
	}
}

// A stream whose clock goes back (a restarted file, an NTP step) keeps
// the history in time order: what lay after the new time is dropped.
func TestPresenceClockGoingBack(t *testing.T) {
	p := newTestPresence(t, 0, time.Second)
	v := &synthVideo{p: p, cam: "cam-1", img: frameImage(t)}
	v.play(vt0, vt0.Add(10*time.Second), 100*time.Millisecond, nil)
	v.play(vt0.Add(5*time.Second), vt0.Add(5500*time.Millisecond), 100*time.Millisecond, func(time.Time) []tracker.Track {
		return []tracker.Track{atR1Customer(5)}
	})
	if lt, _ := p.Latest("cam-1"); !lt.Equal(vt0.Add(5400 * time.Millisecond)) {
		t.Errorf("Latest = %v after the clock went back", lt)
	}
	w, _ := p.Window("r1", vt0, vt0.Add(10*time.Second))
	// 0-5 s of the first run (51 frames, 5.0 s included) and 5 frames of
	// the second, the first of which repeats 5.0 s.
	if w.Frames != 56 || !w.Last.Equal(vt0.Add(5400*time.Millisecond)) || w.CustomerFrames != 5 {
		t.Errorf("window after the clock went back: %d frames up to %v, %d with a customer; want 56, 5.4s, 5", w.Frames, w.Last, w.CustomerFrames)
	}
	if _, at, _, ok := p.Snapshot("r1", vt0.Add(8*time.Second)); ok {
		t.Errorf("a picture of the dropped future (%v) is still there", at)
	}
}

// Cameras write while the correlator reads; run with -race.
func TestPresenceConcurrentUse(t *testing.T) {
	p := newTestPresence(t, 30*time.Second, 500*time.Millisecond)
	img := frameImage(t)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, r := range []string{"r1", "r2", "r3"} {
				if _, err := p.Window(r, vt0, vt0.Add(time.Minute)); err != nil {
					t.Error(err)
					return
				}
				if m, _, _, ok := p.Snapshot(r, vt0.Add(10*time.Second)); ok {
					m.Close()
				}
			}
			p.Latest("cam-1")
		}
	}()
	var cams sync.WaitGroup
	for _, cam := range []string{"cam-1", "cam-2"} {
		cams.Add(1)
		go func() {
			defer cams.Done()
			v := &synthVideo{p: p, cam: cam, img: img}
			v.play(vt0, vt0.Add(20*time.Second), 50*time.Millisecond, func(time.Time) []tracker.Track {
				return []tracker.Track{atR1Customer(1), atR2Customer(2)}
			})
			v.end()
		}()
	}
	cams.Wait()
	close(stop)
	readers.Wait()
	for _, r := range []string{"r1", "r3"} {
		w, _ := p.Window(r, vt0, vt0.Add(time.Minute))
		if w.Frames != 400 || w.CustomerFrames != 400 || !w.Ended {
			t.Errorf("%s: %d frames, %d with a customer, ended %v; want 400, 400, true", r, w.Frames, w.CustomerFrames, w.Ended)
		}
	}
}
