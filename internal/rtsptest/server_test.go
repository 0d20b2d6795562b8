package rtsptest

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
)

// statusOf extracts the RTSP status code of a client error, 0 if none.
func statusOf(err error) base.StatusCode {
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		return bad.Code
	}
	return 0
}

// TestRelayCodecsAndTransports publishes H.264 and H.265 on two paths of one
// server and plays each over TCP and UDP.
func TestRelayCodecsAndTransports(t *testing.T) {
	s := startServer(t, Options{UDP: true})
	publish(t, s, "h264", "cam1", "tcp")
	publish(t, s, "h265", "cam2", "udp")

	type play struct {
		path  string
		proto gortsplib.Protocol
		h265  bool
		r     *reader
	}
	plays := []*play{
		{path: "cam1", proto: gortsplib.ProtocolTCP},
		{path: "cam1", proto: gortsplib.ProtocolUDP},
		{path: "cam2", proto: gortsplib.ProtocolTCP, h265: true},
		{path: "cam2", proto: gortsplib.ProtocolUDP, h265: true},
	}
	for _, p := range plays {
		p.r = mustDial(t, s.URL(p.path), p.proto)
		if p.r.video == nil {
			t.Fatalf("%s: no video media in SDP", p.path)
		}
		_, isH265 := p.r.video.Formats[0].(*format.H265)
		if isH265 != p.h265 {
			t.Fatalf("%s: format %T, want H.265 = %v", p.path, p.r.video.Formats[0], p.h265)
		}
	}
	for _, p := range plays {
		waitPackets(t, p.r, 100, 5*time.Second)
	}
	defer func() {
		for _, p := range plays {
			t.Logf("%s over %v: %d packets, %d lost", p.path, p.proto, p.r.packets.Load(), p.r.lost.Load())
		}
	}()
	st := s.Stats()
	if st.Publishers != 2 || st.Readers != 4 || st.Conns != 6 {
		t.Fatalf("stats %+v, want 2 publishers, 4 readers, 6 connections", st)
	}
	if st.PacketsIn < st.PacketsOut || st.PacketsOut == 0 || st.Delivered < 400 {
		t.Fatalf("stats %+v: packet counters inconsistent", st)
	}

	// The clip wraps every 2 s (30 frames). Over 45 frames a TCP reader has
	// crossed a loop boundary: every frame must still be exactly one frame
	// later than the one before, as from a camera.
	for _, p := range plays {
		if p.proto != gortsplib.ProtocolTCP {
			continue
		}
		if !waitFor(6*time.Second, func() bool { return len(p.r.stampsCopy()) >= 45 }) {
			t.Fatalf("%s: only %d frames in 6 s", p.path, len(p.r.stampsCopy()))
		}
		stamps := p.r.stampsCopy()
		for i := 1; i < len(stamps); i++ {
			if d := int32(stamps[i] - stamps[i-1]); d != frameTicks {
				t.Fatalf("%s: frame %d: RTP timestamp step %d, want %d", p.path, i, d, frameTicks)
			}
		}
	}
}

// TestFreeze stops media while connections stay up, then resumes it.
func TestFreeze(t *testing.T) {
	s := startServer(t, Options{})
	publish(t, s, "h264", "cam", "")
	r := mustDial(t, s.URL("cam"), gortsplib.ProtocolTCP)
	waitPackets(t, r, 20, 5*time.Second)

	s.Freeze(true)
	time.Sleep(200 * time.Millisecond) // packets already queued to the reader
	frozenAt := r.packets.Load()
	time.Sleep(2 * time.Second)
	if got := r.packets.Load(); got != frozenAt {
		t.Fatalf("frozen: reader got %d packets, want none", got-frozenAt)
	}
	select {
	case <-r.done:
		t.Fatalf("frozen: reader disconnected: %v", r.err)
	default:
	}
	st := s.Stats()
	if st.Dropped == 0 || st.Readers != 1 || st.Publishers != 1 || st.Conns != 2 {
		t.Fatalf("frozen: stats %+v, want drops and the session kept", st)
	}

	r.mu.Lock()
	r.capture = true
	stampsAt := len(r.stamps)
	r.mu.Unlock()
	s.Freeze(false)
	waitPackets(t, r, frozenAt+20, 5*time.Second)

	// Like an encoder that recovered: it starts again with a key frame,
	// sequence numbers carry on, timestamps jump by the time it was stuck.
	r.mu.Lock()
	first := r.captured
	stamps := r.stamps[stampsAt-1:]
	r.mu.Unlock()
	if !isKeyStart(codecH264, first) {
		t.Fatalf("resumed with NAL type %d, want a key frame", first[0]&0x1f)
	}
	if n := r.lost.Load(); n != 0 {
		t.Fatalf("reader saw %d packets lost across the freeze", n)
	}
	if jump := int32(stamps[1] - stamps[0]); jump < 2*90000 {
		t.Fatalf("RTP timestamp step across a 2 s freeze is %d ticks", jump)
	}
}

