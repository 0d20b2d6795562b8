package pos

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/tracker"
)

// The POS clock is 7 s behind the camera: a sale rung up at POS time ts
// happens on video at ts + 7 s. Customers stand at the counter for about
// a second around each sale (one sale in ten has nobody: a phone order);
// now and then someone else walks through the zone between sales. The
// estimate must find +7 s while the configured 0 s fits no sale.
func TestOffsetEstimateFindsPOSClockBehind(t *testing.T) {
	const behind = 7 * time.Second
	p, err := NewPresence(PresenceConfig{Registers: testRegisters(), PersonClass: personClass, History: 2 * time.Hour, Log: silentLog()})
	if err != nil {
		t.Fatal(err)
	}
	pub := newPubRecorder()
	c, err := NewCorrelator(CorrelatorConfig{Store: events.Store{ID: camStore}, Presence: p, Pub: pub, Log: silentLog()})
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(7, 7))
	type visit struct {
		at time.Time // camera time the visitor is centred on
		id uint64
	}
	var sales []time.Time // true camera times of the sales
	var visits []visit
	at := vt0.Add(100 * time.Second)
	for i := range 60 {
		at = at.Add(45*time.Second + time.Duration(rng.IntN(100))*200*time.Millisecond) // 45-65 s apart
		sales = append(sales, at)
		if i%10 != 0 {
			visits = append(visits, visit{at, uint64(i + 1)})
		}
		if i%3 == 0 {
			visits = append(visits, visit{at.Add(25 * time.Second), uint64(1000 + i)}) // a passer-by
		}
	}
	v := &synthVideo{p: p, cam: "cam-1"}
	v.play(vt0, at.Add(100*time.Second), 200*time.Millisecond, func(t time.Time) []tracker.Track {
		var tr []tracker.Track
		for _, vi := range visits {
			if d := t.Sub(vi.at); d >= -time.Second && d <= time.Second {
				tr = append(tr, atR1Customer(vi.id))
			}
		}
		return tr
	})

	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { <-done })
	handle := func(from, to int) {
		for i, s := range sales[from:to] {
			sale := posTx(fmt.Sprintf("S-%d", from+i), TypeSale, TenderCard, "12", s.Add(-behind))
			if err := c.Handle(ctx, sale, Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, "the sales to feed the estimate", func() bool { return c.Stats().OffsetSales == int64(to) })
	}

	handle(0, 19)
	if r := c.Offset(); r.Status != OffsetInsufficient || r.Sales != 19 || r.Best != 0 || r.BestShare != 0 {
		t.Errorf("19 sales: %+v, want insufficient", r)
	}
	handle(19, 60)
	r := c.Offset()
	want := OffsetReport{Sales: 60, Best: behind, BestShare: 0.9, ConfiguredShare: 0, Status: OffsetOK}
	if r != want {
		t.Errorf("report\n got %+v\nwant %+v", r, want)
	}
	if n := len(pub.events(events.TypePOSCheck)); n != 0 {
		t.Errorf("sales produced %d checks", n)
	}
	b, _ := json.Marshal(r)
	if string(b) != `{"sales":60,"best_s":7,"best_share":0.9,"configured_share":0,"status":"ok"}` {
		t.Errorf("JSON %s", b)
	}
}

// Each frame with a customer marks the candidate offsets within 3 s of
// it; negative and fractional distances round inwards.
func TestOffsetSampleMark(t *testing.T) {
	offsets := func(s offsetSample) []time.Duration {
		var out []time.Duration
		for i := range offsetCandidates {
			if s.hit(i) {
				out = append(out, -offsetRange+time.Duration(i)*offsetStep)
			}
		}
		return out
	}
	secs := func(ss ...int) []time.Duration {
		var out []time.Duration
		for _, s := range ss {
			out = append(out, time.Duration(s)*time.Second)
		}
		return out
	}
	for _, c := range []struct {
		d, configured time.Duration
		want          []time.Duration
		conf          bool
	}{
		{7 * time.Second, 0, secs(4, 5, 6, 7, 8, 9, 10), false},
		{-2500 * time.Millisecond, -5 * time.Second, secs(-5, -4, -3, -2, -1, 0), true},
		{2500 * time.Millisecond, 5500 * time.Millisecond, secs(0, 1, 2, 3, 4, 5), true},
		{62 * time.Second, 0, secs(59, 60), false},
		{-64 * time.Second, -61 * time.Second, nil, true},
	} {
		var s offsetSample
		s.mark(c.d, c.configured)
		if got := offsets(s); !slices.Equal(got, c.want) || s.configured != c.conf {
			t.Errorf("mark(%v, %v): offsets %v configured %v; want %v %v", c.d, c.configured, got, s.configured, c.want, c.conf)
		}
	}
}

// Only the last 200 sales count: an old clock setting is forgotten.
func TestOffsetEstimateKeepsTheLast200(t *testing.T) {
	var e offsetEstimate
	sample := func(d time.Duration, configured bool) offsetSample {
		var s offsetSample
		s.mark(d, 100*time.Second) // configured far away
		s.configured = configured
		return s
	}
	for range 150 {
		e.add(sample(-20*time.Second, true))
	}
	if r := e.report(); r.Best != -20*time.Second || r.BestShare != 1 || r.ConfiguredShare != 1 || r.Sales != 150 {
		t.Errorf("old clock: %+v", r)
	}
	for i := range 200 {
		e.add(sample(12*time.Second, i%4 == 0))
	}
	if r := e.report(); r.Best != 12*time.Second || r.BestShare != 1 || r.ConfiguredShare != 0.25 || r.Sales != 200 {
		t.Errorf("after 200 new sales: %+v", r)
	}
}
