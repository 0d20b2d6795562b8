package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The connect timeout ends a request whose server never answers, but not
// one whose body is merely slow: a large model on a slow link must still
// download.
func TestConnectTimeout(t *testing.T) {
	const d = 200 * time.Millisecond
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/silent":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case "/slow-body":
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(3 * d):
			case <-stop:
				return
			}
			io.WriteString(w, "model bytes")
		}
	}))
	defer srv.Close()
	defer close(stop)
	client := &http.Client{Transport: connectTimeout{next: http.DefaultTransport, d: d}}

	_, err := client.Get(srv.URL + "/silent")
	if err == nil || !strings.Contains(err.Error(), "no response from") {
		t.Fatalf("silent server: err %v, want no response within %s", err, d)
	}

	resp, err := client.Get(srv.URL + "/slow-body")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "model bytes" {
		t.Fatalf("slow body: %q, %v; want the whole body although it took longer than %s", body, err, d)
	}
}
