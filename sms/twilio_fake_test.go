package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
)

// fakeTwilio is an HTTP server that answers the Messages resource of
// Twilio's 2010-04-01 API as Twilio does (Basic auth, form posts, JSON
// bodies, error documents), so that the real twilio-go client is tested.
type fakeTwilio struct {
	t          *testing.T
	sid, token string
	srv        *httptest.Server
	release    chan struct{} // unblocks hanging handlers at the end

	mu      sync.Mutex
	msgs    []fakeMsg
	posts   []fakePost
	gets    []url.Values
	fail    func(n int, form url.Values) *failure // answer to the n-th POST (from 1); nil: normal
	invalid map[string]bool                       // To numbers refused with 21211
	queued  bool                                  // created messages stay queued (no date_sent)
	seq     int
}

type fakeMsg struct {
	SID, To, From, Body string
	Created             time.Time
	Sent                bool
}

type fakePost struct {
	Form     url.Values
	At       time.Time
	User     string
	Password string
}

// failure is a scripted answer to one POST.
type failure struct {
	status     int
	code       int
	retryAfter string
	// createThenHang: create the message, then never answer (until the
	// client gives up).
	createThenHang bool
	// hang: never answer, create nothing.
	hang bool
}

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	testFrom  = "+15550100000"
)

var messagesPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, sid: testSID, token: testToken, release: make(chan struct{}), invalid: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

// client returns an http.Client whose transport sends twilio-go's
// requests for api.twilio.com to this server.
func (f *fakeTwilio) client() *http.Client {
	tr := &http.Transport{}
	f.t.Cleanup(tr.CloseIdleConnections)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "api.twilio.com" {
			return nil, fmt.Errorf("unexpected host %q", r.URL.Host)
		}
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = "http", host, host
		return tr.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	m := messagesPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		f.error(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found", "")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.sid || pass != f.token {
		f.error(w, http.StatusUnauthorized, 20003, "Authenticate", "")
		return
	}
	if m[1] != f.sid {
		f.error(w, http.StatusForbidden, 20003, "Permission denied", "")
		return
	}
	switch r.Method {
	case http.MethodPost:
		f.create(w, r, user, pass)
	case http.MethodGet:
		f.list(w, r)
	default:
		f.error(w, http.StatusMethodNotAllowed, 20004, "Method not allowed", "")
	}
}

func (f *fakeTwilio) create(w http.ResponseWriter, r *http.Request, user, pass string) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		f.error(w, http.StatusBadRequest, 20001, "bad content type "+ct, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		f.error(w, http.StatusBadRequest, 20001, "unreadable form", "")
		return
	}
	f.mu.Lock()
	f.posts = append(f.posts, fakePost{Form: r.PostForm, At: time.Now(), User: user, Password: pass})
	n := len(f.posts)
	var fl *failure
	if f.fail != nil {
		fl = f.fail(n, r.PostForm)
	}
	f.mu.Unlock()
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	switch {
	case fl != nil && fl.hang:
		f.hang(r)
		return
	case fl != nil && fl.createThenHang:
		f.store(to, from, body)
		f.hang(r)
		return
	case fl != nil:
		f.error(w, fl.status, fl.code, "scripted failure", fl.retryAfter)
		return
	case to == "" || body == "":
		f.error(w, http.StatusBadRequest, 21604, "A 'To' phone number and a 'Body' are required.", "")
		return
	case f.isInvalid(to):
		f.error(w, http.StatusBadRequest, 21211, "The 'To' number "+to+" is not a valid phone number.", "")
		return
	case from != testFrom:
		f.error(w, http.StatusBadRequest, 21606, "The From phone number is not a valid, SMS-capable inbound phone number for your account.", "")
		return
	}
	msg := f.store(to, from, body)
	f.json(w, http.StatusCreated, f.resource(msg))
}

func (f *fakeTwilio) isInvalid(to string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.invalid[to]
}

func (f *fakeTwilio) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.release:
	}
}

func (f *fakeTwilio) store(to, from, body string) fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	msg := fakeMsg{
		SID: fmt.Sprintf("SM%032x", f.seq), To: to, From: from, Body: body,
		Created: time.Now().UTC().Truncate(time.Second), Sent: !f.queued,
	}
	f.msgs = append(f.msgs, msg)
	return msg
}

func (f *fakeTwilio) resource(m fakeMsg) map[string]any {
	status, sent := "queued", any(nil)
	if m.Sent {
		status, sent = "sent", m.Created.Format(time.RFC1123Z)
	}
	return map[string]any{
		"sid": m.SID, "account_sid": f.sid, "to": m.To, "from": m.From, "body": m.Body,
		"status": status, "direction": "outbound-api", "num_segments": "1", "num_media": "0",
		"date_created": m.Created.Format(time.RFC1123Z), "date_updated": m.Created.Format(time.RFC1123Z),
		"date_sent": sent, "api_version": "2010-04-01", "price": nil, "error_code": nil,
		"uri": "/2010-04-01/Accounts/" + f.sid + "/Messages/" + m.SID + ".json",
	}
}

