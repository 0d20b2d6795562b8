package video

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/storesight/storesight/avcodec"
)

// AccessUnit is one coded picture of a live camera, as received: not
// decoded. Everything in it is owned by the receiver and never modified by
// the stream, but Params may be shared with other access units of the same
// stream, so receivers must not modify it either.
type AccessUnit struct {
	Codec avcodec.Codec
	// NALUs are the picture's NAL units without start codes, copies the
	// receiver owns.
	NALUs [][]byte
	// PTS is the RTP presentation time relative to the connection's first
	// packet; it restarts at every reconnect.
	PTS time.Duration
	// StreamTime is the position since the stream was opened, growing
	// across reconnects, as Frame.StreamTime.
	StreamTime time.Duration
	// Time is the wall-clock time the picture shows: the camera's NTP time
	// from RTCP sender reports when it sent them, otherwise the arrival of
	// the connection's first picture plus PTS.
	Time time.Time
	// Random is true for a random-access picture (H.264 IDR, H.265 IRAP):
	// decoding can start here. Every connection's first access unit is one.
	Random bool
	// Params are the parameter sets in force (H.264 SPS, PPS; H.265 VPS,
	// SPS, PPS), from the SDP and updated from the stream, so decoding can
	// start at any random-access picture even when the camera sends them
	// only in the SDP.
	Params [][]byte
}

// RTSPStream receives a live RTSP camera's coded pictures without decoding
// them, for keeping a high-resolution main stream as evidence at almost no
// CPU cost. It shares RTSPSource's connection handling: reconnects with
// backoff, a stall watchdog (no access unit for spec.StallTimeout), status
// callbacks (spec.OnStatus), redacted credentials and RTP/NTP timestamps.
// Access units are handed to a callback on the stream's goroutine, starting
// at a random-access picture after every (re)connect.
type RTSPStream struct {
	r      *rtspReader
	cancel context.CancelFunc
	once   sync.Once
}

// OpenRTSPStream connects to an rtsp:// or rtsps:// camera and calls onAU
// with every access unit, from the stream's goroutine, until Close. onAU
// must return quickly (a slow callback holds up the connection, as TCP
// pushes back on the camera) and must not call Close.
//
// It returns once the first access unit was delivered. Errors that
// retrying will not fix (malformed URL, wrong credentials, no H.264/H.265
// track) fail it; any other failure returns the stream offline, reporting
// its status and reconnecting in the background, as does a camera that
// sends no random-access picture within spec.StartTimeout: evidence of a
// camera that is down at start should begin once it is back. spec.Width,
// spec.Height, Realtime, Loop and Epoch are ignored. ctx bounds only the
// opening.
func OpenRTSPStream(ctx context.Context, spec Spec, onAU func(AccessUnit)) (*RTSPStream, error) {
	if onAU == nil {
		return nil, fmt.Errorf("camera %s: rtsp stream: nil access unit callback", spec.Camera)
	}
	r, err := newRTSPReader(spec)
	if err != nil {
		return nil, err
	}
	st := &RTSPStream{r: r}
	st.cancel = r.start(&rtspCodedMode{r: r, onAU: onAU})
	timer := time.NewTimer(r.spec.StartTimeout)
	defer timer.Stop()
	select {
	case <-r.first:
	case err := <-r.attempt:
		if isPermanent(err) {
			st.Close()
			return nil, fmt.Errorf("camera %s: rtsp %s: %w", r.spec.Camera, r.redacted, err)
		}
	case <-timer.C:
	case <-ctx.Done():
		st.Close()
		return nil, fmt.Errorf("camera %s: rtsp %s: open: %w", r.spec.Camera, r.redacted, ctx.Err())
	}
	return st, nil
}

// LiveStats returns the stream's counters. Nothing is decoded, so Decoded,
// Dropped and DecodeTime stay zero; DecodeErrors counts RTP that could not
// be depacketized, and LastFrame is the arrival of the last access unit.
func (st *RTSPStream) LiveStats() LiveStats { return st.r.liveStats() }

// Close stops the stream and waits until the connection is closed and onAU
// will not be called again. It is safe to call twice.
func (st *RTSPStream) Close() error {
	st.once.Do(func() {
		st.cancel()
		<-st.r.done
	})
	return nil
}

// rtspCodedMode is RTSPStream's rtspMode: it timestamps access units and
// hands them on, tracking the parameter sets in force.
type rtspCodedMode struct {
	r    *rtspReader
	onAU func(AccessUnit)

	slots  [][]byte // parameter sets by track.paramSlot; replaced, never modified
	params [][]byte // slots without the empty ones, shared by access units
}

func (m *rtspCodedMode) begin(t *rtspTrack) error {
	// Each connection starts from its SDP: the camera may have been
	// reconfigured while it was away.
	m.slots = make([][]byte, t.paramSlots)
	for _, p := range t.params {
		if i := t.paramSlot(p); i >= 0 {
			m.slots[i] = bytes.Clone(p)
		}
	}
	m.compact()
	return nil
}

func (m *rtspCodedMode) end() {}

func (m *rtspCodedMode) accessUnit(t *rtspTrack, au rtspAU) (alive, delivered bool) {
	changed := false
	for _, n := range au.nalus {
		i := t.paramSlot(n)
		if i < 0 || bytes.Equal(m.slots[i], n) {
			continue
		}
		if !changed {
			// Copy on write: earlier access units keep the sets they had.
			m.slots = append([][]byte(nil), m.slots...)
			changed = true
		}
		m.slots[i] = n // au.nalus are our own copies, never modified
	}
	if changed {
		m.compact()
	}
	pos, wall := m.r.clock.stamp(au.pts, au.ntp, au.ntpOK, au.received)
	m.r.setOnline(au.received)
	m.onAU(AccessUnit{
		Codec:      t.codec,
		NALUs:      au.nalus,
		PTS:        au.pts,
		StreamTime: pos,
		Time:       wall,
		Random:     t.isRandomAccess(au.nalus),
		Params:     m.params,
	})
	m.r.markDelivered()
	return true, true
}

// compact rebuilds params from slots, in decoding order.
func (m *rtspCodedMode) compact() {
	m.params = nil
	for _, p := range m.slots {
		if len(p) > 0 {
			m.params = append(m.params, p)
		}
	}
}
