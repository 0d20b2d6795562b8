package video

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
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
	r    *rtspReader
	spec Spec
	pool *MatPool

	frames chan Frame
	closed chan struct{}
	cancel context.CancelFunc
	once   sync.Once

	fpsKnown chan struct{} // closed once Info.FPS is set

	decoded, dropped, decodeNanos atomic.Int64

	mu        sync.Mutex
	info      Info
	sizeKnown bool
}

var _ LiveSource = (*RTSPSource)(nil)

// OpenRTSP connects to an rtsp:// or rtsps:// camera and waits up to
// spec.StartTimeout for its first picture, which gives Info its size. A
// camera that sends none fails with an error naming the camera, the
// redacted URL and the last connection error, unless spec.Width and
// spec.Height are set: then the source is returned offline (after the first
// failed attempt at the latest) and keeps reconnecting in the background.
// ctx bounds only the opening; the source lives until Close.
func OpenRTSP(ctx context.Context, spec Spec) (*RTSPSource, error) {
	r, err := newRTSPReader(spec)
	if err != nil {
		return nil, err
	}
	spec = r.spec
	s := &RTSPSource{
		r:        r,
		spec:     spec,
		pool:     NewMatPool(8),
		frames:   make(chan Frame, rtspQueue),
		closed:   make(chan struct{}),
		fpsKnown: make(chan struct{}),
		info:     Info{Live: true},
	}
	expectSize := spec.Width > 0 && spec.Height > 0
	if expectSize {
		s.info.Width, s.info.Height = spec.Width, spec.Height
		s.sizeKnown = true
	}
	s.cancel = r.start(&rtspDecodeMode{s: s, r: r})

	timer := time.NewTimer(spec.StartTimeout)
	defer timer.Stop()
	for {
		select {
		case <-r.first:
			s.waitFPS(ctx, timer.C)
			return s, nil
		case err := <-r.attempt:
			if expectSize {
				return s, nil
			}
			if isPermanent(err) {
				s.Close()
				return nil, fmt.Errorf("camera %s: rtsp %s: %w", spec.Camera, r.redacted, err)
			}
		case <-timer.C:
			if expectSize {
				return s, nil
			}
			lastErr := r.lastError()
			s.Close()
			if lastErr == nil {
				lastErr = errors.New("connected but no decodable picture")
			}
			return nil, fmt.Errorf("camera %s: rtsp %s: no picture within %v: %w", spec.Camera, r.redacted, spec.StartTimeout, lastErr)
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("camera %s: rtsp %s: open: %w", spec.Camera, r.redacted, ctx.Err())
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
	st := s.r.liveStats()
	st.Decoded = s.decoded.Load()
	st.Dropped = s.dropped.Load()
	st.DecodeTime = time.Duration(s.decodeNanos.Load())
	return st
}

// Close stops the reader, waits for it (which closes the connection and the
// decoder) and frees queued pictures. It is safe to call twice.
func (s *RTSPSource) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.cancel()
		<-s.r.done
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
