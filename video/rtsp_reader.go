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
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
)

// Reconnect and I/O timing. Backoff doubles from rtspMinBackoff to
// rtspMaxBackoff while attempts fail and resets once pictures flow again.
const (
	rtspMinBackoff = 250 * time.Millisecond
	rtspMaxBackoff = 5 * time.Second
	rtspIOTimeout  = 5 * time.Second
	// rtspAUQueue decouples gortsplib's packet goroutine from the mode's
	// work (decoding). When it is full the packet goroutine waits (TCP
	// pushes back on the camera) instead of dropping access units, which
	// would break inter prediction.
	rtspAUQueue = 16
)

// rtspMode is what a connection does with the access units it receives:
// decode them into pictures (RTSPSource) or hand them on coded
// (RTSPStream). Its methods run on the reader goroutine only, one session
// at a time: begin, then accessUnit for every access unit from the
// session's first random-access one on, then end.
type rtspMode interface {
	// begin prepares a session on track (after DESCRIBE, before SETUP); an
	// error ends the session as a failed connection.
	begin(t *rtspTrack) error
	// accessUnit handles one access unit. alive feeds the stall watchdog (a
	// picture came out of it); delivered says the consumer got something,
	// which resets the reconnect backoff.
	accessUnit(t *rtspTrack, au rtspAU) (alive, delivered bool)
	// end releases what begin acquired; the client may still be open.
	end()
}

// rtspReader owns one camera connection on one goroutine (run): it
// connects (DESCRIBE, SETUP, PLAY), depacketizes, watches for stalls,
// reconnects with backoff, reports status and timestamps pictures; its
// rtspMode decides what becomes of the access units. During a session
// gortsplib's packet goroutine only depacketizes and hands access units
// over a channel.
type rtspReader struct {
	spec     Spec // with defaults applied
	log      *slog.Logger
	url      *base.URL // with credentials; never logged
	redacted string
	scrub    scrubber
	protocol *gortsplib.Protocol
	mode     rtspMode

	done    chan struct{} // run finished
	first   chan struct{} // closed at the first delivery
	attempt chan error    // each failed connection before the first delivery (non-blocking)

	// Owned by the run goroutine.
	clock     rtspClock
	delivered bool // first is closed

	packets, accessUnits, decodeErrors, connects, reconnects atomic.Int64

	mu        sync.Mutex
	state     liveState
	reason    string // why offline
	lastFrame time.Time
	lastErr   error
}

type liveState int

const (
	stateStarting liveState = iota
	stateOnline
	stateOffline
)

// newRTSPReader checks spec and applies its defaults. Errors name the
// camera and the redacted URL, never the password.
func newRTSPReader(spec Spec) (*rtspReader, error) {
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
	return &rtspReader{
		spec:     spec,
		log:      log.With("camera", spec.Camera, "url", redacted),
		url:      u,
		redacted: redacted,
		scrub:    newScrubber(spec.URL),
		protocol: proto,
		done:     make(chan struct{}),
		first:    make(chan struct{}),
		attempt:  make(chan error, 1),
	}, nil
}

// start runs the reader with mode until the returned cancel is called;
// done is closed once everything the reader started has stopped.
func (r *rtspReader) start(mode rtspMode) context.CancelFunc {
	r.mode = mode
	r.clock = rtspClock{start: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	go r.run(ctx)
	return cancel
}

// rtspAU is one access unit with its timing, copied out of gortsplib's
// buffers so it can cross goroutines.
type rtspAU struct {
	nalus    [][]byte
	pts      time.Duration
	ntp      time.Time
	ntpOK    bool
	received time.Time // when the last packet arrived
}

// stallError ends a session that delivered no picture for a while.
type stallError struct{ after time.Duration }

func (e stallError) Error() string { return fmt.Sprintf("no frames for %v", e.after) }

// run connects, hands access units to the mode and reconnects until ctx
// ends.
func (r *rtspReader) run(ctx context.Context) {
	defer close(r.done)
	backoff := rtspMinBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			r.reconnects.Add(1)
		}
		flowed, err := r.session(ctx)
		if ctx.Err() != nil {
			return
		}
		err = r.scrub.err(err)
		r.setLastError(err)
		r.setOffline(err.Error(), false)
		if !r.delivered {
			select {
			case r.attempt <- err:
			default:
			}
		}
		if flowed {
			backoff = rtspMinBackoff
		}
		r.log.Debug("rtsp session ended", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, rtspMaxBackoff)
	}
}

