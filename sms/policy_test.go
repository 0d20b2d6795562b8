package sms

import (
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/schedule"
)

func threeTiers(after1, after2 time.Duration) []Tier {
	return []Tier{
		{Name: "store", Numbers: []string{numStore}},
		{Name: "region", Numbers: []string{numRegion}, After: after1},
		{Name: "hq", Numbers: []string{numHQ}, After: after2},
	}
}

// Unanswered, an alert climbs the chain on the real clock: region after
// 200ms, HQ after 400ms.
func TestEscalatesThroughTiers(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	cfg.Chain = threeTiers(200*time.Millisecond, 400*time.Millisecond)
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "HQ texted", func() bool { return len(f.messagesTo(numHQ)) == 1 })

	// Each tier's text went out no earlier than its delay after the first.
	first := n.record(t, "a1").First
	for _, p := range f.postsMade() {
		var after time.Duration
		switch p.Form.Get("To") {
		case numRegion:
			after = 200 * time.Millisecond
		case numHQ:
			after = 400 * time.Millisecond
		}
		if p.At.Before(first.Add(after)) {
			t.Errorf("%s texted %v after the first text, want >= %v", p.Form.Get("To"), p.At.Sub(first), after)
		}
	}
	region := f.messagesTo(numRegion)[0]
	if !strings.HasPrefix(region, "storesight Main St ESCALATED, no reply in 200ms: Person loitering") {
		t.Errorf("region text %q", region)
	}
	eventually(t, "settled", func() bool { return n.settled(t) })
	if s := n.Stats(); s.Sent != 3 || len(f.messages()) != 3 {
		t.Errorf("stats %+v, messages %d", s, len(f.messages()))
	}
}

// An acknowledgement stops the climb; so does resolution below threat to
// property, while a threat to property keeps climbing after it resolved.
func TestEscalationStops(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	cfg.Chain = threeTiers(5*time.Minute, 10*time.Minute)
	n := startNotifier(t, cfg)

	n.Notify(step("acked", "cam1", alerts.LevelHuman, 1, alerts.StateRaised))
	n.Notify(step("gone", "cam2", alerts.LevelHuman, 1, alerts.StateRaised))
	n.Notify(step("theft", "cam3", alerts.LevelProperty, 1, alerts.StateRaised))
	eventually(t, "tier 0", func() bool { return len(f.messagesTo(numStore)) == 3 })

	n.inspect(t, func() {}) // handled at the current time
	clk.Add(5 * time.Minute)
	n.inspect(t, func() {})
	eventually(t, "tier 1", func() bool { return len(f.messagesTo(numRegion)) == 3 })

	ack := step("acked", "cam1", alerts.LevelHuman, 2, alerts.StateAcknowledged)
	ack.By = "+*******0001"
	n.Notify(ack)
	n.Notify(step("gone", "cam2", alerts.LevelHuman, 2, alerts.StateResolved))
	n.Notify(step("theft", "cam3", alerts.LevelProperty, 2, alerts.StateResolved))
	n.inspect(t, func() {}) // handled at the current time
	clk.Add(10 * time.Minute)
	n.inspect(t, func() {})
	eventually(t, "settled", func() bool { return n.settled(t) })

	hq := f.messagesTo(numHQ)
	if len(hq) != 1 || !strings.Contains(hq[0], "cam cam3") {
		t.Errorf("HQ got %q, want only the threat to property", hq)
	}
	if rec := n.record(t, "acked"); !rec.Closed || rec.Tier != 1 {
		t.Errorf("acked alert: closed %v tier %d", rec.Closed, rec.Tier)
	}
}

