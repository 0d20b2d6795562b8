package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
)

// Defaults for live sources.
const (
	DefaultStallTimeout = 5 * time.Second
	DefaultStartTimeout = 10 * time.Second
)

// rtspQueue is how many decoded pictures wait for Next. Two keeps latency at
// most two frames while letting the consumer finish one picture as the next
// one decodes.
const rtspQueue = 2

// RTSPSource reads a live RTSP camera (H.264 or H.265). One goroutine owns
// the connection: it connects, decodes every access unit, reconnects with
// backoff and watches for stalls; Next only takes decoded pictures from a
// queue of two, and when the consumer is slow the oldest picture is dropped
// so the decoder never waits.
type RTSPSource struct {
	spec     Spec
	log      *slog.Logger
	url      *base.URL // with credentials; never logged
	scrub    scrubber
	protocol *gortsplib.Protocol
	pool     *MatPool

	frames chan Frame
	closed chan struct{}
	cancel context.CancelFunc
	done   chan struct{} // reader goroutine finished
	once   sync.Once

	// startup hand-off to OpenRTSP
	firstPicture chan struct{} // closed at the first delivered picture
	fpsKnown     chan struct{} // closed once Info.FPS is set
	attempt      chan error    // each failed connection before the first picture (non-blocking)

	packets, accessUnits, decoded, decodeErrors, dropped, connects, reconnects atomic.Int64
	decodeNanos                                                                atomic.Int64

	mu        sync.Mutex
	info      Info
	sizeKnown bool
	state     liveState
	reason    string // why offline
	lastFrame time.Time
	lastErr   error
}

var _ LiveSource = (*RTSPSource)(nil)

type liveState int

const (
	stateStarting liveState = iota
	stateOnline
	stateOffline
)

// OpenRTSP connects to an rtsp:// or rtsps:// camera and waits up to
// spec.StartTimeout for its first picture, which gives Info its size. A
// camera that sends none fails with an error naming the camera, the
// redacted URL and the last connection error, unless spec.Width and
// spec.Height are set: then the source is returned offline (after the first
// failed attempt at the latest) and keeps reconnecting in the background.
// ctx bounds only the opening; the source lives until Close.
func OpenRTSP(ctx context.Context, spec Spec) (*RTSPSource, error) {
	scrub := newScrubber(spec.URL)
	redacted := RedactURL(spec.URL)
	u, err := base.ParseURL(spec.URL)
	if err != nil {
		// The parse error quotes fragments of the URL (e.g. a bad "port" that
		// is really part of a password), so it is not passed on.
		return nil, fmt.Errorf("camera %s: invalid rtsp URL %s", spec.Camera, redacted)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return nil, fmt.Errorf("camera %s: %s: not an rtsp:// or rtsps:// URL", spec.Camera, redacted)
	}
	var proto *gortsplib.Protocol
	switch strings.ToLower(spec.Transport) {
	case "", "auto":
	case "tcp":
		p := gortsplib.ProtocolTCP
		proto = &p
	case "udp":
		p := gortsplib.ProtocolUDP
		proto = &p
	default:
		return nil, fmt.Errorf("camera %s: unknown rtsp transport %q (want tcp, udp or empty)", spec.Camera, spec.Transport)
	}
	if spec.StallTimeout <= 0 {
		spec.StallTimeout = DefaultStallTimeout
	}
	if spec.StartTimeout <= 0 {
		spec.StartTimeout = DefaultStartTimeout
	}
	log := spec.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("camera", spec.Camera, "url", redacted)

	s := &RTSPSource{
		spec:         spec,
		log:          log,
		url:          u,
		scrub:        scrub,
		protocol:     proto,
		pool:         NewMatPool(8),
		frames:       make(chan Frame, rtspQueue),
		closed:       make(chan struct{}),
		done:         make(chan struct{}),
		firstPicture: make(chan struct{}),
		fpsKnown:     make(chan struct{}),
		attempt:      make(chan error, 1),
		info:         Info{Live: true},
	}
	expectSize := spec.Width > 0 && spec.Height > 0
	if expectSize {
		s.info.Width, s.info.Height = spec.Width, spec.Height
		s.sizeKnown = true
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	r := newRTSPReader(s, time.Now())
	go r.run(runCtx)

	timer := time.NewTimer(spec.StartTimeout)
	defer timer.Stop()
	for {
		select {
		case <-s.firstPicture:
			s.waitFPS(ctx, timer.C)
			return s, nil
		case err := <-s.attempt:
			if expectSize {
				return s, nil
			}
			if isPermanent(err) {
				s.Close()
				return nil, fmt.Errorf("camera %s: rtsp %s: %w", spec.Camera, redacted, err)
			}
		case <-timer.C:
			if expectSize {
				return s, nil
			}
			lastErr := s.lastError()
			s.Close()
			if lastErr == nil {
				lastErr = errors.New("connected but no decodable picture")
			}
			return nil, fmt.Errorf("camera %s: rtsp %s: no picture within %v: %w", spec.Camera, redacted, spec.StartTimeout, lastErr)
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("camera %s: rtsp %s: open: %w", spec.Camera, redacted, ctx.Err())
		}
	}
}

// waitFPS gives a stream whose SPS has no timing info one more picture
// (at most a second) so Info.FPS can be estimated from presentation times.
func (s *RTSPSource) waitFPS(ctx context.Context, deadline <-chan time.Time) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-s.fpsKnown:
	case <-t.C:
	case <-deadline:
	case <-ctx.Done():
	}
}

