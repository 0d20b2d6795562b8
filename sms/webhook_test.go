package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/storesight/storesight/alerts"
)

const hookURL = "https://storesight.example/sms/inbound"

// sign computes X-Twilio-Signature as Twilio documents it: HMAC-SHA1 with
// the auth token over the URL followed by each POST parameter's name and
// value, sorted by name, base64-encoded.
func sign(token, u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := u
	for _, k := range keys {
		s += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type ackCall struct {
	id, by     string
	falseAlarm bool
}

type acks struct {
	mu    sync.Mutex
	calls []ackCall
}

func (a *acks) ack(_ context.Context, id, by string, falseAlarm bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, ackCall{id, by, falseAlarm})
	return nil
}

func (a *acks) list() []ackCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ackCall(nil), a.calls...)
}

func inbound(from, body, sid string) url.Values {
	return url.Values{
		"From": {from}, "To": {testFrom}, "Body": {body}, "MessageSid": {sid},
		"AccountSid": {testSID}, "NumMedia": {"0"}, "SmsStatus": {"received"},
	}
}

// post sends form to the handler signed with sig ("" for none).
func post(h http.Handler, form url.Values, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/sms/inbound", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func signed(h http.Handler, form url.Values) *httptest.ResponseRecorder {
	return post(h, form, sign(testToken, hookURL, form))
}

func TestWebhook(t *testing.T) {
	log, _ := testLog(t)
	a := &acks{}
	cfg := baseConfig(t, nil, log)
	// Credentials but a forced dry run: replies verified, nothing sent.
	cfg.AccountSID, cfg.AuthToken, cfg.DryRun = testSID, testToken, true
	cfg.WebhookURL = hookURL
	cfg.Ack = a.ack
	cfg.Chain = threeTiers(60e9, 120e9)
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	n.Notify(step("a2", "exit", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "texted", func() bool { return n.Stats().DryRun == 2 })
	ref1 := n.record(t, "a1").Ref
	h := n.Handler()

	// A valid ACK with the ref.
	rec := signed(h, inbound(numStore, "ack "+ref1, "SM00000000000000000000000000000101"))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/xml") {
		t.Fatalf("valid reply: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if want := "<Response><Message>Alert " + ref1 + " acknowledged. Thank you.</Message></Response>"; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("TwiML %s, want %s", rec.Body, want)
	}
	if got := a.list(); len(got) != 1 || got[0] != (ackCall{"a1", "+*******0001", false}) {
		t.Errorf("Ack calls %+v", got)
	}
	eventually(t, "escalation stopped", func() bool { return n.record(t, "a1").Closed })

	// The same MessageSid again: a replay, without effect.
	if rec := signed(h, inbound(numStore, "ack "+ref1, "SM00000000000000000000000000000101")); rec.Code != http.StatusConflict {
		t.Errorf("replay: %d", rec.Code)
	}
	// A bare FALSE means the latest alert texted to that number (a2).
	rec = signed(h, inbound(numStore, " False ", "SM00000000000000000000000000000102"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "false alarm") {
		t.Errorf("bare FALSE: %d %s", rec.Code, rec.Body)
	}
	// An unknown ref is explained, not acknowledged.
	rec = signed(h, inbound(numStore, "ACK 1", "SM00000000000000000000000000000103"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Unknown alert ref 1") {
		t.Errorf("unknown ref: %d %s", rec.Code, rec.Body)
	}
	if got := a.list(); len(got) != 2 || got[1] != (ackCall{"a2", "+*******0001", true}) {
		t.Errorf("Ack calls %+v", got)
	}

	// Refused without effect.
	form := inbound(numStore, "ACK", "SM00000000000000000000000000000104")
	if rec := post(h, form, ""); rec.Code != http.StatusForbidden {
		t.Errorf("no signature: %d", rec.Code)
	}
	if rec := post(h, form, sign("ffffffffffffffffffffffffffffffff", hookURL, form)); rec.Code != http.StatusForbidden {
		t.Errorf("signed with another token: %d", rec.Code)
	}
	tampered := inbound(numStore, "ACK", "SM00000000000000000000000000000104")
	if rec := post(h, tampered, sign(testToken, hookURL, inbound(numStore, "FALSE", "SM00000000000000000000000000000104"))); rec.Code != http.StatusForbidden {
		t.Errorf("body changed after signing: %d", rec.Code)
	}
	if rec := signed(h, inbound("+15550109999", "ACK", "SM00000000000000000000000000000105")); rec.Code != http.StatusForbidden {
		t.Errorf("unknown sender: %d", rec.Code)
	}
	other := inbound(numStore, "ACK", "SM00000000000000000000000000000106")
	other.Set("AccountSid", "ACffffffffffffffffffffffffffffffff")
	if rec := signed(h, other); rec.Code != http.StatusForbidden {
		t.Errorf("other account: %d", rec.Code)
	}
	if got := len(a.list()); got != 2 {
		t.Errorf("%d Ack calls after refused requests, want 2", got)
	}
	if s := n.Stats(); s.Acks != 2 || s.Rejected != 6 {
		t.Errorf("stats acks %d rejected %d, want 2 and 6", s.Acks, s.Rejected)
	}
	n.stop()

	// After a restart the handled MessageSid is still a replay.
	n2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rec := signed(n2.Handler(), inbound(numStore, "ack "+ref1, "SM00000000000000000000000000000101")); rec.Code != http.StatusConflict {
		t.Errorf("replay after restart: %d", rec.Code)
	}
}

// A dry run without an auth token cannot verify anything and refuses all.
func TestWebhookRefusesWithoutToken(t *testing.T) {
	log, _ := testLog(t)
	a := &acks{}
	cfg := baseConfig(t, nil, log)
	cfg.WebhookURL = hookURL
	cfg.Ack = a.ack
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	form := inbound(numStore, "ACK", "SM00000000000000000000000000000201")
	if rec := signed(n.Handler(), form); rec.Code != http.StatusForbidden {
		t.Errorf("status %d, want 403", rec.Code)
	}
	if len(a.list()) != 0 || n.Stats().Rejected != 1 {
		t.Errorf("acks %v, stats %+v", a.list(), n.Stats())
	}
}
