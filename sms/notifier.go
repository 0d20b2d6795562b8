package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/twilio/twilio-go/client"
)

// Files in StateDir.
const (
	journalFile = "outbox.jsonl"
	spoolFile   = "inbox-spool.jsonl"
	seenFile    = "inbound-sids.jsonl"
)

// workers is how many Twilio requests may be in flight: enough that one
// slow request does not hold up the other recipients of an alert.
const workers = 3

// Notifier texts alerts to the escalation chain of one store. It is an
// alerts.Notifier; Run does the sending and must be running for texts to
// go out, Handler takes the replies.
type Notifier struct {
	cfg       Config
	log       *slog.Logger
	numbers   map[string]bool // every number of the chain: who may reply
	validator client.RequestValidator
	inbox     *inbox
	dir       *directory
	seen      *seenStore
	stats     statsBox
	running   atomic.Bool
	// acked carries alert ids acknowledged by reply to Run, which stops
	// their escalation without waiting for the manager's step.
	acked chan string
	// ctl runs a function on the owner goroutine (tests inspect state).
	ctl chan func()

	// Owned by Run (by New before Run starts).
	recs      map[string]*alertRec
	j         *journal
	inflight  map[string]bool // msgID
	jobs      chan job
	results   chan outcome
	lastPrune time.Time
	// spoolFails counts the failed reads of the inbox spool in a row;
	// while it is above 0 Run retries after spoolWait.
	spoolFails int
	spoolWait  time.Duration
}

// New checks cfg (numbers in E.164, From, tiers' After increasing) and
// loads the state in StateDir, so that replies are understood and pending
// texts resumed once Run starts.
func New(cfg Config) (*Notifier, error) {
	c, err := normalize(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("sms: state dir: %w", err)
	}
	n := &Notifier{
		cfg:      c,
		log:      c.Log.With("component", "sms", "store", c.StoreName),
		numbers:  make(map[string]bool),
		inbox:    newInbox(filepath.Join(c.StateDir, spoolFile), c.Log),
		dir:      newDirectory(),
		acked:    make(chan string, 64),
		ctl:      make(chan func()),
		recs:     make(map[string]*alertRec),
		inflight: make(map[string]bool),
		jobs:     make(chan job, workers),
		results:  make(chan outcome, workers),
	}
	if c.AuthToken != "" {
		n.validator = client.NewRequestValidator(c.AuthToken)
	}
	for _, t := range c.Chain {
		for _, num := range t.Numbers {
			n.numbers[num] = true
		}
	}
	path := filepath.Join(c.StateDir, journalFile)
	live, bad, err := loadJournal(path)
	if err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	if bad > 0 {
		n.log.Warn("sms: skipped unreadable journal lines", "lines", bad)
	}
	for k, v := range live {
		if !strings.HasPrefix(k, "a/") {
			continue
		}
		var r alertRec
		if err := json.Unmarshal(v, &r); err != nil || r.ID == "" {
			n.log.Warn("sms: dropping unreadable journal record", "key", k, "err", err)
			delete(live, k)
			continue
		}
		if n.fitChain(&r) {
			if v, err := json.Marshal(&r); err == nil {
				live[k] = v
			}
		}
		n.recs[r.ID] = &r
	}
	if n.j, err = openJournal(path, live); err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	if err := n.j.close(); err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	if n.seen, err = openSeen(filepath.Join(c.StateDir, seenFile), c.Now()); err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	n.rebuildDirectory()
	pending := 0
	for _, r := range n.recs {
		for i := range r.Msgs {
			if r.Msgs[i].State == msgPending {
				pending++
			}
		}
	}
	n.log.Info("sms notifier ready", "dry_run", c.DryRun, "tiers", len(c.Chain),
		"alerts", len(n.recs), "pending", pending, "webhook", n.canVerify())
	return n, nil
}

// rebuildDirectory fills the webhook's view from the loaded records, the
// latest delivery per number last.
func (n *Notifier) rebuildDirectory() {
	type delivery struct {
		num, ref string
		at       time.Time
	}
	var ds []delivery
	for _, r := range n.recs {
		if r.Ref == "" {
			continue
		}
		n.dir.set(r.Ref, r.ID, r.Closed)
		for i := range r.Msgs {
			if m := &r.Msgs[i]; m.delivered() {
				ds = append(ds, delivery{m.To, r.Ref, m.Done})
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].at.Before(ds[j].at) })
	for _, d := range ds {
		n.dir.delivered(d.num, d.ref)
	}
}

// Notify takes one alert step. It does not wait for the text: the step is
// queued, or, when the queue is full or Run is not running, appended to a
// spool file in StateDir that Run reads, so no step is lost.
func (n *Notifier) Notify(a alerts.Alert) { n.inbox.put(a) }

// Stats returns the counters so far.
func (n *Notifier) Stats() Stats { return n.stats.get() }

