package video

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
	"gocv.io/x/gocv"

	"github.com/storesight/storesight/avcodec"
)

// Reconnect and I/O timing. Backoff doubles from rtspMinBackoff to
// rtspMaxBackoff while attempts fail and resets once pictures flow again.
const (
	rtspMinBackoff = 250 * time.Millisecond
	rtspMaxBackoff = 5 * time.Second
	rtspIOTimeout  = 5 * time.Second
	// rtspAUQueue decouples gortsplib's packet goroutine from decoding. When
	// it is full the packet goroutine waits (TCP pushes back on the camera)
	// instead of dropping access units, which would break inter prediction.
	rtspAUQueue = 16
	// rtspErrLogEvery limits decode-error logs of a corrupt stream.
	rtspErrLogEvery = 10 * time.Second
)

// rtspReader is the goroutine that owns a camera's connection. Between
// sessions it alone touches the decoder, clock and counters; during a
// session gortsplib's packet goroutine only depacketizes and hands access
// units over a channel.
type rtspReader struct {
	s *RTSPSource

	clock     rtspClock
	fps       fpsEstimator
	fpsSPS    bool // Info.FPS came from the SPS; no estimate needed
	fpsSent   bool // s.fpsKnown closed
	seq       int64
	delivered bool // a picture was ever delivered (s.firstPicture closed)
	badSize   [2]int

	lastErrLog time.Time
	errsHidden int
}

func newRTSPReader(s *RTSPSource, start time.Time) *rtspReader {
	return &rtspReader{s: s, clock: rtspClock{start: start}}
}

// rtspAU is one access unit with its timing, copied out of gortsplib's
// buffers so it can cross goroutines.
type rtspAU struct {
	nalus [][]byte
	pts   time.Duration
	ntp   time.Time
	ntpOK bool
}

var errConcealed = errors.New("picture decoded with concealed errors")

// stallError ends a session that decoded no picture for a while.
type stallError struct{ after time.Duration }

func (e stallError) Error() string { return fmt.Sprintf("no frames for %v", e.after) }

// run connects, decodes and reconnects until ctx ends.
func (r *rtspReader) run(ctx context.Context) {
	s := r.s
	defer close(s.done)
	backoff := rtspMinBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.reconnects.Add(1)
		}
		flowed, err := r.session(ctx)
		if ctx.Err() != nil {
			return
		}
		err = s.scrub.err(err)
		s.setLastError(err)
		s.setOffline(err.Error(), false)
		if !r.delivered {
			select {
			case s.attempt <- err:
			default:
			}
		}
		if flowed {
			backoff = rtspMinBackoff
		}
		s.log.Debug("rtsp session ended", "err", err, "retry_in", backoff)
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
// reports whether any picture was delivered. When it returns, the client,
// its goroutines and the decoder are gone.
func (r *rtspReader) session(ctx context.Context) (flowed bool, err error) {
	s := r.s
	c := &gortsplib.Client{
		Scheme:   s.url.Scheme,
		Host:     s.url.Host,
		Protocol: s.protocol,
		// gortsplib's own silence timeout (checked at one-second
		// granularity) comes after the stall watchdog, so a hung camera is
		// reported as "no frames", not as a transport error.
		ReadTimeout:  max(rtspIOTimeout, s.spec.StallTimeout+2*time.Second),
		WriteTimeout: rtspIOTimeout,
		OnTransportSwitch: func(err error) {
			s.log.Info("rtsp transport switch", "reason", s.scrub.text(err.Error()))
		},
		OnPacketsLost: func(n uint64) {
			s.log.Debug("rtp packets lost", "count", n)
		},
		OnDecodeError: func(err error) {
			s.decodeErrors.Add(1)
			s.log.Debug("rtp decode error", "err", s.scrub.text(err.Error()))
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

	desc, _, err := c.Describe(s.url)
	if err != nil {
		return false, fmt.Errorf("connect: describe: %w", err)
	}
	medi, track, err := pickVideoTrack(desc)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	dec, err := avcodec.NewDecoder(track.codec, avcodec.Options{Threads: 1})
	if err != nil {
		return false, fmt.Errorf("connect: %s decoder: %w", track.name, err)
	}
	defer dec.Close() // runs before the client closes; only this goroutine uses dec

	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, fmt.Errorf("connect: setup: %w", err)
	}
	aus := make(chan rtspAU, rtspAUQueue)
	c.OnPacketRTP(medi, track.format, func(pkt *rtp.Packet) {
		s.packets.Add(1)
		pts, ok := c.PacketPTS(medi, pkt)
		if !ok {
			return
		}
		nalus, err := track.depacketize(pkt)
		if err != nil {
			if !track.incomplete(err) {
				s.decodeErrors.Add(1)
			}
			return
		}
		s.accessUnits.Add(1)
		ntp, ntpOK := c.PacketNTP(medi, pkt)
		au := rtspAU{nalus: cloneNALUs(nalus), pts: rtpDuration(pts, track.clockRate), ntp: ntp, ntpOK: ntpOK}
		select {
		case aus <- au:
		case <-sctx.Done():
		}
	})
	if _, err := c.Play(nil); err != nil {
		return false, fmt.Errorf("connect: play: %w", err)
	}
	s.connects.Add(1)
	waitErr = make(chan error, 1)
	waitPending = true
	go func() { waitErr <- c.Wait() }()

	r.clock.newSession()
	if r.fps.n < fpsSamples {
		r.fps = fpsEstimator{}
	}
	scratch := s.pool.get()
	defer func() { s.pool.put(scratch) }()
	// Parameter sets from the SDP prime the decoder; cameras that only send
	// them in-band repeat them before each key frame.
	for _, p := range track.params {
		r.learnFPS(track, p)
		if _, err := dec.Decode([][]byte{p}, &scratch); err != nil {
			s.decodeErrors.Add(1)
		}
	}

	stall := time.NewTimer(s.spec.StallTimeout)
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
			return flowed, stallError{s.spec.StallTimeout}
		case au := <-aus:
			// A decoder started mid-GOP produces garbage until the next key
			// frame, after every (re)connect.
			if !randomAccess {
				if !track.isRandomAccess(au.nalus) {
					continue
				}
				randomAccess = true
			}
			if !r.fpsSPS {
				for _, n := range au.nalus {
					r.learnFPS(track, n)
				}
			}
			if scratch.Ptr() == nil {
				scratch = s.pool.get()
			}
			// As with io.Reader, a picture may come out together with an
			// error about part of the access unit.
			// A damaged access unit often decodes without an error, with
			// libavcodec concealing the loss; it still counts as a decode
			// error, but the concealed picture is delivered.
			t0 := time.Now()
			ok, err := dec.Decode(au.nalus, &scratch)
			s.decodeNanos.Add(int64(time.Since(t0)))
			if err == nil && ok && dec.Corrupt() {
				err = errConcealed
			}
			if err != nil {
				s.decodeErrors.Add(1)
				r.logDecodeError(err)
			}
			if !ok {
				continue
			}
			s.decoded.Add(1)
			stall.Reset(s.spec.StallTimeout)
			img := scratch
			scratch = gocv.Mat{}
			if r.picture(img, au) {
				flowed = true
			}
		}
	}
}

