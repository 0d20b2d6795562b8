package sms

import (
	"time"

	"github.com/storesight/storesight/alerts"
)

// Message states in the journal.
const (
	msgPending    = "pending"    // to be sent (again)
	msgSent       = "sent"       // Twilio has it (SID known)
	msgDryRun     = "dry_run"    // logged instead of sent
	msgFailed     = "failed"     // given up: permanent error or attempts exhausted
	msgSuppressed = "suppressed" // over the rate cap
	msgCancelled  = "cancelled"  // the alert was closed before it went out
	// msgUnknown: the alert was closed while an attempt's outcome was
	// unclear (a timeout, a 5xx); Twilio may have sent it, and it is not
	// tried again, as a retry could only text after someone answered.
	msgUnknown = "unknown"
)

// Why a message exists; it picks the wording.
const (
	reasonFirst    = "first"    // tier 0 at the alert's first step
	reasonEscalate = "escalate" // a later tier, nobody answered
	reasonLevel    = "level"    // the alert's level rose
)

// msgRec is one text to one number, as journaled.
type msgRec struct {
	Tier   int    `json:"tier"`
	Reason string `json:"reason"`
	To     string `json:"to"`
	Body   string `json:"body"`
	State  string `json:"state"`
	SID    string `json:"sid,omitempty"`
	// Attempts counts operations started (list checks and creates).
	Attempts int `json:"attempts,omitempty"`
	// Ambiguous is set before each create and cleared only when the
	// outcome proves Twilio did not create the message: while it is set,
	// the next attempt first looks for the message at Twilio.
	Ambiguous    bool      `json:"ambiguous,omitempty"`
	Created      time.Time `json:"created"`
	FirstAttempt time.Time `json:"first_attempt,omitzero"`
	NextAt       time.Time `json:"next_at,omitzero"`
	Done         time.Time `json:"done,omitzero"`
	Err          string    `json:"err,omitempty"`
}

// counts reports whether m is a text that goes (or went) out, for the rate
// cap and the cooldown.
func (m *msgRec) counts() bool {
	return m.State == msgPending || m.State == msgSent || m.State == msgDryRun || m.State == msgUnknown
}

// delivered reports whether the recipient has (or, dry, would have) the
// text, so a bare "ACK" from them can mean this alert.
func (m *msgRec) delivered() bool { return m.State == msgSent || m.State == msgDryRun }

// alertRec is what the notifier keeps of one alert, as journaled.
type alertRec struct {
	ID     string       `json:"id"`
	Camera string       `json:"camera"`
	Rule   string       `json:"rule"`
	Zone   string       `json:"zone,omitempty"`
	Level  alerts.Level `json:"level"`
	// Seq is the latest step seen; older or repeated steps are ignored.
	Seq int `json:"seq"`
	// Text, At and Snapshot make up the texts' wording.
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
	Snapshot string    `json:"snapshot,omitempty"`
	// Ref identifies the alert in replies; set at the first text.
	Ref string `json:"ref,omitempty"`
	// First is when the alert was first texted; zero while it is
	// suppressed (quiet hours, cooldown). Escalation counts from it.
	First time.Time `json:"first,omitzero"`
	// Tier is the highest tier texted.
	Tier     int  `json:"tier"`
	Resolved bool `json:"resolved,omitempty"`
	// Closed: a person acknowledged it or called it a false alarm.
	Closed  bool      `json:"closed,omitempty"`
	Updated time.Time `json:"updated"`
	Msgs    []msgRec  `json:"msgs,omitempty"`
}

func (r *alertRec) key() coolKey { return coolKey{r.Camera, r.Rule, r.Zone} }

// notified reports whether the alert has been texted (is not suppressed).
func (r *alertRec) notified() bool { return !r.First.IsZero() }

// escalating reports whether later tiers may still be texted: a person
// has not answered, and the alert is either still going on or serious
// enough (property, life) that it must reach a person even after it ended.
func (r *alertRec) escalating(tiers int) bool {
	if !r.notified() || r.Closed || r.Tier >= tiers-1 {
		return false
	}
	return !r.Resolved || r.Level >= alerts.LevelProperty
}

// texted reports whether num already has (or is getting) a text about
// this alert, so escalation does not text the same phone twice.
func (r *alertRec) texted(num string) bool {
	for i := range r.Msgs {
		if r.Msgs[i].To == num && r.Msgs[i].State != msgSuppressed {
			return true
		}
	}
	return false
}

// lastText is when the alert's latest counted text was created.
func (r *alertRec) lastText() time.Time {
	var t time.Time
	for i := range r.Msgs {
		if r.Msgs[i].counts() && r.Msgs[i].Created.After(t) {
			t = r.Msgs[i].Created
		}
	}
	return t
}

// coolKey is what the cooldown is kept per.
type coolKey struct{ camera, rule, zone string }

func recKey(id string) string { return "a/" + id }
