package counting

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/tracker"
)

var (
	shelf = Zone{Name: "shelf", Polygon: geom.Polygon{{X: 0, Y: 0}, {X: 400, Y: 0}, {X: 400, Y: 400}, {X: 0, Y: 400}}}
	door  = Zone{Name: "door", Polygon: geom.Polygon{{X: 500, Y: 0}, {X: 700, Y: 0}, {X: 700, Y: 400}, {X: 500, Y: 400}}}
)

// at is the event time of frame f (10 fps).
func at(f int64) time.Time { return t0.Add(time.Duration(f) * 100 * time.Millisecond) }

func mustDweller(t *testing.T, zones ...Zone) *Dweller {
	t.Helper()
	d, err := NewDweller(zones, DwellConfig{}) // defaults: Gap 3s, Rejoin 0.5 (50 px for person boxes)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// summary is the part of a Presence the tests compare: visit, zone and ids.
func summary(ps []Presence) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(p.Zone + "#" + itoa(p.Visit) + "[")
		for j, id := range p.TrackIDs {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(itoa(id))
		}
		b.WriteString("]")
		if p.TrackID != p.TrackIDs[len(p.TrackIDs)-1] {
			b.WriteString("@" + itoa(p.TrackID))
		}
	}
	return b.String()
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// step feeds frame f and checks the summaries of present and ended visits.
func step(t *testing.T, d *Dweller, f int64, wantPresent, wantEnded string, tracks ...tracker.Track) (present, ended []Presence) {
	t.Helper()
	present, ended = d.Update(f, at(f), tracks)
	if got := summary(present); got != wantPresent {
		t.Fatalf("frame %d: present %q, want %q", f, got, wantPresent)
	}
	if got := summary(ended); got != wantEnded {
		t.Fatalf("frame %d: ended %q, want %q", f, got, wantEnded)
	}
	return present, ended
}

func TestDwellPlainVisit(t *testing.T) {
	d := mustDweller(t, shelf)
	step(t, d, 0, "", "", person(1, 450, 200)) // outside: nothing
	for f := int64(1); f <= 20; f++ {
		p, _ := step(t, d, f, "shelf#1[1]", "", person(1, 100+float64(f), 200))
		if want := time.Duration(f-1) * 100 * time.Millisecond; p[0].Dwell != want || !p[0].Start.Equal(at(1)) || p[0].Frame != f {
			t.Fatalf("frame %d: %+v, want dwell %s", f, p[0], want)
		}
	}
	// The person walks out at frame 21 and stays in view: the visit is in
	// progress (it could come back) until Gap after the last sighting.
	for f := int64(21); f <= 50; f++ {
		p, _ := step(t, d, f, "shelf#1[1]", "", person(1, 450, 200))
		if p[0].Frame != 20 || !p[0].Last.Equal(at(20)) {
			t.Fatalf("frame %d: latest sighting moved while outside: %+v", f, p[0])
		}
	}
	_, ended := step(t, d, 51, "", "shelf#1[1]", person(1, 450, 200))
	e := ended[0]
	if !e.Start.Equal(at(1)) || !e.Last.Equal(at(20)) || e.Dwell != 1900*time.Millisecond || e.Box != person(1, 120, 200).Box {
		t.Errorf("ended visit %+v", e)
	}
	step(t, d, 52, "", "", person(1, 450, 200))
}

