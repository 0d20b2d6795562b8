package sms

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
)

// A reply about an alert the manager has closed (answered on the
// dashboard) or forgotten (restarted) stops the escalation all the same,
// and the sender is told the alert is closed. The Ack call is bounded by
// a 10 s deadline.
func TestReplyToClosedAlertStopsEscalation(t *testing.T) {
	for _, tc := range []struct {
		name string
		// ack returns the manager's answer; nil means a real, freshly
		// started manager that does not know the alert.
		ack func(ctx context.Context, id, by string, falseAlarm bool) error
	}{
		{"unknown to a restarted manager", nil},
		{"closed on the dashboard", func(_ context.Context, id, _ string, _ bool) error {
			return fmt.Errorf("alerts: acknowledge %s: %w", id, alerts.ErrClosed)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, _ := testLog(t)
			clk := &fakeClock{t: alertTime}
			cfg := baseConfig(t, nil, log)
			// Credentials but a forced dry run: replies verified, nothing sent.
			cfg.AccountSID, cfg.AuthToken, cfg.DryRun = testSID, testToken, true
			cfg.WebhookURL = hookURL
			cfg.Now = clk.Now
			cfg.Chain = threeTiers(5*time.Minute, 10*time.Minute)
			ack := tc.ack
			if ack == nil {
				mgr, _, _ := startManager(t, nil)
				ack = mgr.Acknowledge
			}
			var deadline time.Time
			var hasDeadline bool
			var called time.Time
			cfg.Ack = func(ctx context.Context, id, by string, falseAlarm bool) error {
				called = time.Now()
				deadline, hasDeadline = ctx.Deadline()
				return ack(ctx, id, by, falseAlarm)
			}
			n := startNotifier(t, cfg)
			n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
			eventually(t, "texted", func() bool { return n.Stats().DryRun == 1 })
			ref := n.record(t, "a1").Ref

			rec := signed(n.Handler(), inbound(numStore, "ACK "+ref, "SM00000000000000000000000000000401"))
			if want := "Alert " + ref + " is already closed."; rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
				t.Errorf("answer %d %s, want %q", rec.Code, rec.Body, want)
			}
			if !hasDeadline || deadline.Sub(called) > ackTimeout || !deadline.After(called) {
				t.Errorf("Ack context deadline %v (set %v), called at %v; want within %v", deadline, hasDeadline, called, ackTimeout)
			}
			eventually(t, "record closed", func() bool { return n.record(t, "a1").Closed })

			n.inspect(t, func() {}) // handled at the current time
			clk.Add(15 * time.Minute)
			n.inspect(t, func() {})
			eventually(t, "settled", func() bool { return n.settled(t) })
			if s := n.Stats(); s.DryRun != 1 {
				t.Errorf("%d texts, want only tier 0's: the escalation went on", s.DryRun)
			}
			// A second reply is told at once, without asking the manager.
			called = time.Time{}
			rec = signed(n.Handler(), inbound(numRegion, "ACK "+ref, "SM00000000000000000000000000000402"))
			if !strings.Contains(rec.Body.String(), "already answered") || !called.IsZero() {
				t.Errorf("second reply: %s (manager asked: %v)", rec.Body, !called.IsZero())
			}
		})
	}
}
