package alerts

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// With an API token the POSTs need it as a bearer token; GET stays open.
func TestHandlerAPITokenGuardsPosts(t *testing.T) {
	const token = "s3cret-api-token"
	h := start(t, []Rule{quickKnife}, func(mc *ManagerConfig, _ *EngineConfig) { mc.APIToken = token })
	srv := httptest.NewServer(h.m.Handler())
	defer srv.Close()
	h.e.Result(knifeFrame("till", 0, 0.6))
	waitFor(t, "active alert", func() bool { return len(h.m.Active()) == 1 })
	id := h.m.Active()[0].ID

	do := func(method, path, auth string) int {
		t.Helper()
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(url.Values{"by": {"ops"}}.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequest(method, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if code := do(http.MethodGet, "/alerts", ""); code != http.StatusOK {
		t.Errorf("GET /alerts without a token: %d, want 200", code)
	}
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Basic " + token, token} {
		if code := do(http.MethodPost, "/alerts/"+id+"/ack", auth); code != http.StatusUnauthorized {
			t.Errorf("ack with Authorization %q: %d, want 401", auth, code)
		}
		if code := do(http.MethodPost, "/alerts/"+id+"/false-alarm", auth); code != http.StatusUnauthorized {
			t.Errorf("false alarm with Authorization %q: %d, want 401", auth, code)
		}
	}
	if len(h.m.Active()) != 1 {
		t.Fatal("a refused request closed the alert")
	}
	if code := do(http.MethodPost, "/alerts/"+id+"/ack", "Bearer "+token); code != http.StatusOK {
		t.Fatalf("ack with the token: %d, want 200", code)
	}
	if len(h.m.Active()) != 0 {
		t.Error("alert still active after an authorised ack")
	}
}

// Without an API token only a client on this host may close an alert.
func TestHandlerWithoutTokenOnlyLoopback(t *testing.T) {
	h := start(t, []Rule{quickKnife})
	handler := h.m.Handler()
	h.e.Result(knifeFrame("till", 0, 0.6))
	waitFor(t, "active alert", func() bool { return len(h.m.Active()) == 1 })
	id := h.m.Active()[0].ID

	serve := func(method, path, remote string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(url.Values{"by": {"ops"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, remote := range []string{"192.0.2.10:40000", "[2001:db8::1]:40000", "10.0.0.7:1", "garbage"} {
		if code := serve(http.MethodPost, "/alerts/"+id+"/ack", remote); code != http.StatusForbidden {
			t.Errorf("ack from %s: %d, want 403", remote, code)
		}
		if code := serve(http.MethodPost, "/alerts/"+id+"/false-alarm", remote); code != http.StatusForbidden {
			t.Errorf("false alarm from %s: %d, want 403", remote, code)
		}
		if code := serve(http.MethodGet, "/alerts", remote); code != http.StatusOK {
			t.Errorf("GET /alerts from %s: %d, want 200", remote, code)
		}
	}
	if len(h.m.Active()) != 1 {
		t.Fatal("a refused request closed the alert")
	}
	if code := serve(http.MethodPost, "/alerts/"+id+"/false-alarm", "[::1]:40000"); code != http.StatusOK {
		t.Fatalf("false alarm from ::1: %d, want 200", code)
	}
	if len(h.m.Active()) != 0 {
		t.Error("alert still active after a loopback false alarm")
	}
}
