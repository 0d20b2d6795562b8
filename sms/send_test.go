package sms

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
)

var refRe = regexp.MustCompile(`Reply ACK (\d+) or FALSE (\d+)$`)

// The real twilio-go client posts exactly To, From and Body with Basic
// auth to the account's Messages resource, and the text reads as the issue
// asks.
func TestSendsFormWithBasicAuth(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	n := startNotifier(t, baseConfig(t, f, log))

	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "one message", func() bool { return n.Stats().Sent == 1 })

	posts := f.postsMade()
	if len(posts) != 1 {
		t.Fatalf("posts = %d, want 1", len(posts))
	}
	p := posts[0]
	if p.User != testSID || p.Password != testToken {
		t.Errorf("basic auth = %q/%q", p.User, p.Password)
	}
	keys := make([]string, 0, len(p.Form))
	for k := range p.Form {
		keys = append(keys, k)
	}
	if len(keys) != 3 || p.Form.Get("To") != numStore || p.Form.Get("From") != testFrom {
		t.Errorf("form = %v, want exactly To=%s From=%s Body", p.Form, numStore, testFrom)
	}
	rec := n.record(t, "a1")
	want := "storesight Main St: Person loitering 75s in zone door, cam entrance, 14:03. " +
		"http://10.0.0.5:9100/snapshots/a1.jpg Reply ACK " + rec.Ref + " or FALSE " + rec.Ref
	if got := p.Form.Get("Body"); got != want {
		t.Errorf("Body\n got %q\nwant %q", got, want)
	}
	if len(rec.Ref) != 4 {
		t.Errorf("ref %q, want 4 digits", rec.Ref)
	}
	msgs := f.messages()
	if len(rec.Msgs) != 1 || rec.Msgs[0].State != msgSent || rec.Msgs[0].SID != msgs[0].SID {
		t.Errorf("journal %+v, want sent with sid %s", rec.Msgs, msgs[0].SID)
	}
}

// The fake server checks the credentials: a wrong token is a permanent
// 401 (one attempt, no retry).
func TestWrongTokenFailsForGood(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	cfg.AuthToken = "ffffffffffffffffffffffffffffffff"
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "failure", func() bool { return n.Stats().Failed == 1 })
	if s := n.Stats(); s.Retries != 0 || s.Sent != 0 || len(f.messages()) != 0 {
		t.Errorf("stats %+v, messages %d", s, len(f.messages()))
	}
}

// A 500 may or may not have created the message: the retry first lists
// the recipient's messages, finds none and sends once.
func TestServerErrorThenSuccessSendsOnce(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{status: 500, code: 20500, retryAfter: ""}
		}
		return nil
	}
	log, _ := testLog(t)
	n := startNotifier(t, baseConfig(t, f, log))
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "sent", func() bool { return n.Stats().Sent == 1 })

	if got := len(f.messages()); got != 1 {
		t.Errorf("messages at Twilio = %d, want 1", got)
	}
	if got := len(f.postsMade()); got != 2 {
		t.Errorf("posts = %d, want 2", got)
	}
	if f.getsMade() == 0 {
		t.Error("no list check before re-sending after a 500")
	}
	if s := n.Stats(); s.Retries != 1 || s.Duplicates != 0 {
		t.Errorf("stats %+v", s)
	}
}

// Twilio created the message but the answer never came: the retry finds
// it by listing and does not send it again.
func TestTimeoutAfterCreateDoesNotDuplicate(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{createThenHang: true}
		}
		return nil
	}
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	cfg.RequestTimeout = 300 * time.Millisecond
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "duplicate detected", func() bool { return n.Stats().Duplicates == 1 })
	eventually(t, "settled", func() bool { return n.settled(t) })

	msgs := f.messages()
	if len(msgs) != 1 || len(f.postsMade()) != 1 {
		t.Fatalf("messages %d posts %d, want 1 and 1", len(msgs), len(f.postsMade()))
	}
	rec := n.record(t, "a1")
	if m := rec.Msgs[0]; m.State != msgSent || m.SID != msgs[0].SID {
		t.Errorf("journal %+v, want sent with %s", m, msgs[0].SID)
	}
	if s := n.Stats(); s.Sent != 0 || s.Failed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A 429 proves nothing was created: the retry waits for Retry-After and
// sends without a list check.
func TestRateLimitedHonoursRetryAfter(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{status: 429, code: 20429, retryAfter: "1"}
		}
		return nil
	}
	log, _ := testLog(t)
	n := startNotifier(t, baseConfig(t, f, log))
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "sent", func() bool { return n.Stats().Sent == 1 })

	posts := f.postsMade()
	if len(posts) != 2 || len(f.messages()) != 1 {
		t.Fatalf("posts %d messages %d, want 2 and 1", len(posts), len(f.messages()))
	}
	// BackoffMax is 40ms: only Retry-After explains a wait of a second.
	if gap := posts[1].At.Sub(posts[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After was 1s", gap)
	}
	if f.getsMade() != 0 {
		t.Errorf("%d list calls after a 429, want none", f.getsMade())
	}
}

