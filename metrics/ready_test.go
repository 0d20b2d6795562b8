package metrics

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storesight/storesight/video"
)

func TestHealthz(t *testing.T) {
	base := serve(t, New("s").Handler())
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	resp, err := http.Post(base+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %s, want 405", resp.Status)
	}
}

func TestReadyzFlips(t *testing.T) {
	m := New("s")
	plaza := &liveBox{}
	lastFrame := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	plaza.set(func(s *video.LiveStats) { s.Connects = 1; s.LastFrame = lastFrame })
	m.AddReadiness("cameras", CamerasOnline(map[string]func() (video.LiveStats, bool){"plaza": plaza.stats, "aisle": notLive}))
	m.AddReadiness("camera plaza", CameraOnline(plaza.stats))
	var kafkaUp atomic.Bool
	m.AddReadiness("kafka", func() error {
		if !kafkaUp.Load() {
			return errNotYet
		}
		return nil
	})
	base := serve(t, m.Handler())

	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with everything down: %d %q", code, body)
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 3 ||
		!strings.HasPrefix(lines[0], "cameras: no live camera online (plaza offline since 2025-03-14T09:30:00Z (") ||
		!strings.HasPrefix(lines[1], "camera plaza: offline since 2025-03-14T09:30:00Z (") ||
		lines[2] != "kafka: not yet" {
		t.Fatalf("/readyz body:\n%s", body)
	}

	plaza.set(func(s *video.LiveStats) { s.Online = true })
	code, body = get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || body != "kafka: not yet\n" {
		t.Fatalf("/readyz with the camera back: %d %q", code, body)
	}

	kafkaUp.Store(true)
	if code, body = get(t, base+"/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("/readyz with everything up: %d %q", code, body)
	}
}

func TestCamerasOnline(t *testing.T) {
	online := func() (video.LiveStats, bool) { return video.LiveStats{Online: true, Connects: 1}, true }
	never := func() (video.LiveStats, bool) { return video.LiveStats{Reconnects: 4}, true }
	noFrame := func() (video.LiveStats, bool) { return video.LiveStats{Connects: 1}, true }
	type cams = map[string]func() (video.LiveStats, bool)
	for _, tc := range []struct {
		name string
		cams cams
		want string // "" for ready
	}{
		{"no cameras", cams{}, ""},
		{"only file cameras", cams{"a": notLive}, ""},
		{"one of two online", cams{"a": never, "b": online}, ""},
		{"none online", cams{"b": noFrame, "a": never, "c": notLive},
			"no live camera online (a offline, never connected, b offline, connected but no frame decoded yet)"},
	} {
		err := CamerasOnline(tc.cams)()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if err := CameraOnline(notLive)(); err != nil {
		t.Errorf("CameraOnline of a file camera: %v", err)
	}
}