func TestDwellOcclusion(t *testing.T) {
	t.Run("shorter than gap", func(t *testing.T) {
		d := mustDweller(t, shelf)
		for f := int64(0); f <= 10; f++ {
			step(t, d, f, "shelf#1[1]", "", person(1, 100, 200))
		}
		for f := int64(11); f < 40; f++ {
			step(t, d, f, "shelf#1[1]", "")
		}
		// Unseen for exactly Gap.
		p, _ := step(t, d, 40, "shelf#1[1]", "", person(1, 110, 200))
		if p[0].Dwell != 4*time.Second {
			t.Errorf("dwell across occlusion %s, want 4s", p[0].Dwell)
		}
	})
	t.Run("longer than gap", func(t *testing.T) {
		d := mustDweller(t, shelf)
		for f := int64(0); f <= 10; f++ {
			step(t, d, f, "shelf#1[1]", "", person(1, 100, 200))
		}
		for f := int64(11); f <= 40; f++ {
			step(t, d, f, "shelf#1[1]", "")
		}
		_, e := step(t, d, 41, "", "shelf#1[1]") // 3.1s unseen
		if e[0].Dwell != time.Second || !e[0].Last.Equal(at(10)) {
			t.Errorf("ended %+v", e[0])
		}
		// Back after the gap: a new visit, even with the same track id.
		p, _ := step(t, d, 45, "shelf#2[1]", "", person(1, 100, 200))
		if !p[0].Start.Equal(at(45)) || p[0].Dwell != 0 {
			t.Errorf("new visit %+v", p[0])
		}
	})
	t.Run("leaves the zone and comes back", func(t *testing.T) {
		d := mustDweller(t, shelf)
		for f := int64(0); f <= 10; f++ {
			step(t, d, f, "shelf#1[1]", "", person(1, 380, 200))
		}
		for f := int64(11); f <= 30; f++ {
			step(t, d, f, "shelf#1[1]", "", person(1, 420, 200))
		}
		p, _ := step(t, d, 31, "shelf#1[1]", "", person(1, 380, 200))
		if p[0].Dwell != 3100*time.Millisecond {
			t.Errorf("dwell %s, want 3.1s", p[0].Dwell)
		}
	})
}

func TestDwellIDSwitch(t *testing.T) {
	// Track 1 is hidden after frame 10; the tracker gives the person a new
	// id 7 at frame 15.
	run := func(t *testing.T) *Dweller {
		d := mustDweller(t, shelf)
		for f := int64(0); f <= 10; f++ {
			step(t, d, f, "shelf#1[1]", "", person(1, 100, 200))
		}
		for f := int64(11); f < 15; f++ {
			step(t, d, f, "shelf#1[1]", "")
		}
		return d
	}
	t.Run("near", func(t *testing.T) {
		d := run(t)
		p, _ := step(t, d, 15, "shelf#1[1,7]", "", person(7, 150, 200)) // 50 px = 0.5 x box height
		if p[0].TrackID != 7 || !p[0].Start.Equal(at(0)) || p[0].Dwell != 1500*time.Millisecond || p[0].Box != person(7, 150, 200).Box {
			t.Errorf("continued visit %+v", p[0])
		}
		step(t, d, 16, "shelf#1[1,7]", "", person(7, 155, 200))
	})
	t.Run("far", func(t *testing.T) {
		d := run(t)
		step(t, d, 15, "shelf#1[1] shelf#2[7]", "", person(7, 151, 200))
		for f := int64(16); f <= 40; f++ {
			step(t, d, f, "shelf#1[1] shelf#2[7]", "", person(7, 151, 200))
		}
		step(t, d, 41, "shelf#2[7]", "shelf#1[1]", person(7, 151, 200))
	})
	t.Run("after gap", func(t *testing.T) {
		d := run(t)
		for f := int64(15); f <= 40; f++ {
			step(t, d, f, "shelf#1[1]", "")
		}
		step(t, d, 41, "shelf#2[7]", "shelf#1[1]", person(7, 100, 200))
	})
}

func TestDwellIDSwitchNeedsANewTrack(t *testing.T) {
	// Track 2 was in view (outside the zone) before track 1 vanished, so it
	// is someone else even when it steps in right where 1 was last seen.
	d := mustDweller(t, shelf)
	for f := int64(0); f <= 10; f++ {
		step(t, d, f, "shelf#1[1]", "", person(1, 380, 200), person(2, 420, 200))
	}
	step(t, d, 11, "shelf#1[1] shelf#2[2]", "", person(2, 390, 200))

	// Track 1 is in view outside the zone: a new track near its last
	// anchor in the zone is not track 1.
	d = mustDweller(t, shelf)
	for f := int64(0); f <= 10; f++ {
		step(t, d, f, "shelf#1[1]", "", person(1, 380, 200))
	}
	step(t, d, 11, "shelf#1[1] shelf#2[3]", "", person(1, 420, 200), person(3, 385, 200))
}