// Run is the owner of all alert state: it sends, retries and escalates
// until ctx is done. It starts with the texts left pending in the journal
// and the steps spooled while it was not running. On return, requests in
// flight are cancelled and recorded (their next attempt checks Twilio
// first) and waiting steps are journaled for the next Run.
func (n *Notifier) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("sms: Run is already running")
	}
	defer n.running.Store(false)
	if err := n.j.compact(); err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	defer func() {
		if err := n.j.close(); err != nil {
			n.log.Error("sms: closing journal", "err", err)
		}
	}()
	n.inbox.start()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if !n.cfg.DryRun {
		for range workers {
			s := newSender(wctx, n.cfg)
			wg.Go(func() { s.run(wctx, n.jobs, n.results) })
		}
	}

	timer := time.NewTimer(0)
	defer timer.Stop()
	// spool retries a failed read of the spool file: no Notify may come
	// to trigger one, and its steps must not wait for it.
	spool := time.NewTimer(time.Hour)
	spool.Stop()
	defer spool.Stop()
	spoolArmed := false
	for {
		select {
		case <-ctx.Done():
			cancel()
			n.shutdown(&wg)
			return nil
		case a := <-n.inbox.ch:
			n.step(a)
		case <-n.inbox.signal:
			n.takeInbox(false)
		case <-spool.C:
			spoolArmed = false
			n.takeInbox(false)
		case o := <-n.results:
			n.outcome(o)
		case id := <-n.acked:
			n.ackedByReply(id)
		case f := <-n.ctl:
			n.drainInbox()
			n.tick()
			f()
		case <-timer.C:
		}
		if n.spoolFails > 0 && !spoolArmed {
			spool.Reset(n.spoolWait)
			spoolArmed = true
		}
		timer.Reset(n.tick())
	}
}

// shutdown waits for the senders, records their last outcomes and
// journals the steps still queued.
func (n *Notifier) shutdown(wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	for waiting := true; waiting; {
		select {
		case o := <-n.results:
			n.outcome(o)
		case <-done:
			waiting = false
		}
	}
	for {
		select {
		case o := <-n.results:
			n.outcome(o)
			continue
		default:
		}
		break
	}
	// Jobs never picked up stay pending; their Ambiguous mark only costs
	// a look at Twilio next time.
	clear(n.inflight)
	for len(n.jobs) > 0 {
		<-n.jobs
	}
	n.takeInbox(true)
}

// drainInbox handles the steps queued so far (used before a ctl function,
// so that it sees every step notified before it).
func (n *Notifier) drainInbox() {
	for {
		select {
		case a := <-n.inbox.ch:
			n.step(a)
		default:
			return
		}
	}
}

// takeInbox handles the waiting steps. A spool it cannot read stays on
// disk (and Notify keeps appending to it); Run retries it with a backoff.
func (n *Notifier) takeInbox(stop bool) {
	steps, err := n.inbox.take(stop)
	if err != nil {
		n.spoolFails++
		n.spoolWait = backoff(n.spoolFails, n.cfg.BackoffMin, n.cfg.BackoffMax, 0)
		n.log.Error("sms: reading spooled alert steps; will retry", "err", err,
			"failures", n.spoolFails, "retry_in", n.spoolWait)
	} else {
		n.spoolFails, n.spoolWait = 0, 0
	}
	for _, a := range steps {
		n.step(a)
	}
}

// do runs f on the owner goroutine once every step notified before is
// handled; false if Run is not running.
func (n *Notifier) do(ctx context.Context, f func()) bool {
	done := make(chan struct{})
	select {
	case n.ctl <- func() { f(); close(done) }:
	case <-ctx.Done():
		return false
	}
	<-done
	return true
}

// save journals r. A failure is logged, not fatal: texting on without a
// journal risks a duplicate after a crash, stopping risks nobody hearing
// of the alert.
func (n *Notifier) save(r *alertRec) {
	if err := n.j.put(recKey(r.ID), r); err != nil {
		n.log.Error("sms: journal write failed", "alert", r.ID, "err", err)
	}
}

func (n *Notifier) now() time.Time { return n.cfg.Now() }

// tierName names tier i for the logs; a journal written with a longer
// chain can name a tier that is gone.
func (n *Notifier) tierName(i int) string {
	if i >= 0 && i < len(n.cfg.Chain) {
		return n.cfg.Chain[i].Name
	}
	return fmt.Sprintf("#%d (no longer configured)", i)
}

// fitChain adapts a journaled record to the configured chain, which may
// have become shorter since (a tier removed before a restart): texts
// still pending to a tier that is gone are cancelled, and the record's
// tier is capped at the last one, so escalation and a level rise only
// index tiers that exist. It reports whether r changed.
func (n *Notifier) fitChain(r *alertRec) bool {
	last := len(n.cfg.Chain) - 1
	changed := false
	for i := range r.Msgs {
		if m := &r.Msgs[i]; m.Tier > last && m.State == msgPending {
			m.State, m.Done, m.NextAt = msgCancelled, n.now(), time.Time{}
			m.Err = fmt.Sprintf("tier %d is no longer in the escalation chain", m.Tier)
			changed = true
			n.log.Warn("sms: pending text to a tier no longer configured cancelled", "alert", r.ID,
				"ref", r.Ref, "to", mask(m.To), "tier", m.Tier, "tiers", len(n.cfg.Chain))
		}
	}
	if r.Tier > last {
		r.Tier = last
		changed = true
	}
	return changed
}

func msgID(alert string, idx int) string { return fmt.Sprintf("%s#%d", alert, idx) }