// Info describes the stream. FPS comes from the SPS timing info or, when
// the camera sends none, from the first pictures' timestamps, so it may be
// 0 right after open and filled in a moment later.
func (s *RTSPSource) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Next blocks for the next decoded picture. It returns an error after Close
// or when ctx ends; a camera that is offline simply yields nothing until it
// is back.
func (s *RTSPSource) Next(ctx context.Context) (Frame, error) {
	select {
	case <-s.closed:
		return Frame{}, fmt.Errorf("camera %s: source closed", s.spec.Camera)
	default:
	}
	select {
	case f := <-s.frames:
		return f, nil
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	case <-s.closed:
		return Frame{}, fmt.Errorf("camera %s: source closed", s.spec.Camera)
	}
}

// LiveStats returns the source's counters.
func (s *RTSPSource) LiveStats() LiveStats {
	s.mu.Lock()
	online, last := s.state == stateOnline, s.lastFrame
	s.mu.Unlock()
	return LiveStats{
		Packets:      s.packets.Load(),
		AccessUnits:  s.accessUnits.Load(),
		Decoded:      s.decoded.Load(),
		DecodeErrors: s.decodeErrors.Load(),
		Dropped:      s.dropped.Load(),
		Connects:     s.connects.Load(),
		Reconnects:   s.reconnects.Load(),
		Online:       online,
		LastFrame:    last,
		DecodeTime:   time.Duration(s.decodeNanos.Load()),
	}
}

// Close stops the reader, waits for it (which closes the connection and the
// decoder) and frees queued pictures. It is safe to call twice.
func (s *RTSPSource) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.cancel()
		<-s.done
		for {
			select {
			case f := <-s.frames:
				f.Release()
				continue
			default:
			}
			break
		}
		s.pool.Close()
	})
	return nil
}

// deliver queues a decoded picture, dropping the oldest queued one when
// the consumer is behind. Only the reader goroutine calls it.
func (s *RTSPSource) deliver(f Frame) {
	select {
	case s.frames <- f:
		return
	default:
	}
	select {
	case old := <-s.frames:
		old.Release()
		s.dropped.Add(1)
	default:
	}
	select {
	case s.frames <- f:
	default: // unreachable with one producer; never block the decoder
		f.Release()
		s.dropped.Add(1)
	}
}

// setOnline records a delivered picture and reports the camera back online
// if it was offline.
func (s *RTSPSource) setOnline(at time.Time) {
	s.mu.Lock()
	prev := s.state
	s.state, s.reason = stateOnline, ""
	s.lastFrame = at
	s.mu.Unlock()
	if prev == stateOffline {
		s.log.Info("rtsp camera online")
		s.status(Status{Camera: s.spec.Camera, Online: true, Time: at})
	}
}

// setOffline reports the camera offline once per outage. A sticky reason
// (a changed resolution, which needs a person to act) is reported even
// during an outage, once, and is not replaced by later connection errors.
func (s *RTSPSource) setOffline(reason string, sticky bool) {
	s.mu.Lock()
	prev, prevReason := s.state, s.reason
	at := s.lastFrame
	if prev == stateOffline && (!sticky || reason == prevReason) {
		s.mu.Unlock()
		return
	}
	s.state, s.reason = stateOffline, reason
	s.mu.Unlock()
	if at.IsZero() {
		at = time.Now()
	}
	s.log.Warn("rtsp camera offline", "reason", reason)
	s.status(Status{Camera: s.spec.Camera, Online: false, Time: at, Reason: reason})
}

func (s *RTSPSource) status(st Status) {
	if s.spec.OnStatus != nil {
		s.spec.OnStatus(st)
	}
}

func (s *RTSPSource) setLastError(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
}

func (s *RTSPSource) lastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}
