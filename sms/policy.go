package sms

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/storesight/storesight/alerts"
)

// step applies one alert step to the alert's record: the first step texts
// tier 0 (unless quiet hours or the cooldown hold it back), a rise in
// level texts again, other updates do not, and a person's answer stops
// the escalation.
func (n *Notifier) step(a alerts.Alert) {
	now := n.now()
	r := n.recs[a.ID]
	if r != nil && a.Seq > 0 && a.Seq <= r.Seq {
		n.stats.add(func(s *Stats) { s.Suppressed.Dedupe++ })
		n.log.Debug("sms: repeated or late alert step ignored", "alert", a.ID, "seq", a.Seq, "state", a.State)
		return
	}
	switch a.State {
	case alerts.StateRaised, alerts.StateUpdated:
		if r == nil {
			n.first(a, now)
			return
		}
		n.update(r, a, now)
	case alerts.StateResolved:
		if r == nil {
			return
		}
		r.Resolved = true
		r.Seq, r.Updated = max(r.Seq, a.Seq), now
		n.save(r)
	case alerts.StateAcknowledged, alerts.StateFalseAlarm:
		if r == nil {
			return
		}
		r.Seq, r.Updated = max(r.Seq, a.Seq), now
		n.closeAlert(r, now, string(a.State), a.By)
		n.save(r)
	default:
		n.log.Warn("sms: unknown alert state ignored", "alert", a.ID, "state", a.State)
	}
}

func (n *Notifier) first(a alerts.Alert, now time.Time) {
	r := &alertRec{
		ID: a.ID, Camera: a.Camera, Rule: a.Rule, Zone: a.Zone,
		Level: a.Level, Seq: a.Seq,
		Text: sentence(a), At: stepTime(a, now), Snapshot: a.Snapshot,
		Updated: now,
	}
	n.recs[a.ID] = r
	n.consider(r, now)
	n.save(r)
}

func (n *Notifier) update(r *alertRec, a alerts.Alert, now time.Time) {
	r.Seq, r.Updated = max(r.Seq, a.Seq), now
	// Escalation texts carry the latest wording and best snapshot.
	r.Text = sentence(a)
	if a.Snapshot != "" {
		r.Snapshot = a.Snapshot
	}
	switch {
	case r.Closed || a.Level <= r.Level:
		n.stats.add(func(s *Stats) { s.Suppressed.Dedupe++ })
	case !r.notified():
		// Held back so far; the higher level may pass quiet hours or the
		// cooldown now.
		r.Level, r.At = a.Level, stepTime(a, now)
		n.consider(r, now)
	default:
		r.Level = a.Level
		n.rise(r, now)
	}
	n.save(r)
}

// consider texts tier 0 about a new alert unless quiet hours or the
// cooldown of its camera, rule and zone hold it back. A threat to life
// passes the cooldown: a second weapon sighting may be a second person,
// and one text too many costs less than one too few.
func (n *Notifier) consider(r *alertRec, now time.Time) {
	if n.quiet(r.Level, now) {
		n.stats.add(func(s *Stats) { s.Suppressed.Quiet++ })
		n.log.Info("sms suppressed: quiet hours", "alert", r.ID, "rule", r.Rule, "camera", r.Camera,
			"level", r.Level.String(), "min_level", n.cfg.QuietMinLevel.String())
		return
	}
	if last, level, ok := n.lastText(r); ok && r.Level < alerts.LevelLife && now.Sub(last) < n.cfg.Cooldown && r.Level <= level {
		n.stats.add(func(s *Stats) { s.Suppressed.Cooldown++ })
		n.log.Info("sms suppressed: cooldown", "alert", r.ID, "rule", r.Rule, "camera", r.Camera, "zone", r.Zone,
			"last_text", last, "cooldown", n.cfg.Cooldown)
		return
	}
	r.Ref = n.newRef()
	r.First = now
	r.Tier = 0
	n.dir.set(r.Ref, r.ID, false)
	n.log.Info("sms alert to tier 0", "alert", r.ID, "ref", r.Ref, "rule", r.Rule, "camera", r.Camera,
		"level", r.Level.String(), "tier", n.cfg.Chain[0].Name)
	n.textTier(r, 0, reasonFirst, now)
}

// rise texts everyone already texted about r that its level went up.
func (n *Notifier) rise(r *alertRec, now time.Time) {
	if n.quiet(r.Level, now) {
		n.stats.add(func(s *Stats) { s.Suppressed.Quiet++ })
		n.log.Info("sms suppressed: quiet hours", "alert", r.ID, "level", r.Level.String())
		return
	}
	seen := make(map[string]bool)
	for k := 0; k <= r.Tier; k++ {
		for _, num := range n.cfg.Chain[k].Numbers {
			if !seen[num] {
				seen[num] = true
				n.addMsg(r, k, reasonLevel, num, now)
			}
		}
	}
	n.log.Info("sms alert level rose", "alert", r.ID, "ref", r.Ref, "level", r.Level.String())
}

