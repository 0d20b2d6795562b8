package video

import (
	"testing"
	"time"
)

func TestRTSPClockAnchorsSessionsAndNeverGoesBack(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	c := rtspClock{start: start}
	ms := time.Millisecond

	// Session 1: first picture decoded 300ms after start, RTP PTS from 5s.
	pos, wall := c.stamp(5*time.Second, time.Time{}, false, start.Add(300*ms))
	if pos != 300*ms || !wall.Equal(start.Add(300*ms)) {
		t.Fatalf("first picture: pos %v wall %v", pos, wall)
	}
	pos, wall = c.stamp(5*time.Second+100*ms, time.Time{}, false, start.Add(450*ms))
	if pos != 400*ms || !wall.Equal(start.Add(400*ms)) {
		t.Fatalf("second picture: pos %v wall %v (want PTS-based, not decode time)", pos, wall)
	}
	// A reordered picture is clamped.
	if pos, _ = c.stamp(5*time.Second+50*ms, time.Time{}, false, start.Add(460*ms)); pos != 401*ms {
		t.Fatalf("reordered picture: pos %v, want 401ms", pos)
	}
	// NTP from a sender report wins for wall time.
	ntp := start.Add(time.Hour)
	if _, wall = c.stamp(5*time.Second+200*ms, ntp, true, start.Add(500*ms)); !wall.Equal(ntp) {
		t.Fatalf("wall %v, want NTP %v", wall, ntp)
	}

	// Session 2 restarts RTP time at 0, three seconds later.
	c.newSession()
	pos, _ = c.stamp(0, time.Time{}, false, start.Add(3500*ms))
	if pos != 3500*ms {
		t.Fatalf("after reconnect: pos %v, want 3.5s", pos)
	}
	// A clock that jumped back still yields growing stream time.
	c.newSession()
	if pos, _ = c.stamp(0, time.Time{}, false, start.Add(time.Second)); pos != 3501*ms {
		t.Fatalf("after a backwards wall clock: pos %v, want 3.501s", pos)
	}
}

func TestFPSEstimatorFromPTS(t *testing.T) {
	var e fpsEstimator
	if _, ok := e.add(0); ok {
		t.Fatal("estimate from one picture")
	}
	fps, ok := e.add(100 * time.Millisecond)
	if !ok || fps != 10 {
		t.Fatalf("fps = %v %v, want 10", fps, ok)
	}
	for i := 2; i < 20; i++ {
		fps, ok = e.add(60*time.Millisecond + time.Duration(i)*40*time.Millisecond)
		if i >= fpsSamples && ok {
			t.Fatalf("picture %d still changes the estimate", i)
		}
	}
	if e.n != fpsSamples {
		t.Fatalf("samples = %d", e.n)
	}
}
