package evidence

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/internal/rtsptest"
	"github.com/storesight/storesight/video"
)

// Test media: 10 s of vtest.avi at its own 10 fps with a 1 s GOP, so every
// picture of a loop is a distinct source frame and a snapshot can be told
// apart from its neighbours.
const (
	testFPS   = 10
	testGOP   = 10
	testLoop  = 100 // pictures per loop of the media
	frameStep = time.Second / testFPS
)

func TestMain(m *testing.M) {
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			fmt.Fprintf(os.Stderr, "evidence tests need %s: %v\n", bin, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func mediaDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "storesight-media")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// media encodes vtest like a camera stream (cached across runs).
func media(t testing.TB, codec string, w, h int, fps float64, gop int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	file, err := rtsptest.MakeMedia(ctx, rtsptest.MediaOptions{
		Codec: codec, Width: w, Height: h, FPS: fps, GOP: gop,
		Duration: 10 * time.Second, Dir: mediaDir(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// sdpOnlyMedia is 1280x720 H.264 whose SPS and PPS live only in the MP4
// header: ffmpeg then announces them in the SDP (sprop-parameter-sets) and
// never sends them in band, as some cameras do.
func sdpOnlyMedia(t testing.TB) string {
	t.Helper()
	out := filepath.Join(mediaDir(t), "vtest-h264-1280x720-10fps-g10-10s-sdponly.mp4")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := out + ".tmp.mp4"
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-i", rtsptest.DefaultSource, "-t", "10", "-an", "-vf", "scale=1280:720,fps=10",
		"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0",
		"-g", "10", "-keyint_min", "10", "-sc_threshold", "0", "-f", "mp4", tmp)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// camera is a relay with one ffmpeg publisher per path, as a camera with a
// main and a detect stream looks to a reader.
type camera struct {
	srv  *rtsptest.Server
	pubs []*rtsptest.Publisher
}

func startCamera(t testing.TB, paths map[string]string) *camera {
	t.Helper()
	srv, err := rtsptest.Start(rtsptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &camera{srv: srv}
	t.Cleanup(func() { c.srv.Close() })
	for path, file := range paths {
		pub, err := rtsptest.Publish(context.Background(), rtsptest.PublishOptions{File: file, URL: srv.URL(path), Loop: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pub.Stop() })
		c.pubs = append(c.pubs, pub)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for path := range paths {
		if err := srv.WaitPublished(ctx, path); err != nil {
			t.Fatalf("publisher on %s not up: %v", path, err)
		}
	}
	return c
}

// record starts a recorder of path on cam.
func record(t *testing.T, cam *camera, path string, opts Options, onStatus func(video.Status)) *Recorder {
	t.Helper()
	rec := NewRecorder(video.Spec{Camera: "door", URL: cam.srv.URL(path), Transport: "tcp", OnStatus: onStatus}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := rec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reference holds every picture of a media file decoded by the ffmpeg
// command (another decoder than the one under test), shrunk for matching.
type reference struct {
	frames []gocv.Mat
}

const refW, refH = 160, 90

func decodeReference(t *testing.T, file string, w, h int) *reference {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", file,
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ref := &reference{}
	t.Cleanup(func() {
		for _, m := range ref.frames {
			m.Close()
		}
	})
	buf := make([]byte, w*h*3)
	for {
		if _, err := io.ReadFull(out, buf); err != nil {
			break
		}
		full, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, buf)
		if err != nil {
			t.Fatal(err)
		}
		ref.frames = append(ref.frames, shrink(full))
		full.Close()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg decode %s: %v: %s", file, err, stderr.String())
	}
	return ref
}

func shrink(m gocv.Mat) gocv.Mat {
	s := gocv.NewMat()
	gocv.Resize(m, &s, image.Pt(refW, refH), 0, 0, gocv.InterpolationArea)
	return s
}

// match returns the reference picture most like img, how unlike it is
// (mean absolute difference per channel, 0-255) and the runner-up's
// difference.
func (r *reference) match(t *testing.T, img gocv.Mat) (idx int, best, second float64) {
	t.Helper()
	s := shrink(img)
	defer s.Close()
	best, second = math.Inf(1), math.Inf(1)
	for i, f := range r.frames {
		d := mad(s, f)
		switch {
		case d < best:
			second, best, idx = best, d, i
		case d < second:
			second = d
		}
	}
	return idx, best, second
}

// mad is the mean absolute difference of two equally sized BGR pictures.
func mad(a, b gocv.Mat) float64 {
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(a, b, &d)
	m := d.Mean()
	return (m.Val1 + m.Val2 + m.Val3) / 3
}

// ffprobe counts the pictures of a clip by decoding it, and reports its
// codec and size.
func ffprobe(t *testing.T, file string) (frames int, codec string, w, h int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", file, err, out)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 4 {
		t.Fatalf("ffprobe %s: %q", file, out)
	}
	w, _ = strconv.Atoi(f[1])
	h, _ = strconv.Atoi(f[2])
	frames, err = strconv.Atoi(f[3])
	if err != nil {
		t.Fatalf("ffprobe %s: %q", file, out)
	}
	return frames, f[0], w, h
}

// statusLog collects OnStatus calls without ever blocking the stream.
type statusLog struct{ ch chan video.Status }

func newStatusLog() *statusLog { return &statusLog{ch: make(chan video.Status, 64)} }

func (l *statusLog) on(s video.Status) {
	select {
	case l.ch <- s:
	default:
	}
}

func (l *statusLog) wait(t *testing.T, online bool, d time.Duration) video.Status {
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
	return video.Status{}
}

// capture records access units of a stream for replaying into buffers.
type capture struct {
	mu  sync.Mutex
	aus []video.AccessUnit
}

func (c *capture) add(au video.AccessUnit) {
	c.mu.Lock()
	c.aus = append(c.aus, au)
	c.mu.Unlock()
}

func (c *capture) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.aus)
}

func (c *capture) all() []video.AccessUnit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]video.AccessUnit(nil), c.aus...)
}