// 21211 (invalid To) fails that message for good, without retry, and the
// escalation still reaches the next tier.
func TestInvalidNumberFailsAndEscalationContinues(t *testing.T) {
	f := newFakeTwilio(t)
	bad := "+15550100999"
	f.invalid[bad] = true
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	cfg.Chain = []Tier{
		{Name: "store", Numbers: []string{bad}},
		{Name: "region", Numbers: []string{numRegion}, After: 5 * time.Minute},
	}
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "failed", func() bool { return n.Stats().Failed == 1 })

	n.inspect(t, func() {}) // handled at the current time
	clk.Add(5 * time.Minute)
	n.inspect(t, func() {})
	eventually(t, "region texted", func() bool { return len(f.messagesTo(numRegion)) == 1 })
	eventually(t, "settled", func() bool { return n.settled(t) })

	postsToBad := 0
	for _, p := range f.postsMade() {
		if p.Form.Get("To") == bad {
			postsToBad++
		}
	}
	if postsToBad != 1 {
		t.Errorf("%d posts to the invalid number, want 1", postsToBad)
	}
	if s := n.Stats(); s.Retries != 0 || s.Failed != 1 || s.Sent != 1 {
		t.Errorf("stats %+v", s)
	}
	rec := n.record(t, "a1")
	if rec.Msgs[0].State != msgFailed || !strings.Contains(rec.Msgs[0].Err, "21211") {
		t.Errorf("journal %+v", rec.Msgs[0])
	}
}

// A text pending in the journal when the process stopped is sent exactly
// once by the next process: the first request had hung without creating.
func TestRestartResumesPendingAndSendsOnce(t *testing.T) {
	f := newFakeTwilio(t)
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{hang: true}
		}
		return nil
	}
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	n1 := startNotifier(t, cfg)
	n1.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "first post", func() bool { return len(f.postsMade()) == 1 })
	n1.stop()

	n2 := startNotifier(t, cfg)
	eventually(t, "sent after restart", func() bool { return n2.Stats().Sent == 1 })
	if len(f.messages()) != 1 || len(f.postsMade()) != 2 || f.getsMade() == 0 {
		t.Errorf("messages %d posts %d gets %d, want 1, 2, >0", len(f.messages()), len(f.postsMade()), f.getsMade())
	}
	n2.stop()

	// Sent is final: a third process has nothing to send.
	n3 := startNotifier(t, cfg)
	n3.inspect(t, func() {
		if len(n3.inflight) != 0 || n3.recs["a1"].Msgs[0].State != msgSent {
			t.Errorf("after restart: inflight %d, state %s", len(n3.inflight), n3.recs["a1"].Msgs[0].State)
		}
	})
}

// Twilio created the message (still queued, no date_sent) when the
// process stopped mid-request: the next process finds it and does not
// send it again.
func TestRestartFindsMessageCreatedBeforeCrash(t *testing.T) {
	f := newFakeTwilio(t)
	f.queued = true
	f.fail = func(n int, _ url.Values) *failure {
		if n == 1 {
			return &failure{createThenHang: true}
		}
		return nil
	}
	log, _ := testLog(t)
	cfg := baseConfig(t, f, log)
	n1 := startNotifier(t, cfg)
	n1.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "created", func() bool { return len(f.messages()) == 1 })
	n1.stop()

	n2 := startNotifier(t, cfg)
	eventually(t, "found after restart", func() bool { return n2.Stats().Duplicates == 1 })
	if len(f.messages()) != 1 || len(f.postsMade()) != 1 {
		t.Errorf("messages %d posts %d, want 1 and 1", len(f.messages()), len(f.postsMade()))
	}
	if got := n2.record(t, "a1").Msgs[0].SID; got != f.messages()[0].SID {
		t.Errorf("journal sid %q, want %q", got, f.messages()[0].SID)
	}
}

// Without credentials nothing goes over HTTP; each text is logged with the
// number masked.
func TestDryRunLogsAndSendsNothing(t *testing.T) {
	log, buf := testLog(t)
	cfg := baseConfig(t, nil, log)
	var calls atomic.Int32
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, errors.New("dry run made a request")
	})}
	n := startNotifier(t, cfg)
	n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	eventually(t, "dry run", func() bool { return n.Stats().DryRun == 1 })
	n.stop()

	out := buf.String()
	if !strings.Contains(out, `msg="sms dry run"`) || !strings.Contains(out, "+*******0001") ||
		!strings.Contains(out, "Person loitering 75s") {
		t.Errorf("log lacks the dry run line:\n%s", out)
	}
	if strings.Contains(out, numStore) {
		t.Error("log contains the full phone number")
	}
	if c := calls.Load(); c != 0 {
		t.Errorf("%d HTTP calls in a dry run", c)
	}
	if s := n.Stats(); s.Sent != 0 {
		t.Errorf("stats %+v", s)
	}
}