func TestDwellIDSwitchPicksClosest(t *testing.T) {
	d := mustDweller(t, shelf)
	for f := int64(0); f <= 5; f++ {
		step(t, d, f, "shelf#1[1] shelf#2[2]", "", person(1, 100, 200), person(2, 160, 200))
	}
	// Both hidden; two new tracks: 8 is 20 px from visitor 2 and 40 px
	// from visitor 1, 9 is 30 px from visitor 1 and 90 from visitor 2. Greedy
	// in input order would give 8 to visitor 1; closest first gives 8 to 2
	// and 9 to 1.
	step(t, d, 8, "shelf#1[1,9] shelf#2[2,8]", "", person(8, 140, 200), person(9, 70, 200))

	// One new track between two hidden visitors joins the closer one.
	d = mustDweller(t, shelf)
	step(t, d, 0, "shelf#1[1] shelf#2[2]", "", person(1, 100, 200), person(2, 160, 200))
	step(t, d, 3, "shelf#1[1] shelf#2[2,5]", "", person(5, 135, 200))
}

func TestDwellWrongSwitchUndone(t *testing.T) {
	// 7 took over visit 1 while 1 was hidden, then 1 shows up again next to
	// 7: they are two people. The visit stays with its original track and
	// 7 gets a visit of its own.
	d := mustDweller(t, shelf)
	step(t, d, 0, "shelf#1[1]", "", person(1, 100, 200))
	step(t, d, 5, "shelf#1[1,7]", "", person(7, 120, 200))
	p, _ := step(t, d, 6, "shelf#1[1] shelf#2[7]", "", person(1, 100, 200), person(7, 120, 200))
	if p[0].TrackID != 1 || p[0].Frame != 6 || p[1].TrackID != 7 || !p[1].Start.Equal(at(6)) {
		t.Errorf("after undo: %+v", p)
	}
	step(t, d, 7, "shelf#1[1] shelf#2[7]", "", person(1, 100, 200), person(7, 120, 200))
}

func TestDwellTwoPeopleTwoZones(t *testing.T) {
	d := mustDweller(t, shelf, door) // configuration order shelf, door
	step(t, d, 0, "shelf#1[4] shelf#2[5]", "", person(5, 300, 300), person(4, 100, 100))
	step(t, d, 1, "door#3[4] shelf#1[4] shelf#2[5]", "", person(4, 600, 100), person(5, 300, 300))
	p, _ := step(t, d, 2, "door#3[4] shelf#1[4] shelf#2[5]", "", person(4, 600, 100), person(5, 300, 300))
	if p[0].Dwell != 100*time.Millisecond || p[1].Dwell != 0 || p[2].Dwell != 200*time.Millisecond {
		t.Errorf("dwells %s %s %s", p[0].Dwell, p[1].Dwell, p[2].Dwell)
	}
	// Overlapping occupancy of one track in two zones is independent.
	for f := int64(3); f <= 30; f++ {
		step(t, d, f, "door#3[4] shelf#1[4] shelf#2[5]", "", person(4, 600, 100), person(5, 300, 300))
	}
	step(t, d, 31, "door#3[4] shelf#2[5]", "shelf#1[4]", person(4, 600, 100), person(5, 300, 300))
}

func TestDwellFlush(t *testing.T) {
	d := mustDweller(t, shelf, door)
	step(t, d, 0, "door#2[2] shelf#1[1]", "", person(1, 100, 100), person(2, 600, 100))
	step(t, d, 10, "door#2[2] shelf#1[1]", "", person(1, 100, 100))
	ended := d.Flush()
	if got := summary(ended); got != "door#2[2] shelf#1[1]" {
		t.Fatalf("flush %q", got)
	}
	if ended[0].Dwell != 0 || ended[1].Dwell != time.Second {
		t.Errorf("flushed dwells %s %s", ended[0].Dwell, ended[1].Dwell)
	}
	if got := d.Flush(); len(got) != 0 {
		t.Errorf("second flush %v", got)
	}
	// Reused after Flush: visit numbers stay dense per Dweller and the old
	// track ids are forgotten.
	step(t, d, 11, "shelf#3[1]", "", person(1, 100, 100))
}