// list answers like Twilio: newest first, filtered by To, From and
// DateSent> (messages not sent yet have no date_sent and never match it).
func (f *fakeTwilio) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.gets = append(f.gets, q)
	msgs := append([]fakeMsg(nil), f.msgs...)
	f.mu.Unlock()
	var after time.Time
	if v := q.Get("DateSent>"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.error(w, http.StatusBadRequest, 20001, "Invalid DateSent", "")
			return
		}
		after = t
	}
	var out []map[string]any
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if (q.Get("To") != "" && m.To != q.Get("To")) || (q.Get("From") != "" && m.From != q.Get("From")) {
			continue
		}
		if !after.IsZero() && (!m.Sent || m.Created.Before(after)) {
			continue
		}
		out = append(out, f.resource(m))
	}
	size := 50
	fmt.Sscan(q.Get("PageSize"), &size)
	if len(out) > size {
		out = out[:size]
	}
	if out == nil {
		out = []map[string]any{}
	}
	f.json(w, http.StatusOK, map[string]any{
		"messages": out, "page": 0, "page_size": size, "start": 0, "end": len(out),
		"first_page_uri": r.URL.RequestURI(), "next_page_uri": nil, "previous_page_uri": nil,
		"uri": r.URL.RequestURI(),
	})
}

func (f *fakeTwilio) error(w http.ResponseWriter, status, code int, msg, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	f.json(w, status, map[string]any{
		"code": code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}

func (f *fakeTwilio) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeTwilio) messages() []fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMsg(nil), f.msgs...)
}

func (f *fakeTwilio) postsMade() []fakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePost(nil), f.posts...)
}

func (f *fakeTwilio) getsMade() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.gets)
}

// messagesTo returns the bodies texted to num, oldest first.
func (f *fakeTwilio) messagesTo(num string) []string {
	var out []string
	for _, m := range f.messages() {
		if m.To == num {
			out = append(out, m.Body)
		}
	}
	return out
}

// --- notifier helpers ---

// Made-up numbers of the 555-01xx range.
const (
	numStore  = "+15550100001"
	numRegion = "+15550100002"
	numHQ     = "+15550100003"
)

func baseConfig(t *testing.T, f *fakeTwilio, log *slog.Logger) Config {
	cfg := Config{
		From:           testFrom,
		Chain:          []Tier{{Name: "store", Numbers: []string{numStore}}},
		StateDir:       t.TempDir(),
		StoreName:      "Main St",
		Location:       time.UTC,
		BackoffMin:     10 * time.Millisecond,
		BackoffMax:     40 * time.Millisecond,
		RequestTimeout: 5 * time.Second,
		Log:            log,
	}
	if f != nil {
		cfg.AccountSID, cfg.AuthToken, cfg.HTTPClient = f.sid, f.token, f.client()
	}
	return cfg
}

// testLog collects log output, shown if the test fails.
func testLog(t *testing.T) (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a Notifier whose Run goroutine the test owns.
type running struct {
	*Notifier
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
}

func startNotifier(t *testing.T, cfg Config) *running {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return run(t, n)
}

func run(t *testing.T, n *Notifier) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Notifier: n, t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- n.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop ends Run and waits for it (idempotent).
func (r *running) stop() {
	r.cancel()
	if err, ok := <-r.done; ok {
		if err != nil {
			r.t.Errorf("Run: %v", err)
		}
		close(r.done)
	}
}

// inspect runs f on the owner goroutine after every step notified so far.
func (r *running) inspect(t *testing.T, f func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !r.do(ctx, f) {
		t.Fatal("Run is not running")
	}
}

// settled reports, on the owner goroutine, whether nothing is pending or
// in flight.
func (r *running) settled(t *testing.T) bool {
	ok := true
	r.inspect(t, func() {
		ok = len(r.inflight) == 0
		for _, rec := range r.recs {
			for _, m := range rec.Msgs {
				if m.State == msgPending {
					ok = false
				}
			}
		}
	})
	return ok
}

func (r *running) record(t *testing.T, id string) alertRec {
	var out alertRec
	r.inspect(t, func() {
		if rec := r.recs[id]; rec != nil {
			out = *rec
			out.Msgs = append([]msgRec(nil), rec.Msgs...)
		}
	})
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a settable clock for the policy tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var alertTime = time.Date(2026, 3, 14, 14, 3, 0, 0, time.UTC)

// step builds an alert step like the alert manager's: a loiterer at the
// door of camera cam.
func step(id, cam string, level alerts.Level, seq int, state alerts.State) alerts.Alert {
	return alerts.Alert{
		ID: id, Rule: "door-loiter", Kind: alerts.KindLoitering, Camera: cam, Zone: "door",
		Level: level, State: state, Seq: seq,
		Started: alertTime.Add(-75 * time.Second), Time: alertTime,
		Class: "person", Score: 0.9, Value: 75,
		Snapshot: "http://10.0.0.5:9100/snapshots/" + id + ".jpg",
	}
}

func strconvItoa(i int) string { return fmt.Sprint(i) }
