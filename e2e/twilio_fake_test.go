package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Made-up Twilio credentials and numbers: an account SID is "AC" and 32
// hex digits; +1 555 01xx numbers are reserved for fiction.
const (
	fakeSID   = "AC5e2e0000c0ffee0000a1e47500000001"
	fakeToken = "e2eFakeAuthToken0000000000000001"
	fakeFrom  = "+15550000000"
	fakeMgr1  = "+15550000101"
	fakeMgr2  = "+15550000102"
	fakeHQ    = "+15550000201"
)

// twilioServer answers the Messages resource of Twilio's 2010-04-01 REST
// API on loopback the way Twilio does (Basic auth, form-encoded creates
// answered 201 with the message resource as JSON, lists as a page), so the
// product's real twilio-go client is what talks to it. Whatever Twilio
// would refuse is answered with Twilio's error document and recorded as a
// protocol problem the test fails on.
type twilioServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	posts    []twilioPost
	gets     int
	problems []string
	seq      int
}

// twilioPost is one create-message request as received.
type twilioPost struct {
	Form url.Values
	At   time.Time
}

var twilioMessages = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)

func newTwilioServer(t *testing.T) *twilioServer {
	f := &twilioServer{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns the http.Client the app is given (app.Options.TwilioClient):
// its transport takes twilio-go's requests for https://api.twilio.com and
// delivers them to this server; any other host is refused and recorded.
func (f *twilioServer) client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.Scheme != "https" || r.URL.Host != "api.twilio.com" {
			f.problem("request to %s://%s, want https://api.twilio.com", r.URL.Scheme, r.URL.Host)
			return nil, fmt.Errorf("test transport: unexpected host %q", r.URL.Host)
		}
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = "http", host, host
		return tr.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (f *twilioServer) serve(w http.ResponseWriter, r *http.Request) {
	m := twilioMessages.FindStringSubmatch(r.URL.Path)
	if m == nil {
		f.problem("%s %s: not the Messages resource", r.Method, r.URL.Path)
		f.error(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != fakeSID || pass != fakeToken {
		f.problem("%s %s: Basic auth %q (ok %v), want the account SID and auth token", r.Method, r.URL.Path, user, ok)
		f.error(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if m[1] != fakeSID {
		f.problem("%s %s: account %q in the path, want %q", r.Method, r.URL.Path, m[1], fakeSID)
		f.error(w, http.StatusForbidden, 20003, "Permission denied")
		return
	}
	switch r.Method {
	case http.MethodPost:
		f.create(w, r)
	case http.MethodGet:
		// Only an attempt whose outcome was unclear looks its message up
		// first; none is expected here, but answer as Twilio would.
		f.mu.Lock()
		f.gets++
		f.mu.Unlock()
		f.json(w, http.StatusOK, map[string]any{
			"messages": []any{}, "page": 0, "page_size": 50, "start": 0, "end": 0,
			"first_page_uri": r.URL.RequestURI(), "next_page_uri": nil, "previous_page_uri": nil,
			"uri": r.URL.RequestURI(),
		})
	default:
		f.problem("%s %s: method", r.Method, r.URL.Path)
		f.error(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
}

func (f *twilioServer) create(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		f.problem("POST content type %q", ct)
		f.error(w, http.StatusBadRequest, 20001, "bad content type "+ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		f.problem("POST form: %v", err)
		f.error(w, http.StatusBadRequest, 20001, "unreadable form")
		return
	}
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	if to == "" || body == "" {
		f.problem("POST without To or Body: %v", r.PostForm)
		f.error(w, http.StatusBadRequest, 21604, "A 'To' phone number and a 'Body' are required.")
		return
	}
	f.mu.Lock()
	f.posts = append(f.posts, twilioPost{Form: r.PostForm, At: time.Now()})
	f.seq++
	sid := fmt.Sprintf("SM%032x", f.seq)
	f.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC1123Z)
	f.json(w, http.StatusCreated, map[string]any{
		"sid": sid, "account_sid": fakeSID, "to": to, "from": from, "body": body,
		"status": "queued", "direction": "outbound-api", "num_segments": "1", "num_media": "0",
		"date_created": now, "date_updated": now, "date_sent": nil, "api_version": "2010-04-01",
		"price": nil, "error_code": nil, "error_message": nil,
		"uri": "/2010-04-01/Accounts/" + fakeSID + "/Messages/" + sid + ".json",
	})
}

func (f *twilioServer) error(w http.ResponseWriter, status, code int, msg string) {
	f.json(w, status, map[string]any{
		"code": code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}

func (f *twilioServer) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *twilioServer) problem(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

// received returns the create requests, the list requests and the
// protocol problems seen so far.
func (f *twilioServer) received() ([]twilioPost, int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twilioPost(nil), f.posts...), f.gets, append([]string(nil), f.problems...)
}
