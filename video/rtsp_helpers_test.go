package video

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/internal/rtsptest"
)

// Test media: vtest.avi re-encoded like a camera stream (no B-frames,
// in-band parameter sets), cached across runs.
func mediaDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "storesight-media")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func makeMedia(t testing.TB, codec string, fps float64, gop int) string {
	t.Helper()
	return makeMediaSize(t, codec, 768, 576, fps, gop)
}

func makeMediaSize(t testing.TB, codec string, w, h int, fps float64, gop int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	file, err := rtsptest.MakeMedia(ctx, rtsptest.MediaOptions{
		Source: vtest, Codec: codec, Width: w, Height: h, FPS: fps, GOP: gop,
		Duration: 10 * time.Second, Dir: mediaDir(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// testCamera is a relay server with an ffmpeg publisher on path "cam",
// which is what an IP camera looks like to the source.
type testCamera struct {
	srv *rtsptest.Server
	pub *rtsptest.Publisher
}

func startCamera(t *testing.T, opts rtsptest.Options, media string) *testCamera {
	t.Helper()
	srv, err := rtsptest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCamera{srv: srv}
	t.Cleanup(func() { c.srv.Close() })
	pub, err := rtsptest.Publish(context.Background(), rtsptest.PublishOptions{File: media, URL: srv.URL("cam"), Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	c.pub = pub
	t.Cleanup(func() { c.pub.Stop() })
	c.waitPublished(t)
	return c
}

// republish replaces the camera's publisher, as a camera reconfigured to
// another stream would.
func (c *testCamera) republish(t *testing.T, media string) {
	t.Helper()
	if err := c.pub.Stop(); err != nil {
		t.Logf("publisher stop: %v", err)
	}
	pub, err := rtsptest.Publish(context.Background(), rtsptest.PublishOptions{File: media, URL: c.srv.URL("cam"), Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	c.pub = pub
}

func (c *testCamera) waitPublished(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.srv.WaitPublished(ctx, "cam"); err != nil {
		t.Fatalf("publisher not up: %v (ffmpeg: %v)", err, c.pub.LastError())
	}
}

// url is the camera URL, with userinfo when given.
func (c *testCamera) url(userinfo string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "rtsp://" + userinfo + c.srv.Addr() + "/cam"
}

// statusLog collects OnStatus calls without ever blocking the source.
type statusLog struct{ ch chan Status }

func newStatusLog() *statusLog { return &statusLog{ch: make(chan Status, 64)} }

func (l *statusLog) on(s Status) {
	select {
	case l.ch <- s:
	default:
	}
}

// wait returns the next status, which must have the given Online value and
// arrive within d.
func (l *statusLog) wait(t *testing.T, online bool, d time.Duration) Status {
	t.Helper()
	select {
	case s := <-l.ch:
		if s.Online != online {
			t.Fatalf("status %+v, want online=%v", s, online)
		}
		return s
	case <-time.After(d):
		t.Fatalf("no status online=%v within %v", online, d)
	}
	return Status{}
}

// frameMeta is what tests keep of a frame after releasing its pixels.
type frameMeta struct {
	seq            int64
	pos            time.Duration
	wall, received time.Time
	w, h           int
}

// pump reads a source in the background like a camera goroutine, checking
// that Seq and StreamTime only grow, and forwards frame metadata.
type pump struct {
	frames chan frameMeta
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startPump(t *testing.T, src Source) *pump {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pump{frames: make(chan frameMeta, 4096), cancel: cancel}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		lastSeq, lastPos := int64(-1), time.Duration(-1)
		for {
			f, err := src.Next(ctx)
			if err != nil {
				return
			}
			if f.Seq <= lastSeq || f.StreamTime <= lastPos {
				t.Errorf("frame seq %d at %v after seq %d at %v", f.Seq, f.StreamTime, lastSeq, lastPos)
			}
			lastSeq, lastPos = f.Seq, f.StreamTime
			m := frameMeta{seq: f.Seq, pos: f.StreamTime, wall: f.Time, received: f.Received, w: f.Img.Cols(), h: f.Img.Rows()}
			f.Release()
			select {
			case p.frames <- m:
			default:
			}
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *pump) stop() {
	p.cancel()
	p.wg.Wait()
}

// next returns the next frame received after 'after', waiting at most d.
func (p *pump) next(t *testing.T, after time.Time, d time.Duration) frameMeta {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-p.frames:
			if m.received.After(after) {
				return m
			}
		case <-timeout:
			t.Fatalf("no frame within %v", d)
		}
	}
}

// checkSizes takes every queued frame and fails on one not w x h.
func (p *pump) checkSizes(t *testing.T, w, h int) {
	t.Helper()
	for {
		select {
		case m := <-p.frames:
			if m.w != w || m.h != h {
				t.Fatalf("delivered a %dx%d frame, want %dx%d", m.w, m.h, w, h)
			}
		default:
			return
		}
	}
}
