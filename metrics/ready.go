package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/storesight/storesight/video"
)

// readyCheck is one named readiness condition.
type readyCheck struct {
	name  string
	check func() error
}

// readiness is the set of checks behind /readyz.
type readiness struct {
	mu     sync.Mutex
	checks []readyCheck
}

func (r *readiness) add(name string, check func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, readyCheck{name, check})
}

// failures runs every check, in the order they were added, and returns a
// line per failing one.
func (r *readiness) failures() []string {
	r.mu.Lock()
	checks := append([]readyCheck(nil), r.checks...)
	r.mu.Unlock()
	var out []string
	for _, c := range checks {
		if err := c.check(); err != nil {
			// One line per check keeps the body readable by both people and
			// line-oriented probes.
			msg := strings.Join(strings.Fields(err.Error()), " ")
			out = append(out, c.name+": "+msg)
		}
	}
	return out
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	fails := r.failures()
	textHeaders(w)
	if len(fails) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, strings.Join(fails, "\n")+"\n")
		return
	}
	fmt.Fprint(w, "ready\n")
}

func textHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
}

// CameraOnline is a readiness check for one camera: it fails while a live
// camera is offline, and always passes for a camera that is not live.
// Register it as AddReadiness("camera "+id, CameraOnline(live)).
func CameraOnline(live func() (video.LiveStats, bool)) func() error {
	return func() error {
		st, ok := live()
		if !ok || st.Online {
			return nil
		}
		return errors.New(offlineReason(st, time.Now()))
	}
}

// CamerasOnline is a readiness check for a set of cameras: it passes while
// at least one live camera is online, or when none is live. One camera out
// of several going dark should page someone through storesight_camera_online,
// not take the whole store out of rotation; all of them going dark means
// the process counts nothing.
func CamerasOnline(live map[string]func() (video.LiveStats, bool)) func() error {
	// Copied so the caller may reuse its map.
	ids := make([]string, 0, len(live))
	funcs := make([]func() (video.LiveStats, bool), 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		funcs = append(funcs, live[id])
	}
	return func() error {
		now := time.Now()
		var offline []string
		for i, id := range ids {
			st, ok := funcs[i]()
			if !ok {
				continue
			}
			if st.Online {
				return nil
			}
			offline = append(offline, id+" "+offlineReason(st, now))
		}
		if len(offline) == 0 {
			return nil
		}
		return fmt.Errorf("no live camera online (%s)", strings.Join(offline, ", "))
	}
}

// offlineReason says since when an offline camera has been silent.
func offlineReason(st video.LiveStats, now time.Time) string {
	switch {
	case !st.LastFrame.IsZero():
		return fmt.Sprintf("offline since %s (%s ago)",
			st.LastFrame.UTC().Format(time.RFC3339), now.Sub(st.LastFrame).Round(time.Second))
	case st.Connects > 0:
		return "offline, connected but no frame decoded yet"
	default:
		return "offline, never connected"
	}
}