func TestDwellDeterministic(t *testing.T) {
	// Scripted scene: several people, occlusions and a switch. The output
	// must not depend on the order of tracks within a frame.
	script := func(f int64) []tracker.Track {
		var ts []tracker.Track
		for id := uint64(1); id <= 6; id++ {
			if f > int64(id)*3 && (id != 3 || f < 20) && (id != 5 || f%7 != 0) {
				ts = append(ts, person(id, float64(id)*60+float64(f), 150+float64(id)*30))
			}
		}
		if f >= 24 {
			ts = append(ts, person(9, 3*60+24, 150+3*30))
		}
		return ts
	}
	var want [][]Presence
	for round := range 5 {
		rng := rand.New(rand.NewPCG(uint64(round), 1))
		d := mustDweller(t, shelf, door)
		var got [][]Presence
		for f := int64(0); f < 80; f++ {
			ts := script(f)
			if round > 0 {
				rng.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
			}
			p, e := d.Update(f, at(f), ts)
			got = append(got, p, e)
		}
		got = append(got, d.Flush())
		if round == 0 {
			want = got
			// Sanity of the scene itself: track 3 is hidden at frame 20
			// and 9 continues its visit.
			if s := summary(got[2*30]); !strings.Contains(s, "[3,9]") {
				t.Fatalf("scene has no ID switch: %s", s)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d differs with shuffled tracks", round)
		}
	}
}

func TestDwellIgnoresTentativeAndDuplicates(t *testing.T) {
	d := mustDweller(t, shelf)
	tent := person(1, 100, 100)
	tent.State = tracker.Tentative
	nan := person(2, 100, 100)
	nan.Box.X2 = math.NaN()
	step(t, d, 0, "", "", tent, nan)
	p, _ := step(t, d, 1, "shelf#1[3]", "", person(3, 100, 100), person(3, 900, 900))
	if p[0].Box != person(3, 100, 100).Box {
		t.Errorf("duplicate id: the first should win, got %+v", p[0].Box)
	}
}

func TestDwellEventTimeBackwards(t *testing.T) {
	d := mustDweller(t, shelf)
	d.Update(0, at(10), []tracker.Track{person(1, 100, 100)})
	p, _ := d.Update(1, at(20), []tracker.Track{person(1, 100, 100)})
	if p[0].Dwell != time.Second {
		t.Fatalf("dwell %s", p[0].Dwell)
	}
	// A clock step back does not shorten the visit.
	p, _ = d.Update(2, at(0), []tracker.Track{person(1, 100, 100)})
	if p[0].Dwell != time.Second || p[0].Frame != 2 {
		t.Errorf("after step back: %+v", p[0])
	}
}

func TestDwellPresenceIsACopy(t *testing.T) {
	d := mustDweller(t, shelf)
	p, _ := d.Update(0, at(0), []tracker.Track{person(1, 100, 100)})
	p[0].TrackIDs[0] = 99
	p, _ = d.Update(1, at(1), []tracker.Track{person(1, 100, 100)})
	if !slices.Equal(p[0].TrackIDs, []uint64{1}) {
		t.Errorf("caller changed internal state: %v", p[0].TrackIDs)
	}
}

func TestNewDwellerValidates(t *testing.T) {
	for _, tc := range []struct {
		zones []Zone
		cfg   DwellConfig
		want  string
	}{
		{[]Zone{{Name: "a", Polygon: geom.Polygon{{X: 0, Y: 0}, {X: 1, Y: 1}}}}, DwellConfig{}, "at least 3 points"},
		{[]Zone{shelf, shelf}, DwellConfig{}, "duplicate zone name"},
		{[]Zone{shelf}, DwellConfig{Gap: -time.Second}, "gap -1s"},
		{[]Zone{shelf}, DwellConfig{Rejoin: math.NaN()}, "rejoin NaN"},
		{[]Zone{shelf}, DwellConfig{Rejoin: -1}, "rejoin -1"},
	} {
		_, err := NewDweller(tc.zones, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewDweller(%v, %+v) error %v, want %q", tc.zones, tc.cfg, err, tc.want)
		}
	}
	// The zone is copied: editing the caller's polygon changes nothing.
	z := Zone{Name: "z", Polygon: slices.Clone(shelf.Polygon)}
	d, err := NewDweller([]Zone{z}, DwellConfig{Gap: time.Second, Rejoin: 1})
	if err != nil {
		t.Fatal(err)
	}
	z.Polygon[2] = geom.Point{X: 1, Y: 1}
	if p, _ := d.Update(0, at(0), []tracker.Track{person(1, 300, 300)}); len(p) != 1 {
		t.Errorf("zone not copied")
	}
}
