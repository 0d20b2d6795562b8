package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenReportsBindErrorAtOnce(t *testing.T) {
	s, err := Listen("127.0.0.1:0", http.NotFoundHandler(), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr %s has no real port", s.Addr())
	}
	if s2, err := Listen(s.Addr(), http.NotFoundHandler(), testLog(t)); err == nil {
		s2.Close()
		t.Fatalf("second Listen on %s succeeded", s.Addr())
	} else if !strings.Contains(err.Error(), s.Addr()) {
		t.Errorf("error does not name the address: %v", err)
	}
}

func TestServeStopsOnCancelAndReleasesPort(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	mux.Handle("/", New("s").Handler())
	s, err := Listen("127.0.0.1:0", mux, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	if code, _ := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	// A request in flight at cancel still gets its answer.
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- string(b)
	}()
	<-entered
	cancel()
	// Let the handler finish only once the server stopped accepting, so the
	// request really is in flight during shutdown.
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections 10s after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if got := <-slow; got != "done" {
		t.Errorf("in-flight request at shutdown: %q", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return 10s after its context ended")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not released after Serve returned: %v", err)
	}
	ln.Close()
}

func TestCloseWithoutServeReleasesPort(t *testing.T) {
	s, err := Listen("127.0.0.1:0", http.NotFoundHandler(), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not released by Close: %v", err)
	}
	ln.Close()
	// Serve after Close returns at once instead of serving a closed port.
	if err := s.Serve(context.Background()); err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
}

func TestCloseStopsServe(t *testing.T) {
	s, err := Listen("127.0.0.1:0", http.NotFoundHandler(), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	if code, _ := get(t, "http://"+s.Addr()+"/"); code != http.StatusNotFound {
		t.Fatalf("GET /: %d", code)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return 10s after Close")
	}
}
