package video

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/internal/rtsptest"
)

func TestRTSPSourceDecodesCameraStreams(t *testing.T) {
	cases := []struct {
		name, codec, transport string
		udp                    bool
	}{
		{"h264-tcp", "h264", "tcp", false},
		{"h264-udp", "h264", "udp", true},
		{"h265-tcp", "h265", "tcp", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cam := startCamera(t, rtsptest.Options{UDP: tc.udp}, makeMedia(t, tc.codec, 10, 10))
			src, err := Open(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: tc.transport})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			live := src.(*RTSPSource)
			info := src.Info()
			if info.Width != 768 || info.Height != 576 || !info.Live || math.Abs(info.FPS-10) > 0.5 {
				t.Fatalf("info = %+v, want 768x576 live at ~10 fps", info)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			const n = 20
			var first, last Frame
			for i := 0; i < n; i++ {
				f, err := src.Next(ctx)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if f.Camera != "door" || f.Img.Cols() != 768 || f.Img.Rows() != 576 || f.Img.Channels() != 3 {
					t.Fatalf("frame %d: camera %q %dx%dx%d", i, f.Camera, f.Img.Cols(), f.Img.Rows(), f.Img.Channels())
				}
				if d := time.Since(f.Time); math.Abs(d.Seconds()) > 2 {
					t.Fatalf("frame %d: time %v is %v from the wall clock", i, f.Time, d)
				}
				if i > 0 && (f.Seq <= last.Seq || f.StreamTime <= last.StreamTime) {
					t.Fatalf("frame %d: seq %d at %v after seq %d at %v", i, f.Seq, f.StreamTime, last.Seq, last.StreamTime)
				}
				if i == 0 {
					first = f
				}
				last = f
				f.Release()
			}
			// Stream time comes from RTP timestamps, 100 ms apart at 10 fps,
			// not from when pictures happened to be decoded.
			span := last.StreamTime - first.StreamTime
			want := time.Duration(last.Seq-first.Seq) * 100 * time.Millisecond
			if d := span - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Fatalf("stream time span %v over seq %d..%d, want %v", span, first.Seq, last.Seq, want)
			}
			st := live.LiveStats()
			if st.Connects != 1 || st.Decoded < n || st.AccessUnits < st.Decoded || st.Packets < st.AccessUnits || !st.Online || st.LastFrame.IsZero() {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestRTSPSourceDropsOldestWhenConsumerIsSlow(t *testing.T) {
	cam := startCamera(t, rtsptest.Options{}, makeMedia(t, "h264", 10, 10))
	src, err := OpenRTSP(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seq0 := f.Seq
	f.Release()

	// A consumer busy for 1.5 s at 10 fps misses about 15 pictures; the
	// decoder keeps going and only the newest two wait.
	time.Sleep(1500 * time.Millisecond)
	a, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := src.LiveStats()
	a.Release()
	b.Release()
	if st.Dropped < 8 || a.Seq < seq0+10 || b.Seq != a.Seq+1 {
		t.Fatalf("after a stall: seq %d then %d, %d, stats %+v: want the newest pictures and drops counted", seq0, a.Seq, b.Seq, st)
	}
	// Seq counts every decoded picture, dropped ones included: everything
	// before a was either read (one frame) or dropped.
	if want := 1 + st.Dropped; a.Seq != want {
		t.Fatalf("seq %d with one frame read and %d dropped before it, want %d", a.Seq, st.Dropped, want)
	}
}

func TestRTSPSourceCredentials(t *testing.T) {
	const user, pass = "viewer", "Sh0p-p4ss"
	cam := startCamera(t, rtsptest.Options{User: user, Pass: pass}, makeMedia(t, "h264", 10, 10))

	src, err := OpenRTSP(context.Background(), Spec{Camera: "till", URL: cam.url(user + ":" + pass), Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	src.Close()

	const wrong = "guessed-wrong"
	start := time.Now()
	_, err = OpenRTSP(context.Background(), Spec{Camera: "till", URL: cam.url(user + ":" + wrong), Transport: "tcp"})
	if err == nil {
		t.Fatal("opened with a wrong password")
	}
	msg := err.Error()
	if strings.Contains(msg, wrong) || !strings.Contains(msg, "401") || !strings.Contains(msg, "till") ||
		!strings.Contains(msg, "rtsp://"+user+":xxxxx@"+cam.srv.Addr()+"/cam") {
		t.Fatalf("error %q: want camera, redacted URL and 401, never the password", msg)
	}
	// Wrong credentials will not fix themselves: no waiting for StartTimeout.
	if time.Since(start) > DefaultStartTimeout/2 {
		t.Fatalf("took %v to report wrong credentials", time.Since(start))
	}
}

func TestRTSPSourceReconnectsAfterServerRestart(t *testing.T) {
	cam := startCamera(t, rtsptest.Options{}, makeMedia(t, "h264", 10, 10))
	statuses := newStatusLog()
	src, err := OpenRTSP(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp", OnStatus: statuses.on})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := startPump(t, src)
	before := p.next(t, time.Time{}, 5*time.Second)

	opts := cam.srv.Options()
	cam.srv.Close()
	off := statuses.wait(t, false, 5*time.Second)
	if !strings.Contains(off.Reason, "connection lost") || off.Time.Before(before.received) || time.Since(off.Time) > 2*time.Second {
		t.Fatalf("offline status %+v, want connection lost at the last frame time", off)
	}
	srv, err := rtsptest.Start(opts)
	if err != nil {
		t.Fatalf("restart on the same ports: %v", err)
	}
	cam.srv = srv
	restarted := time.Now()

	after := p.next(t, restarted, 5*time.Second)
	statuses.wait(t, true, time.Second)
	if after.pos <= before.pos || after.seq <= before.seq || after.w != 768 || after.h != 576 {
		t.Fatalf("after restart: %+v, before: %+v", after, before)
	}
	if st := src.LiveStats(); st.Reconnects < 1 || st.Connects < 2 || !st.Online {
		t.Fatalf("stats = %+v", st)
	}
	t.Logf("frames again %v after the restart; reconnects %d", after.received.Sub(restarted), src.LiveStats().Reconnects)
}

func TestRTSPSourceStallGoesOfflineAndRecovers(t *testing.T) {
	cam := startCamera(t, rtsptest.Options{}, makeMedia(t, "h264", 10, 10))
	statuses := newStatusLog()
	src, err := OpenRTSP(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp", OnStatus: statuses.on})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := startPump(t, src)
	p.next(t, time.Time{}, 5*time.Second)

	cam.srv.Freeze(true)
	frozen := time.Now()
	off := statuses.wait(t, false, 10*time.Second)
	if off.Reason == "" || off.Time.After(frozen.Add(time.Second)) || off.Time.Before(frozen.Add(-time.Second)) {
		t.Fatalf("offline status %+v, want a reason and the last frame's time (frozen at %v)", off, frozen)
	}
	if src.LiveStats().Online {
		t.Fatal("stats still online")
	}

	cam.srv.Freeze(false)
	thawed := time.Now()
	statuses.wait(t, true, 15*time.Second)
	p.next(t, thawed, 5*time.Second)
	t.Logf("offline after %v (%s); frames again after %v", time.Since(frozen)-time.Since(thawed), off.Reason, time.Since(thawed))
}

func TestRTSPSourceWithholdsFramesOfAnotherSize(t *testing.T) {
	full := makeMedia(t, "h264", 10, 10)
	small := makeMediaSize(t, "h264", 640, 480, 10, 10)
	cam := startCamera(t, rtsptest.Options{}, full)
	statuses := newStatusLog()
	src, err := OpenRTSP(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp", OnStatus: statuses.on})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := startPump(t, src)
	p.next(t, time.Time{}, 5*time.Second)

	// The camera is reconfigured to 640x480: it drops its clients and comes
	// back with the new size.
	cam.republish(t, small)
	if off := statuses.wait(t, false, 5*time.Second); !strings.Contains(off.Reason, "connection lost") {
		t.Fatalf("first offline status %+v, want the connection loss", off)
	}
	resized := statuses.wait(t, false, 15*time.Second)
	if resized.Reason != "resolution changed from 768x576 to 640x480" {
		t.Fatalf("status %+v, want the resolution change", resized)
	}
	decoded := src.LiveStats().Decoded
	time.Sleep(time.Second)
	if src.LiveStats().Decoded <= decoded {
		t.Fatal("pictures of the new size are not being decoded")
	}
	// Everything delivered so far (before and during the change) is 768x576.
	p.checkSizes(t, 768, 576)

	// Back to the configured size: online again, frames flow.
	cam.republish(t, full)
	back := time.Now()
	statuses.wait(t, true, 15*time.Second)
	if m := p.next(t, back, 5*time.Second); m.w != 768 || m.h != 576 {
		t.Fatalf("frame %+v", m)
	}
	if info := src.Info(); info.Width != 768 || info.Height != 576 {
		t.Fatalf("info = %+v", info)
	}
}

func TestRTSPSourceSurvivesCorruptStream(t *testing.T) {
	cam := startCamera(t, rtsptest.Options{}, makeMedia(t, "h264", 10, 10))
	src, err := OpenRTSP(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := startPump(t, src)
	cam.srv.Corrupt(7)
	start := time.Now()
	for i := 0; i < 30; i++ {
		if m := p.next(t, start, 5*time.Second); m.w != 768 || m.h != 576 {
			t.Fatalf("frame %+v", m)
		}
	}
	st := src.LiveStats()
	if st.DecodeErrors == 0 || cam.srv.Stats().Corrupted == 0 {
		t.Fatalf("stats = %+v, relay corrupted %d packets: want decode errors", st, cam.srv.Stats().Corrupted)
	}
	t.Logf("decode errors %d, relay corrupted %d packets", st.DecodeErrors, cam.srv.Stats().Corrupted)
}

func TestRTSPSourceRejectsCameraWithoutH26x(t *testing.T) {
	// A camera that only offers Motion JPEG.
	mjpeg := filepath.Join(mediaDir(t), "vtest-mjpeg-320x240-3s.avi")
	if _, err := os.Stat(mjpeg); err != nil {
		tmp := mjpeg + ".tmp.avi"
		out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", vtest, "-t", "3",
			"-vf", "scale=320:240", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", "8", tmp).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, out)
		}
		if err := os.Rename(tmp, mjpeg); err != nil {
			t.Fatal(err)
		}
	}
	cam := startCamera(t, rtsptest.Options{}, mjpeg)
	start := time.Now()
	_, err := OpenRTSP(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp"})
	if err == nil || !strings.Contains(err.Error(), "JPEG") || !strings.Contains(err.Error(), "H.264") {
		t.Fatalf("err = %v, want one naming the offered codec and the wanted ones", err)
	}
	if time.Since(start) > DefaultStartTimeout/2 {
		t.Fatalf("took %v to reject the codec", time.Since(start))
	}
}
