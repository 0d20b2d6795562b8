package video

import (
	"errors"
	"fmt"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/avcodec"
)

// rtspErrLogEvery limits decode-error logs of a corrupt stream.
const rtspErrLogEvery = 10 * time.Second

var errConcealed = errors.New("picture decoded with concealed errors")

// rtspDecodeMode is RTSPSource's rtspMode: it decodes every access unit
// with libavcodec and queues the pictures. It runs on the reader goroutine,
// which alone touches the decoder.
type rtspDecodeMode struct {
	s *RTSPSource
	r *rtspReader

	dec     *avcodec.Decoder // current session's
	scratch gocv.Mat         // picture being decoded into

	fps     fpsEstimator
	fpsSPS  bool // Info.FPS came from the SPS; no estimate needed
	fpsSent bool // s.fpsKnown closed
	seq     int64
	badSize [2]int

	lastErrLog time.Time
	errsHidden int
}

func (m *rtspDecodeMode) begin(t *rtspTrack) error {
	dec, err := avcodec.NewDecoder(t.codec, avcodec.Options{Threads: 1})
	if err != nil {
		return fmt.Errorf("%s decoder: %w", t.name, err)
	}
	m.dec = dec
	if m.fps.n < fpsSamples {
		m.fps = fpsEstimator{}
	}
	m.scratch = m.s.pool.get()
	// Parameter sets from the SDP prime the decoder; cameras that only send
	// them in-band repeat them before each key frame.
	for _, p := range t.params {
		m.learnFPS(t, p)
		if _, err := dec.Decode([][]byte{p}, &m.scratch); err != nil {
			m.r.decodeErrors.Add(1)
		}
	}
	return nil
}

func (m *rtspDecodeMode) end() {
	m.dec.Close()
	m.dec = nil
	m.s.pool.put(m.scratch)
	m.scratch = gocv.Mat{}
}

func (m *rtspDecodeMode) accessUnit(t *rtspTrack, au rtspAU) (alive, delivered bool) {
	s := m.s
	if !m.fpsSPS {
		for _, n := range au.nalus {
			m.learnFPS(t, n)
		}
	}
	if m.scratch.Ptr() == nil {
		m.scratch = s.pool.get()
	}
	// As with io.Reader, a picture may come out together with an error
	// about part of the access unit.
	// A damaged access unit often decodes without an error, with libavcodec
	// concealing the loss; it still counts as a decode error, but the
	// concealed picture is delivered.
	t0 := time.Now()
	ok, err := m.dec.Decode(au.nalus, &m.scratch)
	s.decodeNanos.Add(int64(time.Since(t0)))
	if err == nil && ok && m.dec.Corrupt() {
		err = errConcealed
	}
	if err != nil {
		m.r.decodeErrors.Add(1)
		m.logDecodeError(err)
	}
	if !ok {
		return false, false
	}
	s.decoded.Add(1)
	img := m.scratch
	m.scratch = gocv.Mat{}
	return true, m.picture(img, au)
}

// picture timestamps a decoded picture and queues it, unless its size
// differs from the stream's: counting lines are pixel coordinates, so such
// pictures are withheld and the camera reported offline until the size is
// back. It takes ownership of img.
func (m *rtspDecodeMode) picture(img gocv.Mat, au rtspAU) bool {
	s, r := m.s, m.r
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
		if m.badSize != [2]int{w, h} {
			m.badSize = [2]int{w, h}
			r.log.Error("rtsp camera changed its picture size; frames are withheld until it is back",
				"want", fmt.Sprintf("%dx%d", iw, ih), "got", fmt.Sprintf("%dx%d", w, h))
		}
		r.setOffline(fmt.Sprintf("resolution changed from %dx%d to %dx%d", iw, ih, w, h), true)
		return false
	}
	m.badSize = [2]int{}
	pos, wall := r.clock.stamp(au.pts, au.ntp, au.ntpOK, now)
	if !m.fpsSPS {
		if fps, ok := m.fps.add(au.pts); ok {
			m.setFPS(fps)
		}
	}
	f := Frame{Camera: r.spec.Camera, Seq: m.seq, StreamTime: pos, Time: wall, Received: now, Img: img, pool: s.pool}
	m.seq++
	r.setOnline(now)
	s.deliver(f)
	r.markDelivered()
	return true
}

// learnFPS takes the frame rate from an SPS's timing info.
func (m *rtspDecodeMode) learnFPS(t *rtspTrack, nalu []byte) {
	if m.fpsSPS {
		return
	}
	if fps := t.spsFPS(nalu); fps > 0 && fps <= 1000 && !math.IsInf(fps, 0) {
		m.fpsSPS = true
		m.setFPS(math.Round(fps*1000) / 1000)
	}
}

func (m *rtspDecodeMode) setFPS(fps float64) {
	s := m.s
	s.mu.Lock()
	s.info.FPS = fps
	s.mu.Unlock()
	if !m.fpsSent {
		m.fpsSent = true
		close(s.fpsKnown)
	}
}

// logDecodeError logs a corrupt stream at most every rtspErrLogEvery.
func (m *rtspDecodeMode) logDecodeError(err error) {
	if time.Since(m.lastErrLog) < rtspErrLogEvery {
		m.errsHidden++
		return
	}
	m.r.log.Warn("rtsp decode error", "err", err, "suppressed", m.errsHidden)
	m.lastErrLog, m.errsHidden = time.Now(), 0
}
