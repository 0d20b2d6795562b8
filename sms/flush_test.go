package sms

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
)

const numDeputy = "+15550100004"

// startRunning starts Run and waits until its loop serves, as Flush
// rightly refuses a Run that has not started yet.
func startRunning(t *testing.T, cfg Config) *running {
	t.Helper()
	r := startNotifier(t, cfg)
	r.inspect(t, func() {})
	return r
}

func flushCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Flush returns once the tier-0 texts are at Twilio, without waiting for
// the next tier an hour away; the escalation stays scheduled.
func TestFlushSendsTierZeroNotLaterTiers(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	cfg.Chain = []Tier{
		{Name: "store", Numbers: []string{numStore, numDeputy}},
		{Name: "region", Numbers: []string{numRegion}, After: time.Hour},
	}
	n := startRunning(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))

	// With a 10s deadline, waiting for the region tier would end in
	// DeadlineExceeded, not nil.
	if err := n.Flush(flushCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := len(f.postsMade()); got != 2 {
		t.Errorf("posts at Twilio after Flush = %d, want 2", got)
	}
	if len(f.messagesTo(numStore)) != 1 || len(f.messagesTo(numDeputy)) != 1 || len(f.messagesTo(numRegion)) != 0 {
		t.Errorf("messages %+v, want one each to the store tier only", f.messages())
	}
	if s := n.Stats(); s.Sent != 2 {
		t.Errorf("stats %+v, want 2 sent", s)
	}
	rec := n.record(t, "a1")
	if rec.Tier != 0 || !rec.escalating(len(cfg.Chain)) {
		t.Errorf("record tier %d escalating %v, want tier 0 still escalating", rec.Tier, rec.escalating(len(cfg.Chain)))
	}
}

// A 500 leaves the text due: Flush waits for the retry (after a list
// check) to reach Twilio.
func TestFlushWaitsForRetryAfterServerError(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{status: 500, code: 20500}
		}
		return nil
	}
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	// Long enough that a Flush returning at the first failure would
	// see nothing sent.
	cfg.BackoffMin, cfg.BackoffMax = 200*time.Millisecond, 400*time.Millisecond
	n := startRunning(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))

	if err := n.Flush(flushCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if s := n.Stats(); s.Sent != 1 || s.Retries != 1 {
		t.Errorf("stats after Flush %+v, want 1 sent after 1 retry", s)
	}
	if posts, msgs := len(f.postsMade()), len(f.messages()); posts != 2 || msgs != 1 {
		t.Errorf("posts %d messages %d, want 2 and 1", posts, msgs)
	}
	if f.getsMade() == 0 {
		t.Error("no list check before the retry")
	}
	if m := n.record(t, "a1").Msgs[0]; m.State != msgSent {
		t.Errorf("journal %+v, want sent", m)
	}
}

// A retry that Twilio defers past the flush deadline (429, Retry-After
// 10 minutes) cannot go out in time: Flush leaves it pending in the
// journal and returns nil rather than sitting out the deadline.
func TestFlushLeavesRetryPastDeadline(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(int, url.Values) *failure {
		return &failure{status: 429, code: 20429, retryAfter: "600"}
	}
	log, _ := testLog(t)
	n := startRunning(t, baseConfig(t, f, log))
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))

	if err := n.Flush(flushCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := len(f.postsMade()); got != 1 {
		t.Errorf("posts %d, want the one attempt before the 429", got)
	}
	m := n.record(t, "a1").Msgs[0]
	if m.State != msgPending || m.Attempts != 1 || time.Until(m.NextAt) < 5*time.Minute {
		t.Errorf("journal %+v, want pending, 1 attempt, next in ~10m", m)
	}
}

// Flush waits for a text in flight until ctx ends, and a ctx already
// done ends it at once.
func TestFlushReturnsCtxError(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(int, url.Values) *failure { return &failure{hang: true} }
	log, _ := testLog(t)
	n := startRunning(t, baseConfig(t, f, log))

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Flush(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush(cancelled ctx) = %v, want context.Canceled", err)
	}

	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- n.Flush(ctx) }()
	eventually(t, "the request at Twilio", func() bool { return len(f.postsMade()) == 1 })
	select {
	case err := <-res:
		// The request hangs (RequestTimeout 5s): nothing due is done.
		t.Fatalf("Flush returned %v while the text was in flight", err)
	default:
	}
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Errorf("Flush = %v, want context.Canceled", err)
	}
}

// Without Run nobody would send: Flush says so instead of waiting for
// its deadline, before Run and after it stopped.
func TestFlushWithoutRunErrors(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	n, err := New(baseConfig(t, f, log))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	if err := n.Flush(flushCtx(t)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush before Run = %v, want a not-running error", err)
	}

	r := run(t, n)
	r.inspect(t, func() {})
	if err := r.Flush(flushCtx(t)); err != nil {
		t.Fatalf("Flush while running: %v", err)
	}
	r.stop()
	if err := n.Flush(flushCtx(t)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush after Run = %v, want a not-running error", err)
	}
	if got := len(f.postsMade()); got != 1 {
		t.Errorf("posts %d, want the step notified before Run sent once", got)
	}
}

// In a dry run the logged text is the final outcome.
func TestFlushDryRun(t *testing.T) {
	log, _ := testLog(t)
	n := startRunning(t, baseConfig(t, nil, log))
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	n.Notify(step("a2", "stockroom", alerts.LevelHuman, 1, alerts.StateRaised))
	if err := n.Flush(flushCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if s := n.Stats(); s.DryRun != 2 {
		t.Errorf("stats after Flush %+v, want 2 dry-run texts", s)
	}
}

// Steps notified while no Run drains the queue go to the spool file; the
// texts Flush waits for include theirs, though Run may not have read the
// spool yet when Flush first looks. Called here with Run stopped, so the
// test goroutine owns the state.
func TestFlushTargetsIncludeSpooledSteps(t *testing.T) {
	log, _ := testLog(t)
	cfg := baseConfig(t, nil, log)
	n := startRunning(t, cfg)
	n.stop()
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	if _, err := os.Stat(filepath.Join(cfg.StateDir, spoolFile)); err != nil {
		t.Fatalf("step not spooled: %v", err)
	}
	w := n.flushTargets()
	if len(w) != 1 || !w[msgKey{"a1", 0}] {
		t.Errorf("flush targets %v, want a1's tier-0 text", w)
	}
}
