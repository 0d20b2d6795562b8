package sms

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
)

// A restart with a shorter chain (HQ removed) resumes a journal that
// escalated to HQ: the text still pending to HQ is cancelled, not sent,
// and the alert goes on within the tiers that remain.
func TestRestartWithShorterChain(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(_ int, form url.Values) *failure {
		if form.Get("To") == numHQ {
			return &failure{hang: true}
		}
		return nil
	}
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	cfg.Chain = threeTiers(5*time.Minute, 10*time.Minute)
	n1 := startNotifier(t, cfg)
	n1.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "tier 0", func() bool { return len(f.messagesTo(numStore)) == 1 })
	n1.inspect(t, func() {}) // handled at the current time
	clk.Add(10 * time.Minute)
	n1.inspect(t, func() {})
	// Region and HQ are texted concurrently, so their posts come in either
	// order.
	eventually(t, "region texted, HQ in flight", func() bool {
		toHQ := slices.ContainsFunc(f.postsMade(), func(p fakePost) bool { return p.Form.Get("To") == numHQ })
		return len(f.messagesTo(numRegion)) == 1 && toHQ
	})
	n1.stop()
	if m := n1.recs["a1"].Msgs[2]; m.To != numHQ || m.State != msgPending || n1.recs["a1"].Tier != 2 {
		t.Fatalf("journal before the restart: tier %d, HQ text %+v", n1.recs["a1"].Tier, m)
	}

	clk.Add(time.Minute) // the HQ retry is due
	short := cfg
	short.Chain = cfg.Chain[:1]
	n2 := startNotifier(t, short)
	rec := n2.record(t, "a1")
	if rec.Tier != 0 {
		t.Errorf("tier after the restart %d, want 0 (the last configured)", rec.Tier)
	}
	if m := rec.Msgs[2]; m.State != msgCancelled || !strings.Contains(m.Err, "no longer in the escalation chain") {
		t.Errorf("HQ text after the restart: %s %q, want cancelled", m.State, m.Err)
	}
	if m := rec.Msgs[1]; m.State != msgSent {
		t.Errorf("region text after the restart: %s, want still sent", m.State)
	}

	// A level rise texts the tiers that remain.
	n2.Notify(step("a1", "entrance", alerts.LevelProperty, 2, alerts.StateUpdated))
	eventually(t, "level rise texted", func() bool { return len(f.messagesTo(numStore)) == 2 })
	clk.Add(time.Hour)
	n2.inspect(t, func() {})
	eventually(t, "settled", func() bool { return n2.settled(t) })
	hq := 0
	for _, p := range f.postsMade() {
		if p.Form.Get("To") == numHQ {
			hq++
		}
	}
	if hq != 1 {
		t.Errorf("%d posts to HQ, want only the one before the restart", hq)
	}
	if got := f.messagesTo(numStore); !strings.HasPrefix(got[1], "storesight Main St now threat to property: ") {
		t.Errorf("level text %q", got[1])
	}
	n2.stop()

	// The journal was corrected: a third start has nothing to cancel.
	n3, err := New(short)
	if err != nil {
		t.Fatal(err)
	}
	if r := n3.recs["a1"]; r.Tier != 0 || r.Msgs[2].State != msgCancelled {
		t.Errorf("journal after the restart: tier %d, HQ %s", r.Tier, r.Msgs[2].State)
	}
}