// textTier queues texts to tier k's numbers, skipping a number already
// texted about r in an earlier tier.
func (n *Notifier) textTier(r *alertRec, k int, reason string, now time.Time) {
	for _, num := range n.cfg.Chain[k].Numbers {
		if r.texted(num) {
			n.stats.add(func(s *Stats) { s.Suppressed.Dedupe++ })
			continue
		}
		n.addMsg(r, k, reason, num, now)
	}
}

// addMsg queues one text, or records it as suppressed when the store's
// hourly cap is reached; threats to life pass the cap.
func (n *Notifier) addMsg(r *alertRec, tier int, reason, num string, now time.Time) {
	m := msgRec{
		Tier: tier, Reason: reason, To: num,
		Body:    body(n.cfg.StoreName, r, reason, n.cfg.Chain[tier], n.cfg.Location),
		State:   msgPending,
		Created: now, NextAt: now,
	}
	if r.Level < alerts.LevelLife {
		if sent := n.textsSince(now.Add(-time.Hour)); sent >= n.cfg.RatePerHour {
			m.State, m.Err = msgSuppressed, fmt.Sprintf("rate cap %d/h reached", n.cfg.RatePerHour)
			n.stats.add(func(s *Stats) { s.Suppressed.Rate++ })
			n.log.Warn("sms suppressed: rate cap", "alert", r.ID, "to", mask(num), "texts_last_hour", sent,
				"cap", n.cfg.RatePerHour)
		}
	}
	r.Msgs = append(r.Msgs, m)
}

func (n *Notifier) quiet(level alerts.Level, now time.Time) bool {
	return n.cfg.Quiet != nil && level < n.cfg.QuietMinLevel && n.cfg.Quiet.Open(now)
}

// lastText is the latest text about another alert of r's camera, rule and
// zone, and that alert's level.
func (n *Notifier) lastText(r *alertRec) (time.Time, alerts.Level, bool) {
	var last time.Time
	var level alerts.Level
	for _, o := range n.recs {
		if o == r || o.key() != r.key() {
			continue
		}
		if t := o.lastText(); t.After(last) {
			last, level = t, o.Level
		}
	}
	return last, level, !last.IsZero()
}

// textsSince counts the store's texts created after t that went or go out.
// Records are kept longer than an hour, so the count is complete.
func (n *Notifier) textsSince(t time.Time) int {
	c := 0
	for _, r := range n.recs {
		for i := range r.Msgs {
			if m := &r.Msgs[i]; m.counts() && m.Created.After(t) {
				c++
			}
		}
	}
	return c
}

// closeAlert records a person's answer: no more escalation, and texts not
// yet out are dropped.
func (n *Notifier) closeAlert(r *alertRec, now time.Time, how, by string) {
	if r.Closed {
		return
	}
	r.Closed = true
	r.Updated = now
	dropped := 0
	for i := range r.Msgs {
		if m := &r.Msgs[i]; m.State == msgPending && !n.inflight[msgID(r.ID, i)] {
			m.State, m.Done = msgCancelled, now
			dropped++
		}
	}
	if r.Ref != "" {
		n.dir.set(r.Ref, r.ID, true)
	}
	n.log.Info("sms alert answered; escalation stopped", "alert", r.ID, "ref", r.Ref, "how", how, "by", by,
		"tier", r.Tier, "dropped", dropped)
}

func (n *Notifier) ackedByReply(id string) {
	if r := n.recs[id]; r != nil && !r.Closed {
		n.closeAlert(r, n.now(), "reply", "")
		n.save(r)
	}
}

// newRef picks a short reference for replies, unique among the alerts
// kept; four digits while they last.
func (n *Notifier) newRef() string {
	lo, span := 1000, 9000
	for try := 0; ; try++ {
		if try == 200 {
			lo, span = lo*10, span*10
			try = 0
		}
		ref := fmt.Sprint(lo + rand.IntN(span))
		if !n.dir.used(ref) {
			return ref
		}
	}
}

// stepTime is the time shown in the text: when the step happened.
func stepTime(a alerts.Alert, now time.Time) time.Time {
	switch {
	case !a.Time.IsZero():
		return a.Time
	case !a.Started.IsZero():
		return a.Started
	}
	return now
}
