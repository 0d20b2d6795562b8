package sms

import (
	"context"
	"errors"
	"time"
)

// flushPoll is how often Flush looks at the owner's state. Polling keeps
// Run's loop untouched; a shutdown can spare a few tens of milliseconds.
const flushPoll = 25 * time.Millisecond

// errNotRunning is Flush's answer when no Run would ever send the texts.
var errNotRunning = errors.New("sms: Flush: Run is not running")

// Flush waits until every step notified so far is handled and every text
// that is due now has reached a final outcome (sent, dry-run logged, failed
// for good, suppressed, cancelled by an answer) - texts scheduled for later
// (escalation tiers whose After has not come, retries whose next attempt
// falls after ctx's deadline, which Flush could not wait for anyway) do not
// count - or until ctx is done (returns ctx.Err()). A retry after a Twilio
// 5xx, 429 or timeout is due: Flush waits for it, up to ctx. Texts left for
// later stay in the journal for the next Run. Returns an error if Run is
// not running or stops meanwhile. Used by the app at shutdown before
// cancelling Run, so that a short run (a video file) still sends its
// first-tier texts instead of only journaling them.
func (n *Notifier) Flush(ctx context.Context) error {
	if !n.running.Load() {
		return errNotRunning
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, hasDeadline := ctx.Deadline()
	// The texts to wait for, fixed at the first look so that steps
	// notified during the flush cannot keep it going. Only touched on
	// the owner goroutine.
	var waiting map[msgKey]bool
	later, escalating := 0, 0
	look := func() bool {
		if waiting == nil {
			waiting = n.flushTargets()
		}
		var left time.Duration = -1
		if hasDeadline {
			left = max(time.Until(deadline), 0)
		}
		later += n.flushDrop(waiting, left)
		if len(waiting) > 0 {
			return false
		}
		for _, r := range n.recs {
			if r.escalating(len(n.cfg.Chain)) {
				escalating++
			}
		}
		return true
	}

	tick := time.NewTicker(flushPoll)
	defer tick.Stop()
	for first := true; ; first = false {
		if !first && !n.running.Load() {
			return errors.New("sms: Flush: Run stopped before the texts due were out")
		}
		done := make(chan bool, 1)
		select {
		case n.ctl <- func() { done <- look() }:
			if <-done {
				n.log.Info("sms flushed: texts due are out", "retries_left_for_later", later,
					"escalations_waiting", escalating)
				return nil
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-tick.C:
			// Run is busy or stopping: see whether it still runs.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// msgKey names one text: its alert and its index in the alert's Msgs.
type msgKey struct {
	alert string
	idx   int
}

// flushTargets handles every step notified so far and returns the texts
// pending now. Runs on the owner goroutine.
func (n *Notifier) flushTargets() map[msgKey]bool {
	// Steps spooled to the file (a full queue, a Run restarted) are not
	// in the channel Run drained before a ctl function.
	n.takeInbox(false)
	w := make(map[msgKey]bool)
	for id, r := range n.recs {
		for i := range r.Msgs {
			if r.Msgs[i].State == msgPending {
				w[msgKey{id, i}] = true
			}
		}
	}
	return w
}

// flushDrop removes from w the texts that reached a final outcome and,
// when left is not negative, those whose next attempt comes more than
// left from now; it returns how many of the latter it removed. A text in
// flight was due when dispatched, so its NextAt is past and it stays.
// Runs on the owner goroutine.
func (n *Notifier) flushDrop(w map[msgKey]bool, left time.Duration) (later int) {
	now := n.now()
	for k := range w {
		r := n.recs[k.alert]
		if r == nil || k.idx >= len(r.Msgs) || r.Msgs[k.idx].State != msgPending {
			delete(w, k)
			continue
		}
		// Compared as durations: cfg.Now need not be the wall clock the
		// deadline is on.
		if left >= 0 && r.Msgs[k.idx].NextAt.Sub(now) > left {
			delete(w, k)
			later++
		}
	}
	return later
}