// session runs one connection until it fails, stalls or ctx ends. It
// reports whether anything was delivered. When it returns, the client, its
// goroutines and the mode's session resources are gone.
func (r *rtspReader) session(ctx context.Context) (flowed bool, err error) {
	c := &gortsplib.Client{
		Scheme:   r.url.Scheme,
		Host:     r.url.Host,
		Protocol: r.protocol,
		// gortsplib's own silence timeout (checked at one-second
		// granularity) comes after the stall watchdog, so a hung camera is
		// reported as "no frames", not as a transport error.
		ReadTimeout:  max(rtspIOTimeout, r.spec.StallTimeout+2*time.Second),
		WriteTimeout: rtspIOTimeout,
		OnTransportSwitch: func(err error) {
			r.log.Info("rtsp transport switch", "reason", r.scrub.text(err.Error()))
		},
		OnPacketsLost: func(n uint64) {
			r.log.Debug("rtp packets lost", "count", n)
		},
		OnDecodeError: func(err error) {
			r.decodeErrors.Add(1)
			r.log.Debug("rtp decode error", "err", r.scrub.text(err.Error()))
		},
	}
	if err := c.Start(); err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	// Cancelling sctx closes the client from a helper goroutine, which also
	// interrupts a DESCRIBE/SETUP/PLAY that waits on a silent server, and
	// releases a packet callback waiting on a full AU queue.
	sctx, scancel := context.WithCancel(ctx)
	var closing sync.WaitGroup
	closing.Add(1)
	context.AfterFunc(sctx, func() {
		defer closing.Done()
		c.Close()
	})
	var waitErr chan error
	waitPending := false
	defer func() {
		scancel()
		closing.Wait()
		if waitPending {
			<-waitErr
		}
	}()

	desc, _, err := c.Describe(r.url)
	if err != nil {
		return false, fmt.Errorf("connect: describe: %w", err)
	}
	medi, track, err := pickVideoTrack(desc)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	if err := r.mode.begin(track); err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer r.mode.end() // runs before the client closes

	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, fmt.Errorf("connect: setup: %w", err)
	}
	aus := make(chan rtspAU, rtspAUQueue)
	c.OnPacketRTP(medi, track.format, func(pkt *rtp.Packet) {
		r.packets.Add(1)
		pts, ok := c.PacketPTS(medi, pkt)
		if !ok {
			return
		}
		nalus, err := track.depacketize(pkt)
		if err != nil {
			if !track.incomplete(err) {
				r.decodeErrors.Add(1)
			}
			return
		}
		r.accessUnits.Add(1)
		ntp, ntpOK := c.PacketNTP(medi, pkt)
		au := rtspAU{nalus: cloneNALUs(nalus), pts: rtpDuration(pts, track.clockRate), ntp: ntp, ntpOK: ntpOK, received: time.Now()}
		select {
		case aus <- au:
		case <-sctx.Done():
		}
	})
	if _, err := c.Play(nil); err != nil {
		return false, fmt.Errorf("connect: play: %w", err)
	}
	r.connects.Add(1)
	waitErr = make(chan error, 1)
	waitPending = true
	go func() { waitErr <- c.Wait() }()

	r.clock.newSession()
	stall := time.NewTimer(r.spec.StallTimeout)
	defer stall.Stop()
	randomAccess := false
	for {
		select {
		case <-ctx.Done():
			return flowed, ctx.Err()
		case err := <-waitErr:
			waitPending = false
			return flowed, fmt.Errorf("connection lost: %w", err)
		case <-stall.C:
			return flowed, stallError{r.spec.StallTimeout}
		case au := <-aus:
			// A decoder started mid-GOP produces garbage until the next key
			// frame, after every (re)connect, and a recording started there
			// cannot be played: both begin at a random-access picture.
			if !randomAccess {
				if !track.isRandomAccess(au.nalus) {
					continue
				}
				randomAccess = true
			}
			alive, delivered := r.mode.accessUnit(track, au)
			if alive {
				stall.Reset(r.spec.StallTimeout)
			}
			if delivered {
				flowed = true
			}
		}
	}
}