// TestCloseAndRestart crashes the server and starts it again on the same
// ports: the publisher reconnects by itself and new readers play.
func TestCloseAndRestart(t *testing.T) {
	s := startServer(t, Options{UDP: true})
	opts := s.Options()
	p := publish(t, s, "h264", "cam", "")
	r := mustDial(t, s.URL("cam"), gortsplib.ProtocolTCP)
	waitPackets(t, r, 20, 5*time.Second)

	s.Close()
	s.Close() // idempotent
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("reader still connected 5 s after Close")
	}
	if _, err := dial(s.URL("cam"), gortsplib.ProtocolTCP); err == nil {
		t.Fatal("play succeeded on a closed server")
	}

	t0 := time.Now()
	s2 := startServer(t, opts)
	if s2.Addr() != s.Addr() || s2.Options() != opts {
		t.Fatalf("restart moved: %s %+v, was %s %+v", s2.Addr(), s2.Options(), s.Addr(), opts)
	}
	var r2 *reader
	ok := waitFor(5*time.Second, func() bool {
		var err error
		r2, err = dial(s2.URL("cam"), gortsplib.ProtocolUDP)
		return err == nil
	})
	if !ok {
		t.Fatalf("no playable stream 5 s after restart (publisher: %v)", p.LastError())
	}
	t.Cleanup(r2.c.Close)
	waitPackets(t, r2, 20, 5*time.Second-time.Since(t0))
	t.Logf("playing again %s after restart; publisher restarts %d; lost before/after %d/%d",
		time.Since(t0).Round(time.Millisecond), p.Restarts(), r.lost.Load(), r2.lost.Load())
	if p.Restarts() < 1 {
		t.Fatalf("publisher restarts %d, want >= 1", p.Restarts())
	}
}

// TestCorrupt checks corruptNAL on real RTP payloads and that Corrupt
// garbles packets on the relay while the stream keeps flowing.
func TestCorrupt(t *testing.T) {
	for _, tc := range []struct {
		codec string
		nal   nalCodec
	}{{"h264", codecH264}, {"h265", codecH265}} {
		t.Run(tc.codec, func(t *testing.T) {
			t.Parallel() // mostly waiting for packets at 15 fps
			s := startServer(t, Options{})
			publish(t, s, tc.codec, "cam", "")
			r := mustDial(t, s.URL("cam"), gortsplib.ProtocolTCP)
			if !waitFor(5*time.Second, func() bool { return len(r.payloadsCopy()) >= 60 }) {
				t.Fatal("fewer than 60 video packets in 5 s")
			}
			if st := s.Stats(); st.Corrupted != 0 {
				t.Fatalf("Corrupted = %d before Corrupt", st.Corrupted)
			}
			checkCorruptNAL(t, tc.nal, r.payloadsCopy())

			s.Corrupt(10)
			if !waitFor(5*time.Second, func() bool { return s.Stats().Corrupted >= 4 }) {
				t.Fatalf("Corrupted = %d 5 s after Corrupt(10)", s.Stats().Corrupted)
			}
			n := r.packets.Load()
			waitPackets(t, r, n+30, 5*time.Second)
			s.Corrupt(0)
			c0 := s.Stats().Corrupted
			m := r.packets.Load()
			waitPackets(t, r, m+30, 5*time.Second)
			// One corruption may have been in flight when it was turned off.
			if c := s.Stats().Corrupted; c > c0+1 {
				t.Fatalf("Corrupted grew from %d to %d after Corrupt(0)", c0, c)
			}
		})
	}
}

