package sms

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/storesight/storesight/alerts"
)

// maxInbound bounds a webhook request body; Twilio's form is a few KiB.
const maxInbound = 64 << 10

// ackTimeout bounds the Ack callback: Twilio gives up on a webhook after
// 15 s, and a late answer would only be retried.
const ackTimeout = 10 * time.Second

// canVerify reports whether inbound requests can be authenticated: the
// signature needs the auth token and the exact URL Twilio signed.
func (n *Notifier) canVerify() bool { return n.cfg.AuthToken != "" && n.cfg.WebhookURL != "" }

// Handler is the webhook for replies: Twilio posts each incoming SMS as a
// form (From, To, Body, MessageSid, AccountSid) signed in the
// X-Twilio-Signature header. A reply "ACK 4821" or "FALSE 4821" (any
// case; without the number: the latest alert texted to the sender)
// acknowledges the alert or marks it a false alarm through Config.Ack, and
// is answered with TwiML; a reply about an alert the manager already
// closed or no longer knows stops its escalation all the same. Refused: a missing or wrong signature, another
// account, a sender outside the chain (403), a MessageSid already handled
// (409); and everything when requests cannot be verified (no auth token
// or WebhookURL, as in a dry run without credentials).
func (n *Notifier) Handler() http.Handler { return http.HandlerFunc(n.serveInbound) }

func (n *Notifier) serveInbound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !n.canVerify() {
		n.reject(w, r, http.StatusForbidden, "cannot verify Twilio signatures (no auth token or webhook URL)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxInbound)
	if err := r.ParseForm(); err != nil {
		n.reject(w, r, http.StatusBadRequest, "unreadable form")
		return
	}
	// Twilio signs the URL followed by every POST parameter, sorted.
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !n.validator.Validate(n.cfg.WebhookURL, params, sig) {
		n.reject(w, r, http.StatusForbidden, "bad or missing X-Twilio-Signature")
		return
	}
	if params["AccountSid"] != n.cfg.AccountSID {
		n.reject(w, r, http.StatusForbidden, "another Twilio account")
		return
	}
	from := params["From"]
	if !n.numbers[from] {
		n.reject(w, r, http.StatusForbidden, "sender is not in the escalation chain", "from", mask(from))
		return
	}
	sid := params["MessageSid"]
	if sid == "" {
		n.reject(w, r, http.StatusBadRequest, "no MessageSid")
		return
	}
	fresh, err := n.seen.claim(sid, n.now())
	if err != nil {
		n.log.Error("sms: recording inbound message id", "err", err)
		http.Error(w, "cannot record the message", http.StatusInternalServerError)
		return
	}
	if !fresh {
		n.reject(w, r, http.StatusConflict, "MessageSid already handled (replay)", "message_sid", sid)
		return
	}
	twiml(w, n.reply(r, from, params["Body"]))
}

// reply handles a verified, new reply and words the answer.
func (n *Notifier) reply(r *http.Request, from, text string) string {
	falseAlarm, ref, ok := parseReply(text)
	if !ok {
		return "Reply ACK <ref> to take an alert or FALSE <ref> for a false alarm."
	}
	ref, e, known := n.dir.lookup(ref, from)
	switch {
	case !known && ref == "":
		return "No alert was texted to you. Reply ACK <ref> or FALSE <ref>."
	case !known:
		return "Unknown alert ref " + ref + ". Reply ACK <ref> or FALSE <ref>."
	case e.closed:
		return "Alert " + ref + " was already answered."
	}
	if n.cfg.Ack == nil {
		n.log.Error("sms: reply received but no Ack callback is configured", "ref", ref)
		return "Could not record your reply; please use the dashboard."
	}
	by := mask(from)
	ctx, cancel := context.WithTimeout(r.Context(), ackTimeout)
	defer cancel()
	err := n.cfg.Ack(ctx, e.alertID, by, falseAlarm)
	switch {
	case errors.Is(err, alerts.ErrClosed), errors.Is(err, alerts.ErrUnknownAlert):
		// Someone answered elsewhere (the dashboard), or the manager has
		// forgotten the alert (a restart): no step of the manager's will
		// stop the escalation, so the reply does.
		n.dir.markClosed(ref)
		if !n.stopEscalation(ctx, e.alertID) {
			n.log.Error("sms: could not hand a closed alert to Run; escalation may go on", "alert", e.alertID, "ref", ref)
		}
		n.log.Info("sms reply to an alert already closed; escalation stopped", "alert", e.alertID, "ref", ref,
			"by", by, "manager", redactErr(err, n.cfg.AuthToken))
		return "Alert " + ref + " is already closed. No action needed."
	case err != nil:
		n.log.Error("sms: acknowledging by reply failed", "alert", e.alertID, "ref", ref, "by", by,
			"err", redactErr(err, n.cfg.AuthToken))
		return "Could not record your reply to alert " + ref + "; please try again."
	}
	n.dir.markClosed(ref)
	n.stats.add(func(s *Stats) { s.Acks++ })
	select {
	case n.acked <- e.alertID:
	default: // Run is behind; the manager's own step will stop the escalation
	}
	n.log.Info("sms reply recorded", "alert", e.alertID, "ref", ref, "by", by, "false_alarm", falseAlarm)
	if falseAlarm {
		return "Alert " + ref + " marked as a false alarm. Thank you."
	}
	return "Alert " + ref + " acknowledged. Thank you."
}

// stopEscalation hands a closed alert to Run, waiting for room up to ctx.
func (n *Notifier) stopEscalation(ctx context.Context, alertID string) bool {
	select {
	case n.acked <- alertID:
		return true
	case <-ctx.Done():
		return false
	}
}

// parseReply reads "ACK", "ACK 4821", "FALSE 4821" in any case.
func parseReply(text string) (falseAlarm bool, ref string, ok bool) {
	f := strings.Fields(strings.ToUpper(text))
	if len(f) == 0 || len(f) > 2 {
		return false, "", false
	}
	switch f[0] {
	case "ACK":
	case "FALSE":
		falseAlarm = true
	default:
		return false, "", false
	}
	if len(f) == 2 {
		ref = f[1]
		for _, c := range ref {
			if c < '0' || c > '9' {
				return false, "", false
			}
		}
	}
	return falseAlarm, ref, true
}

func (n *Notifier) reject(w http.ResponseWriter, r *http.Request, code int, why string, attrs ...any) {
	n.stats.add(func(s *Stats) { s.Rejected++ })
	n.log.Warn("sms inbound rejected", append([]any{"why", why, "status", code, "remote", r.RemoteAddr}, attrs...)...)
	http.Error(w, http.StatusText(code), code)
}

// twiml answers Twilio with one message back to the sender.
func twiml(w http.ResponseWriter, msg string) {
	type response struct {
		XMLName xml.Name `xml:"Response"`
		Message string   `xml:"Message"`
	}
	b, err := xml.Marshal(response{Message: msg})
	if err != nil {
		http.Error(w, "encode reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(xml.Header))
	w.Write(b)
}