// picture timestamps a decoded picture and queues it, unless its size
// differs from the stream's: counting lines are pixel coordinates, so such
// pictures are withheld and the camera reported offline until the size is
// back. It takes ownership of img.
func (r *rtspReader) picture(img gocv.Mat, au rtspAU) bool {
	s := r.s
	now := time.Now()
	w, h := img.Cols(), img.Rows()
	s.mu.Lock()
	if !s.sizeKnown {
		s.info.Width, s.info.Height, s.sizeKnown = w, h, true
	}
	iw, ih := s.info.Width, s.info.Height
	s.mu.Unlock()
	if w != iw || h != ih {
		s.pool.put(img)
		if r.badSize != [2]int{w, h} {
			r.badSize = [2]int{w, h}
			s.log.Error("rtsp camera changed its picture size; frames are withheld until it is back",
				"want", fmt.Sprintf("%dx%d", iw, ih), "got", fmt.Sprintf("%dx%d", w, h))
		}
		s.setOffline(fmt.Sprintf("resolution changed from %dx%d to %dx%d", iw, ih, w, h), true)
		return false
	}
	r.badSize = [2]int{}
	pos, wall := r.clock.stamp(au.pts, au.ntp, au.ntpOK, now)
	if !r.fpsSPS {
		if fps, ok := r.fps.add(au.pts); ok {
			r.setFPS(fps)
		}
	}
	f := Frame{Camera: s.spec.Camera, Seq: r.seq, StreamTime: pos, Time: wall, Received: now, Img: img, pool: s.pool}
	r.seq++
	s.setOnline(now)
	s.deliver(f)
	if !r.delivered {
		r.delivered = true
		close(s.firstPicture)
	}
	return true
}

// learnFPS takes the frame rate from an SPS's timing info.
func (r *rtspReader) learnFPS(t *rtspTrack, nalu []byte) {
	if r.fpsSPS {
		return
	}
	if fps := t.spsFPS(nalu); fps > 0 && fps <= 1000 && !math.IsInf(fps, 0) {
		r.fpsSPS = true
		r.setFPS(math.Round(fps*1000) / 1000)
	}
}

func (r *rtspReader) setFPS(fps float64) {
	s := r.s
	s.mu.Lock()
	s.info.FPS = fps
	s.mu.Unlock()
	if !r.fpsSent {
		r.fpsSent = true
		close(s.fpsKnown)
	}
}

// logDecodeError logs a corrupt stream at most every rtspErrLogEvery.
func (r *rtspReader) logDecodeError(err error) {
	if time.Since(r.lastErrLog) < rtspErrLogEvery {
		r.errsHidden++
		return
	}
	r.s.log.Warn("rtsp decode error", "err", err, "suppressed", r.errsHidden)
	r.lastErrLog, r.errsHidden = time.Now(), 0
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