func checkCorruptNAL(t *testing.T, codec nalCodec, payloads [][]byte) {
	t.Helper()
	var slices, others, truncated int
	for i, orig := range payloads {
		p := append([]byte(nil), orig...)
		hdr, isSlice := sliceHeaderLen(codec, orig)
		out, changed := corruptNAL(codec, p, uint64(i)*0x9e3779b97f4a7c15+1)
		if !isSlice || len(orig) <= hdr {
			others++
			if changed || !bytes.Equal(out, orig) {
				t.Fatalf("packet %d: non-slice payload changed", i)
			}
			continue
		}
		slices++
		if !changed {
			t.Fatalf("packet %d: slice payload not corrupted", i)
		}
		if !bytes.Equal(out[:hdr], orig[:hdr]) {
			t.Fatalf("packet %d: framing header changed: % x -> % x", i, orig[:hdr], out[:hdr])
		}
		switch body := len(orig) - hdr; len(out) {
		case len(orig):
		case hdr + body/2:
			truncated++
		default:
			t.Fatalf("packet %d: length %d -> %d", i, len(orig), len(out))
		}
		if bytes.Equal(out[hdr:], orig[hdr:len(out)]) {
			t.Fatalf("packet %d: no byte after the header changed", i)
		}
	}
	// With in-band parameter sets the stream has both kinds, and about a
	// quarter of the corruptions truncate.
	if slices < 30 || others == 0 || truncated == 0 || truncated == slices {
		t.Fatalf("%d slice packets (%d truncated), %d others", slices, truncated, others)
	}
}

// TestAuth requires credentials from readers but not from publishers.
func TestAuth(t *testing.T) {
	s := startServer(t, Options{User: "viewer", Pass: "s3cret"})
	publish(t, s, "h264", "cam", "")

	withCreds := func(user, pass string) string {
		u, _ := url.Parse(s.URL("cam"))
		u.User = url.UserPassword(user, pass)
		return u.String()
	}
	for _, tc := range []struct{ name, url string }{
		{"none", s.URL("cam")},
		{"wrong pass", withCreds("viewer", "guess")},
		{"wrong user", withCreds("admin", "s3cret")},
	} {
		_, err := dial(tc.url, gortsplib.ProtocolTCP)
		if statusOf(err) != base.StatusUnauthorized {
			t.Fatalf("%s: err %v, want 401", tc.name, err)
		}
	}
	r := mustDial(t, withCreds("viewer", "s3cret"), gortsplib.ProtocolTCP)
	waitPackets(t, r, 20, 5*time.Second)
}

// TestNotFoundAndPublisherGone checks 404 without a publisher and that
// readers are dropped when the publisher goes away.
func TestNotFoundAndPublisherGone(t *testing.T) {
	s := startServer(t, Options{})
	if _, err := dial(s.URL("cam"), gortsplib.ProtocolTCP); statusOf(err) != base.StatusNotFound {
		t.Fatalf("no publisher: err %v, want 404", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.WaitPublished(ctx, "cam"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitPublished without publisher: %v", err)
	}

	p := publish(t, s, "h264", "/cam/", "") // paths are normalised
	r := mustDial(t, s.URL("cam"), gortsplib.ProtocolTCP)
	waitPackets(t, r, 20, 5*time.Second)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("reader still connected 5 s after the publisher stopped")
	}
	if !waitFor(5*time.Second, func() bool {
		st := s.Stats()
		return st.Publishers == 0 && st.Readers == 0 && st.Conns == 0
	}) {
		t.Fatalf("stats %+v after publisher and reader left", s.Stats())
	}
	if _, err := dial(s.URL("cam"), gortsplib.ProtocolTCP); statusOf(err) != base.StatusNotFound {
		t.Fatalf("publisher gone: err %v, want 404", err)
	}
	s.Close()
	if err := s.WaitPublished(context.Background(), "cam"); err == nil {
		t.Fatal("WaitPublished on a closed server returned nil")
	}
}