// Later updates of an alert do not text again unless the level rises; a
// new alert for the same camera, rule and zone waits out the cooldown
// unless it is more serious.
func TestCooldownAndDedupe(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	n := startNotifier(t, cfg)

	n.Notify(step("a", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	n.Notify(step("a", "entrance", alerts.LevelHuman, 2, alerts.StateUpdated))    // dedupe
	n.Notify(step("a", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))     // repeated step
	n.Notify(step("b", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))     // cooldown
	n.Notify(step("a", "entrance", alerts.LevelProperty, 3, alerts.StateUpdated)) // level rose: texted
	n.Notify(step("b", "entrance", alerts.LevelHuman, 2, alerts.StateUpdated))    // dedupe (held back)
	n.inspect(t, func() {})                                                       // handled at the current time
	clk.Add(2 * time.Minute)
	n.Notify(step("c", "entrance", alerts.LevelLife, 1, alerts.StateRaised)) // more serious: texted
	n.Notify(step("d", "exit", alerts.LevelHuman, 1, alerts.StateRaised))    // other camera: texted
	n.inspect(t, func() {})                                                  // handled at the current time
	clk.Add(11 * time.Minute)
	n.Notify(step("e", "entrance", alerts.LevelHuman, 1, alerts.StateRaised)) // cooldown over: texted
	n.inspect(t, func() {})
	eventually(t, "settled", func() bool { return n.settled(t) })

	s := n.Stats()
	if s.Sent != 5 || s.Suppressed.Cooldown != 1 || s.Suppressed.Dedupe != 3 {
		t.Errorf("stats %+v, want 5 sent, 1 cooldown, 3 dedupe", s)
	}
	texts := f.messagesTo(numStore)
	if len(texts) != 5 || !strings.HasPrefix(texts[1], "storesight Main St now threat to property: ") {
		t.Errorf("texts %q", texts)
	}
	if rec := n.record(t, "b"); rec.Ref != "" || len(rec.Msgs) != 0 {
		t.Errorf("held back alert has ref %q, %d texts", rec.Ref, len(rec.Msgs))
	}
}

// In quiet hours only threats to life are texted (by default); an alert
// held back is texted once it rises to that level.
func TestQuietHours(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	clk := &fakeClock{t: time.Date(2026, 3, 14, 23, 0, 0, 0, time.UTC)}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	night, err := schedule.ParseRange("22:00-06:00")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Quiet = schedule.Daily(time.UTC, night)
	n := startNotifier(t, cfg)

	n.Notify(step("loiter", "cam1", alerts.LevelProperty, 1, alerts.StateRaised))
	n.Notify(step("weapon", "cam2", alerts.LevelLife, 1, alerts.StateRaised))
	n.inspect(t, func() {})
	if s := n.Stats(); s.Suppressed.Quiet != 1 {
		t.Errorf("quiet suppressed %d, want 1", s.Suppressed.Quiet)
	}
	n.Notify(step("loiter", "cam1", alerts.LevelLife, 2, alerts.StateUpdated))
	n.inspect(t, func() {}) // handled at the current time
	clk.Add(13 * time.Hour) // 12:00
	n.Notify(step("day", "cam3", alerts.LevelHuman, 1, alerts.StateRaised))
	n.inspect(t, func() {})
	eventually(t, "settled", func() bool { return n.settled(t) })

	if s := n.Stats(); s.Sent != 3 || s.Suppressed.Quiet != 1 {
		t.Errorf("stats %+v, want 3 sent, 1 quiet", s)
	}
}

// The store's texts are capped per rolling hour; threats to life pass.
func TestRateCap(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	cfg.RatePerHour = 2
	n := startNotifier(t, cfg)

	for _, cam := range []string{"c1", "c2", "c3", "c4"} {
		n.Notify(step("h"+cam, cam, alerts.LevelHuman, 1, alerts.StateRaised))
	}
	n.Notify(step("life", "c5", alerts.LevelLife, 1, alerts.StateRaised))
	n.inspect(t, func() {}) // handled at the current time
	clk.Add(61 * time.Minute)
	n.Notify(step("later", "c6", alerts.LevelHuman, 1, alerts.StateRaised))
	n.inspect(t, func() {})
	eventually(t, "settled", func() bool { return n.settled(t) })

	if s := n.Stats(); s.Sent != 4 || s.Suppressed.Rate != 2 {
		t.Errorf("stats %+v, want 4 sent, 2 over the cap", s)
	}
	if len(f.messages()) != 4 {
		t.Errorf("%d messages at Twilio, want 4", len(f.messages()))
	}
}

// Steps notified faster than Run takes them, or while it is stopped, are
// spooled to disk and all handled.
func TestNotifyNeverLosesSteps(t *testing.T) {
	log, _ := testLog(t)
	cfg := baseConfig(t, nil, log)
	cfg.RatePerHour = 10000
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const first = inboxSize + 44
	for i := range first {
		cam := "cam" + strconvItoa(i)
		n.Notify(step("a-"+cam, cam, alerts.LevelHuman, 1, alerts.StateRaised))
	}
	r := run(t, n)
	eventually(t, "all handled", func() bool { return r.Stats().DryRun == first })
	r.stop()

	for i := range 5 {
		cam := "late" + strconvItoa(i)
		n.Notify(step("a-"+cam, cam, alerts.LevelHuman, 1, alerts.StateRaised))
	}
	n2, err := New(cfg) // a new process: the spool is on disk
	if err != nil {
		t.Fatal(err)
	}
	r2 := run(t, n2)
	eventually(t, "spooled steps handled", func() bool { return r2.Stats().DryRun == 5 })
}

// The cooldown never holds back a threat to life: a second weapon
// sighting at the same camera and zone is texted at once, while a
// lesser alert there still waits.
func TestCooldownSparesThreatsToLife(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	n := startNotifier(t, cfg)

	n.Notify(step("w1", "entrance", alerts.LevelLife, 1, alerts.StateRaised))
	n.inspect(t, func() {}) // handled at the current time
	clk.Add(time.Minute)
	n.Notify(step("w2", "entrance", alerts.LevelLife, 1, alerts.StateRaised))  // same key, within the cooldown
	n.Notify(step("h1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised)) // held back
	n.inspect(t, func() {})
	eventually(t, "settled", func() bool { return n.settled(t) })

	if s := n.Stats(); s.Sent != 2 || s.Suppressed.Cooldown != 1 {
		t.Errorf("stats %+v, want 2 sent and 1 held back by the cooldown", s)
	}
	if rec := n.record(t, "w2"); rec.Ref == "" || len(rec.Msgs) != 1 || rec.Msgs[0].State != msgSent {
		t.Errorf("second threat to life: ref %q, texts %+v", rec.Ref, rec.Msgs)
	}
	if rec := n.record(t, "h1"); rec.Ref != "" || len(rec.Msgs) != 0 {
		t.Errorf("lesser alert texted within the cooldown: %+v", rec.Msgs)
	}
}