// markDelivered notes the first delivery for the opener; reader goroutine
// only.
func (r *rtspReader) markDelivered() {
	if !r.delivered {
		r.delivered = true
		close(r.first)
	}
}

// setOnline records a delivery at wall time at and reports the camera back
// online if it was offline.
func (r *rtspReader) setOnline(at time.Time) {
	r.mu.Lock()
	prev := r.state
	r.state, r.reason = stateOnline, ""
	r.lastFrame = at
	r.mu.Unlock()
	if prev == stateOffline {
		r.log.Info("rtsp camera online")
		r.status(Status{Camera: r.spec.Camera, Online: true, Time: at})
	}
}

// setOffline reports the camera offline once per outage. A sticky reason
// (a changed resolution, which needs a person to act) is reported even
// during an outage, once, and is not replaced by later connection errors.
func (r *rtspReader) setOffline(reason string, sticky bool) {
	r.mu.Lock()
	prev, prevReason := r.state, r.reason
	at := r.lastFrame
	if prev == stateOffline && (!sticky || reason == prevReason) {
		r.mu.Unlock()
		return
	}
	r.state, r.reason = stateOffline, reason
	r.mu.Unlock()
	if at.IsZero() {
		at = time.Now()
	}
	r.log.Warn("rtsp camera offline", "reason", reason)
	r.status(Status{Camera: r.spec.Camera, Online: false, Time: at, Reason: reason})
}

func (r *rtspReader) status(st Status) {
	if r.spec.OnStatus != nil {
		r.spec.OnStatus(st)
	}
}

// liveStats fills the connection's counters; modes add their own.
func (r *rtspReader) liveStats() LiveStats {
	r.mu.Lock()
	online, last := r.state == stateOnline, r.lastFrame
	r.mu.Unlock()
	return LiveStats{
		Packets:      r.packets.Load(),
		AccessUnits:  r.accessUnits.Load(),
		DecodeErrors: r.decodeErrors.Load(),
		Connects:     r.connects.Load(),
		Reconnects:   r.reconnects.Load(),
		Online:       online,
		LastFrame:    last,
	}
}

func (r *rtspReader) setLastError(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
}

func (r *rtspReader) lastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// isPermanent tells errors that retrying during startup will not fix:
// wrong credentials and a stream without a supported codec.
func isPermanent(err error) bool {
	var uc unsupportedCodecError
	if errors.As(err, &uc) {
		return true
	}
	var bs liberrors.ErrClientBadStatusCode
	if errors.As(err, &bs) {
		return bs.Code == base.StatusUnauthorized || bs.Code == base.StatusForbidden
	}
	return false
}

// cloneNALUs copies an access unit into one buffer.
func cloneNALUs(au [][]byte) [][]byte {
	n := 0
	for _, b := range au {
		n += len(b)
	}
	buf := make([]byte, n)
	out := make([][]byte, len(au))
	off := 0
	for i, b := range au {
		out[i] = buf[off : off+len(b) : off+len(b)]
		copy(out[i], b)
		off += len(b)
	}
	return out
}

// rtpDuration converts a timestamp in clock-rate units without overflowing
// for long-running streams.
func rtpDuration(ts int64, clockRate int) time.Duration {
	cr := int64(clockRate)
	if cr <= 0 {
		return 0
	}
	return time.Duration(ts/cr)*time.Second + time.Duration(ts%cr)*time.Second/time.Duration(cr)
}
