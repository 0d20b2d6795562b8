package sms

import (
	"sort"
	"time"

	"github.com/storesight/storesight/alerts"
)

// maxSleep bounds the owner's sleep so that pruning runs and a clock
// that jumps is noticed.
const maxSleep = time.Minute

// retention is how long a finished alert's record is kept after its last
// step: replies to it are still understood, and the cooldown and the
// hourly cap count its texts.
func (n *Notifier) retention() time.Duration {
	return max(24*time.Hour, n.cfg.Cooldown+time.Hour)
}

// tick escalates what is due, starts the texts that are due and returns
// how long to sleep until the next thing is due.
func (n *Notifier) tick() time.Duration {
	now := n.now()
	next := now.Add(maxSleep)
	soon := func(t time.Time) {
		if t.Before(next) {
			next = t
		}
	}
	type due struct {
		r   *alertRec
		idx int
	}
	var ready []due
	for _, r := range n.recs {
		if n.escalate(r, now) {
			n.save(r)
		}
		if r.escalating(len(n.cfg.Chain)) {
			soon(r.First.Add(n.cfg.Chain[r.Tier+1].After))
		}
		for i := range r.Msgs {
			m := &r.Msgs[i]
			if m.State != msgPending || n.inflight[msgID(r.ID, i)] {
				continue
			}
			if m.NextAt.After(now) {
				soon(m.NextAt)
				continue
			}
			ready = append(ready, due{r, i})
		}
	}
	// The most serious and the oldest first, as workers are few.
	sort.Slice(ready, func(i, j int) bool {
		a, b := ready[i], ready[j]
		if a.r.Level != b.r.Level {
			return a.r.Level > b.r.Level
		}
		return a.r.Msgs[a.idx].Created.Before(b.r.Msgs[b.idx].Created)
	})
	for _, d := range ready {
		if !n.cfg.DryRun && len(n.inflight) >= workers {
			break // an outcome will wake the loop
		}
		n.dispatch(d.r, d.idx, now)
	}
	if now.Sub(n.lastPrune) >= maxSleep {
		n.prune(now)
		n.lastPrune = now
	}
	return max(next.Sub(now), 0)
}

// escalate moves r up the chain for every tier whose delay has passed
// without an answer, and reports whether it did.
func (n *Notifier) escalate(r *alertRec, now time.Time) bool {
	moved := false
	for r.escalating(len(n.cfg.Chain)) {
		t := n.cfg.Chain[r.Tier+1]
		if now.Before(r.First.Add(t.After)) {
			break
		}
		r.Tier++
		moved = true
		n.log.Info("sms alert escalated: no answer", "alert", r.ID, "ref", r.Ref, "tier", t.Name,
			"after", t.After, "level", r.Level.String())
		n.textTier(r, r.Tier, reasonEscalate, now)
	}
	return moved
}

// dispatch starts one attempt at a text: in a dry run it is logged and
// done; otherwise the attempt is journaled (as possibly creating the
// message) before a sender gets it.
func (n *Notifier) dispatch(r *alertRec, i int, now time.Time) {
	m := &r.Msgs[i]
	if n.cfg.DryRun {
		m.State, m.Done, m.NextAt = msgDryRun, now, time.Time{}
		n.stats.add(func(s *Stats) { s.DryRun++ })
		n.log.Info("sms dry run", "to", mask(m.To), "body", m.Body, "alert", r.ID, "ref", r.Ref,
			"tier", n.tierName(m.Tier))
		n.dir.delivered(m.To, r.Ref)
		n.save(r)
		return
	}
	m.Attempts++
	if m.FirstAttempt.IsZero() {
		m.FirstAttempt = now
	}
	check := m.Ambiguous
	m.Ambiguous = true
	n.save(r)
	n.inflight[msgID(r.ID, i)] = true
	// Never blocks: the buffer holds as many jobs as may be in flight.
	n.jobs <- job{
		alert: r.ID, idx: i, to: m.To, body: m.Body,
		check: check, since: m.FirstAttempt.Add(-clockSkew),
	}
}

// outcome records what a sender reports and schedules a retry if needed.
func (n *Notifier) outcome(o outcome) {
	delete(n.inflight, msgID(o.alert, o.idx))
	r := n.recs[o.alert]
	if r == nil || o.idx >= len(r.Msgs) {
		return
	}
	m := &r.Msgs[o.idx]
	now := n.now()
	log := n.log.With("alert", r.ID, "ref", r.Ref, "to", mask(m.To), "tier", n.tierName(m.Tier),
		"attempt", m.Attempts)
	switch o.kind {
	case outSent, outFound:
		m.State, m.SID, m.Done, m.NextAt, m.Ambiguous, m.Err = msgSent, o.sid, now, time.Time{}, false, ""
		n.dir.delivered(m.To, r.Ref)
		if o.kind == outFound {
			n.stats.add(func(s *Stats) { s.Duplicates++ })
			log.Info("sms already at Twilio after an unclear failure; not sent again", "sid", o.sid)
		} else {
			n.stats.add(func(s *Stats) { s.Sent++ })
			log.Info("sms sent", "sid", o.sid)
		}
	case outPermanent:
		m.Ambiguous, m.Err = false, o.err.Error()
		if m.State == msgPending {
			m.State, m.Done = msgFailed, now
			n.stats.add(func(s *Stats) { s.Failed++ })
		}
		log.Warn("sms failed for good; escalation goes on", "err", o.err)
	case outRetry:
		m.Ambiguous, m.Err = o.ambiguous, o.err.Error()
		if m.State != msgPending {
			break // cancelled meanwhile
		}
		if r.Closed {
			// Answered while this attempt was out (closeAlert leaves texts
			// in flight alone): a retry could only text after the answer.
			// After an unclear failure Twilio may hold the text anyway.
			m.State, m.Done, m.NextAt = msgCancelled, now, time.Time{}
			if o.ambiguous {
				m.State = msgUnknown
			}
			log.Info("sms attempt failed after the alert was answered; not retried", "err", o.err,
				"maybe_delivered", o.ambiguous)
			break
		}
		if m.Attempts >= n.cfg.MaxAttempts {
			m.State, m.Done = msgFailed, now
			n.stats.add(func(s *Stats) { s.Failed++ })
			log.Error("sms failed after all attempts", "err", o.err, "maybe_delivered", o.ambiguous)
			break
		}
		wait := backoff(m.Attempts, n.cfg.BackoffMin, n.cfg.BackoffMax, o.wait)
		m.NextAt = now.Add(wait)
		n.stats.add(func(s *Stats) { s.Retries++ })
		log.Warn("sms attempt failed; retrying", "err", o.err, "in", wait, "check_first", o.ambiguous)
	}
	n.save(r)
}

// prune forgets alerts that are finished (nothing pending, no escalation
// left) and quiet for the retention.
func (n *Notifier) prune(now time.Time) {
	for id, r := range n.recs {
		if r.escalating(len(n.cfg.Chain)) || now.Sub(r.Updated) < n.retention() {
			continue
		}
		busy := false
		for i := range r.Msgs {
			if r.Msgs[i].State == msgPending || n.inflight[msgID(id, i)] {
				busy = true
				break
			}
		}
		if busy {
			continue
		}
		delete(n.recs, id)
		if r.Ref != "" {
			n.dir.remove(r.Ref)
		}
		if err := n.j.del(recKey(id)); err != nil {
			n.log.Error("sms: journal delete failed", "alert", id, "err", err)
		}
	}
}

// compile-time check that Notifier is what the alert manager expects.
var _ alerts.Notifier = (*Notifier)(nil)
