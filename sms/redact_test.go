package sms

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesight/storesight/alerts"
)

// leaks lists what must never appear in a log or in the journal's errors:
// every number of the chain and the sender, in the forms a request or an
// error quotes them (E.164, bare digits, URL-encoded), and the auth token.
func leaks(text string) []string {
	var found []string
	for _, num := range []string{numStore, numRegion, numHQ, testFrom} {
		for _, form := range []string{num, num[1:], url.QueryEscape(num)} {
			if strings.Contains(text, form) {
				found = append(found, form)
			}
		}
	}
	// The made-up token is also the tail of the made-up account SID, which
	// is no secret.
	if strings.Contains(strings.ReplaceAll(text, testSID, ""), testToken) {
		found = append(found, "the auth token")
	}
	return found
}

// journalErrs returns the err fields of the texts journaled in dir.
func journalErrs(t *testing.T, dir string) string {
	t.Helper()
	live, _, err := loadJournal(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for k, v := range live {
		var r alertRec
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("journal %s: %v", k, err)
		}
		for _, m := range r.Msgs {
			b.WriteString(m.Err + "\n")
		}
	}
	return b.String()
}

// Twilio's 21211 names the number it refuses: the log and the journal keep
// the status and code and the number masked.
func TestInvalidNumberErrorIsRedacted(t *testing.T) {
	f := newFakeTwilio(t)
	f.invalid[numStore] = true
	log, buf := testLog(t)
	cfg := baseConfig(t, f, log)
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "failed", func() bool { return n.Stats().Failed == 1 })
	rec := n.record(t, "a1")
	n.stop()

	errText := rec.Msgs[0].Err
	for _, want := range []string{"400", "21211", "+*******0001", "is not a valid phone number"} {
		if !strings.Contains(errText, want) {
			t.Errorf("journaled error %q lacks %q", errText, want)
		}
	}
	out := buf.String()
	if !strings.Contains(out, "21211") {
		t.Errorf("log does not mention 21211:\n%s", out)
	}
	if l := leaks(out); len(l) > 0 {
		t.Errorf("log contains %q:\n%s", l, out)
	}
	if l := leaks(journalErrs(t, cfg.StateDir)); len(l) > 0 {
		t.Errorf("journaled errors contain %q", l)
	}
}

// A list call that cannot reach Twilio fails with a *url.Error whose URL
// has To=... in its query: only its operation and cause are kept.
func TestFailedListErrorIsRedacted(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{status: 500, code: 20500}
		}
		return nil
	}
	// Twilio unreachable for the list calls: a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	toFake := f.client()
	log, buf := testLog(t)
	cfg := baseConfig(t, f, log)
	cfg.MaxAttempts = 3
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodGet {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host, r.Host = "http", dead, dead
			return tr.RoundTrip(r)
		}
		return toFake.Transport.RoundTrip(r)
	})}
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "failed after all attempts", func() bool { return n.Stats().Failed == 1 })
	rec := n.record(t, "a1")
	n.stop()

	errText := rec.Msgs[0].Err
	if !strings.HasPrefix(errText, "look for an earlier attempt at Twilio: list messages sent: Get: ") ||
		!strings.Contains(errText, "connection refused") {
		t.Errorf("journaled error %q, want the operation and the cause", errText)
	}
	if strings.Contains(errText, "api.twilio.com") || strings.Contains(errText, "To=") {
		t.Errorf("journaled error %q keeps the URL", errText)
	}
	out := buf.String()
	if !strings.Contains(out, "list messages sent: Get: ") {
		t.Errorf("log lacks the failed list call:\n%s", out)
	}
	if l := leaks(out); len(l) > 0 {
		t.Errorf("log contains %q:\n%s", l, out)
	}
	if l := leaks(journalErrs(t, cfg.StateDir)); len(l) > 0 {
		t.Errorf("journaled errors contain %q", l)
	}
	if data, err := os.ReadFile(filepath.Join(cfg.StateDir, journalFile)); err != nil || strings.Contains(strings.ReplaceAll(string(data), testSID, ""), testToken) {
		t.Errorf("journal read %v or holds the auth token", err)
	}
}
