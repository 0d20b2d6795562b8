package rtsptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// Test media: 2 s of vtest.avi at 640x360, 15 fps, 1 s GOP. Short so encoding
// is cheap and publishers wrap the loop every 2 s.
const (
	testFPS      = 15
	testDuration = 2 * time.Second
	frameTicks   = 90000 / testFPS // RTP video clock ticks per frame
)

var (
	mediaDir   string
	mediaMu    sync.Mutex
	mediaFiles = map[string]string{}
)

func TestMain(m *testing.M) {
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			fmt.Fprintf(os.Stderr, "rtsptest tests need %s: %v\n", bin, err)
			os.Exit(1)
		}
	}
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelperProcess())
	}
	dir, err := os.MkdirTemp("", "rtsptest-media-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mediaDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testMediaOptions(codec string) MediaOptions {
	return MediaOptions{Codec: codec, Width: 640, Height: 360, FPS: testFPS,
		Duration: testDuration, Dir: mediaDir}
}

// testMedia encodes the test clip for codec once per test binary.
func testMedia(t *testing.T, codec string) string {
	t.Helper()
	mediaMu.Lock()
	defer mediaMu.Unlock()
	if f, ok := mediaFiles[codec]; ok {
		return f
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f, err := MakeMedia(ctx, testMediaOptions(codec))
	if err != nil {
		t.Fatalf("MakeMedia %s: %v", codec, err)
	}
	mediaFiles[codec] = f
	return f
}

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// publish starts a Publisher of codec's test clip on path and waits until
// the server has it.
func publish(t *testing.T, s *Server, codec, path, transport string) *Publisher {
	t.Helper()
	p, err := Publish(context.Background(), PublishOptions{
		File: testMedia(t, codec), URL: s.URL(path), Transport: transport})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	t.Cleanup(func() { p.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitPublished(ctx, path); err != nil {
		t.Fatalf("%v (ffmpeg: %v)", err, p.LastError())
	}
	return p
}

// reader is a real gortsplib client playing one path.
type reader struct {
	c       *gortsplib.Client
	video   *description.Media
	packets atomic.Int64
	lost    atomic.Int64  // RTP packets the client saw missing
	done    chan struct{} // closed when the client stops, err set
	err     error

	mu       sync.Mutex
	stamps   []uint32 // distinct video RTP timestamps, in arrival order
	payloads [][]byte // copies of the first video payloads
	capture  bool     // copy the next video payload into captured
	captured []byte
}

const (
	keepStamps   = 2000
	keepPayloads = 300
)

// dial connects, describes, sets up all medias and plays. rawURL may carry
// credentials.
func dial(rawURL string, proto gortsplib.Protocol) (*reader, error) {
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	r := &reader{done: make(chan struct{})}
	r.c = &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &proto,
		OnPacketsLost: func(n uint64) { r.lost.Add(int64(n)) },
		OnDecodeError: func(error) {}}
	if err := r.c.Start(); err != nil {
		return nil, err
	}
	desc, _, err := r.c.Describe(u)
	if err != nil {
		r.c.Close()
		return nil, err
	}
	r.video, _ = findVideo(desc)
	if err := r.c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		r.c.Close()
		return nil, err
	}
	r.c.OnPacketRTPAny(func(m *description.Media, _ format.Format, pkt *rtp.Packet) {
		r.packets.Add(1)
		if m != r.video {
			return
		}
		r.mu.Lock()
		if n := len(r.stamps); n < keepStamps && (n == 0 || r.stamps[n-1] != pkt.Timestamp) {
			r.stamps = append(r.stamps, pkt.Timestamp)
		}
		if r.capture {
			r.captured = append([]byte(nil), pkt.Payload...)
			r.capture = false
		}
		if len(r.payloads) < keepPayloads {
			r.payloads = append(r.payloads, append([]byte(nil), pkt.Payload...))
		}
		r.mu.Unlock()
	})
	if _, err := r.c.Play(nil); err != nil {
		r.c.Close()
		return nil, err
	}
	go func() {
		r.err = r.c.Wait()
		close(r.done)
	}()
	return r, nil
}

func mustDial(t *testing.T, rawURL string, proto gortsplib.Protocol) *reader {
	t.Helper()
	r, err := dial(rawURL, proto)
	if err != nil {
		t.Fatalf("play %s: %v", rawURL, err)
	}
	t.Cleanup(r.c.Close)
	return r
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitPackets(t *testing.T, r *reader, n int64, timeout time.Duration) {
	t.Helper()
	if !waitFor(timeout, func() bool { return r.packets.Load() >= n }) {
		t.Fatalf("reader got %d RTP packets in %s, want >= %d", r.packets.Load(), timeout, n)
	}
}

func (r *reader) stampsCopy() []uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint32(nil), r.stamps...)
}

func (r *reader) payloadsCopy() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]byte, len(r.payloads))
	for i, p := range r.payloads {
		out[i] = append([]byte(nil), p...)
	}
	return out
}
