package sms

import "sync"

// Stats counts what the notifier did since New.
type Stats struct {
	Sent   int64 // texts Twilio accepted
	DryRun int64 // texts logged instead of sent
	Failed int64 // texts given up (permanent error or attempts exhausted)
	// Retries counts attempts scheduled after a failed one.
	Retries int64
	// Duplicates counts texts found already at Twilio after an ambiguous
	// failure, and so not sent again.
	Duplicates int64
	Suppressed Suppressed
	Acks       int64 // replies that acknowledged or marked a false alarm
	Rejected   int64 // inbound requests refused (signature, account, sender, replay, malformed)
}

// Suppressed counts texts not sent, by reason.
type Suppressed struct {
	Cooldown int64 // a new alert too soon after the last text for its camera, rule and zone
	Quiet    int64 // below the level that may wake someone in quiet hours
	Rate     int64 // over the store's hourly cap
	Dedupe   int64 // a later step of an alert already texted, or a repeated step
}

// statsBox guards the counters, written by Run and the webhook.
type statsBox struct {
	mu sync.Mutex
	s  Stats
}

func (b *statsBox) add(f func(*Stats)) {
	b.mu.Lock()
	f(&b.s)
	b.mu.Unlock()
}

func (b *statsBox) get() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}
