package video

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRedactURLHidesPasswords(t *testing.T) {
	cases := []struct{ in, want string }{
		{"rtsp://admin:s3cret@10.0.0.5:554/Streaming/101", "rtsp://admin:xxxxx@10.0.0.5:554/Streaming/101"},
		{"rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"},
		{"rtsp://admin@10.0.0.5/live", "rtsp://admin@10.0.0.5/live"},
		{"rtsps://u:p%40ss@cam/x", "rtsps://u:xxxxx@cam/x"},
		// Unescaped '/' in the password: url.Parse fails or mis-splits.
		{"rtsp://u:pa/ss@cam/x", "rtsp://xxxxx@cam/x"},
		{"rtsp://u:12/ss@cam/x", "rtsp://xxxxx@cam/x"},
		{"/var/video/a.mp4", "/var/video/a.mp4"},
	}
	for _, c := range cases {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestScrubberRemovesPasswordFromErrors(t *testing.T) {
	raw := "rtsp://admin:top%2Fsecret@127.0.0.1:1/x"
	s := newScrubber(raw)
	inner := errors.New(`dial ` + raw + `: password top/secret and top%2Fsecret rejected`)
	err := s.err(inner)
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("scrubbed error still has the password: %v", err)
	}
	if !strings.Contains(err.Error(), "rtsp://admin:xxxxx@127.0.0.1:1/x") {
		t.Fatalf("scrubbed error lost the redacted URL: %v", err)
	}
	if !errors.Is(err, inner) {
		t.Fatal("scrubbed error does not wrap the original")
	}
}

func TestOpenRejectsBadRTSPURLsWithoutLeakingPassword(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{"rtsp://u:pa/ss@cam:bad/x", "rtsp://u:pa%zzss@cam/x", "RTSP://u:pa/ss@cam/x"} {
		_, err := Open(ctx, Spec{Camera: "door", URL: raw})
		if err == nil {
			t.Fatalf("%s: opened", raw)
		}
		if strings.Contains(err.Error(), "pa") || !strings.Contains(err.Error(), "door") {
			t.Fatalf("%s: error %q leaks the password or lacks the camera", raw, err)
		}
	}
	_, err := OpenRTSP(ctx, Spec{Camera: "door", URL: "rtsp://127.0.0.1:1/x", Transport: "quic"})
	if err == nil || !strings.Contains(err.Error(), "quic") {
		t.Fatalf("bad transport: %v", err)
	}
}

func TestOpenRTSPRefusedFailsWithLastErrorAfterStartTimeout(t *testing.T) {
	var statuses []Status
	start := time.Now()
	// Port 1 on loopback refuses connections.
	_, err := OpenRTSP(context.Background(), Spec{
		Camera: "door", URL: "rtsp://admin:hunter22@127.0.0.1:1/live",
		StartTimeout: 1500 * time.Millisecond,
		OnStatus:     func(s Status) { statuses = append(statuses, s) },
	})
	if err == nil {
		t.Fatal("opened a refused camera")
	}
	msg := err.Error()
	if strings.Contains(msg, "hunter22") || !strings.Contains(msg, "door") ||
		!strings.Contains(msg, "rtsp://admin:xxxxx@127.0.0.1:1/live") || !strings.Contains(msg, "refused") {
		t.Fatalf("error %q: want camera, redacted URL and last error, no password", msg)
	}
	if time.Since(start) < 1500*time.Millisecond {
		t.Fatalf("gave up after %v, before StartTimeout", time.Since(start))
	}
	if len(statuses) != 1 || statuses[0].Online || strings.Contains(statuses[0].Reason, "hunter22") {
		t.Fatalf("statuses = %+v, want one offline without password", statuses)
	}
}

func TestOpenRTSPWithExpectedSizeStartsOffline(t *testing.T) {
	statuses := make(chan Status, 8)
	src, err := OpenRTSP(context.Background(), Spec{
		Camera: "door", URL: "rtsp://127.0.0.1:1/live", Width: 640, Height: 480,
		OnStatus: func(s Status) { statuses <- s },
	})
	if err != nil {
		t.Fatal(err)
	}
	info := src.Info()
	if info.Width != 640 || info.Height != 480 || !info.Live {
		t.Fatalf("info = %+v", info)
	}
	select {
	case st := <-statuses:
		if st.Online || !strings.Contains(st.Reason, "connect") {
			t.Fatalf("status = %+v, want offline on connect", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no offline status")
	}
	// It keeps reconnecting in the background.
	deadline := time.Now().Add(5 * time.Second)
	for src.LiveStats().Reconnects < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v, want reconnect attempts", src.LiveStats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on an offline camera = %v, want the context's error", err)
	}
	src.Close()
	if _, err := src.Next(context.Background()); err == nil {
		t.Fatal("Next after Close succeeded")
	}
	src.Close()
}
