package video

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/avcodec"
	"github.com/storesight/storesight/internal/rtsptest"
)

// auLog collects access units without ever blocking the stream.
type auLog struct{ ch chan AccessUnit }

func newAULog() *auLog { return &auLog{ch: make(chan AccessUnit, 256)} }

func (l *auLog) on(au AccessUnit) {
	select {
	case l.ch <- au:
	default:
	}
}

func (l *auLog) next(t *testing.T, d time.Duration) AccessUnit {
	t.Helper()
	select {
	case au := <-l.ch:
		return au
	case <-time.After(d):
		t.Fatalf("no access unit within %v", d)
	}
	return AccessUnit{}
}

func TestRTSPStreamDeliversCodedPictures(t *testing.T) {
	cases := []struct {
		codec  string
		want   avcodec.Codec
		params []int // NAL unit types of the parameter sets, in order
	}{
		{"h264", avcodec.H264, []int{7, 8}},
		{"h265", avcodec.H265, []int{32, 33, 34}},
	}
	for _, tc := range cases {
		t.Run(tc.codec, func(t *testing.T) {
			cam := startCamera(t, rtsptest.Options{}, makeMedia(t, tc.codec, 10, 10))
			aus := newAULog()
			st, err := OpenRTSPStream(context.Background(), Spec{Camera: "door", URL: cam.url(""), Transport: "tcp"}, aus.on)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			const n = 25
			var first, prev AccessUnit
			keyframes := 0
			for i := 0; i < n; i++ {
				au := aus.next(t, 5*time.Second)
				if au.Codec != tc.want || len(au.NALUs) == 0 || au.Random != (i%10 == 0) {
					t.Fatalf("AU %d: codec %v, %d NAL units, random %v; want %v, a keyframe every 10 from the first",
						i, au.Codec, len(au.NALUs), au.Random, tc.want)
				}
				if len(au.Params) != len(tc.params) {
					t.Fatalf("AU %d: %d parameter sets, want %d", i, len(au.Params), len(tc.params))
				}
				for j, p := range au.Params {
					typ := int(p[0] & 0x1f)
					if tc.want == avcodec.H265 {
						typ = int(p[0]>>1) & 0x3f
					}
					if typ != tc.params[j] {
						t.Fatalf("AU %d: parameter set %d has NAL type %d, want %v in order", i, j, typ, tc.params)
					}
				}
				if d := time.Since(au.Time); math.Abs(d.Seconds()) > 2 {
					t.Fatalf("AU %d: time %v is %v from the wall clock", i, au.Time, d)
				}
				if i > 0 {
					// RTP timestamps of a 10 fps camera, not arrival times.
					if d := au.PTS - prev.PTS; d < 95*time.Millisecond || d > 105*time.Millisecond {
						t.Fatalf("AU %d: PTS step %v, want 100ms", i, d)
					}
					if d := au.Time.Sub(prev.Time); d < 95*time.Millisecond || d > 105*time.Millisecond {
						t.Fatalf("AU %d: time step %v, want 100ms", i, d)
					}
					if au.StreamTime <= prev.StreamTime {
						t.Fatalf("AU %d: stream time %v after %v", i, au.StreamTime, prev.StreamTime)
					}
				} else {
					first = au
				}
				if au.Random {
					keyframes++
				}
				prev = au
			}
			if keyframes != 3 || first.NALUs[0] == nil {
				t.Fatalf("%d keyframes in %d AUs", keyframes, n)
			}
			ls := st.LiveStats()
			if ls.Connects != 1 || ls.AccessUnits < n || ls.Packets < ls.AccessUnits || !ls.Online ||
				ls.Decoded != 0 || ls.DecodeTime != 0 || ls.LastFrame.IsZero() {
				t.Fatalf("stats %+v", ls)
			}
		})
	}
}

func TestRTSPStreamOpening(t *testing.T) {
	const user, pass, wrong = "viewer", "Sh0p-p4ss", "guessed-wrong"
	media := makeMedia(t, "h264", 10, 10)
	cam := startCamera(t, rtsptest.Options{User: user, Pass: pass}, media)

	// Wrong credentials fail at once, without the password.
	start := time.Now()
	_, err := OpenRTSPStream(context.Background(), Spec{Camera: "till", URL: cam.url(user + ":" + wrong), Transport: "tcp"}, func(AccessUnit) {})
	if err == nil || strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), "401") ||
		!strings.Contains(err.Error(), "rtsp://"+user+":xxxxx@"+cam.srv.Addr()+"/cam") {
		t.Fatalf("err = %v, want 401 with the redacted URL", err)
	}
	if time.Since(start) > DefaultStartTimeout/2 {
		t.Fatalf("took %v to report wrong credentials", time.Since(start))
	}

	// A camera that is down is opened offline and recorded once it is back.
	opts := cam.srv.Options()
	cam.pub.Stop()
	cam.srv.Close()
	statuses := newStatusLog()
	aus := newAULog()
	start = time.Now()
	st, err := OpenRTSPStream(context.Background(), Spec{Camera: "till", URL: cam.url(user + ":" + pass), Transport: "tcp", OnStatus: statuses.on}, aus.on)
	if err != nil {
		t.Fatalf("camera down at start: %v", err)
	}
	defer st.Close()
	off := statuses.wait(t, false, time.Second)
	if time.Since(start) > 2*time.Second || !strings.Contains(off.Reason, "connect") || strings.Contains(off.Reason, pass) {
		t.Fatalf("opened after %v, status %+v: want offline at once, with a reason and no password", time.Since(start), off)
	}
	srv, err := rtsptest.Start(opts)
	if err != nil {
		t.Fatalf("restart on the same port: %v", err)
	}
	cam.srv = srv
	pub, err := rtsptest.Publish(context.Background(), rtsptest.PublishOptions{File: media, URL: srv.URL("cam"), Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	cam.pub = pub
	if au := aus.next(t, 15*time.Second); !au.Random {
		t.Fatal("first access unit after the camera came back is not random access")
	}
	statuses.wait(t, true, time.Second)
	if ls := st.LiveStats(); ls.Reconnects < 1 || ls.Connects != 1 || !ls.Online {
		t.Fatalf("stats %+v", ls)
	}
}
