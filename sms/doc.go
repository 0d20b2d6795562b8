// Package sms texts alerts to store managers through Twilio and escalates
// them until a person answers.
//
// Each alert first goes to tier 0 of the store's escalation chain (the
// store manager); while nobody acknowledges it, later tiers (region, HQ)
// are texted once their delay after the first text has passed. Replies
// ("ACK 4821", "FALSE 4821") arrive through a webhook that checks Twilio's
// signature and hand the acknowledgement to the alert manager.
//
// Texts are rationed: a cooldown per (camera, rule, zone), de-duplication
// of an alert's later steps, quiet hours with a minimum level, and a
// per-store cap per rolling hour; threats to life pass the cooldown and
// the cap.
//
// Sending is at-least-once made exactly-once where it matters: every
// message is journaled in StateDir before each attempt, and after any
// failure that leaves open whether Twilio created the message (a timeout,
// a dropped connection, a 5xx, a crash) the next attempt first lists the
// recipient's recent messages and takes an identical body as proof that
// it was sent. A restart resumes the journal with the same check.
//
// Without Twilio credentials (or with DryRun) nothing leaves the process:
// each text is logged with the number masked, so a site can be commissioned
// before it has an account.
package sms
