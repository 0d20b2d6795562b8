package video

import (
	"math"
	"time"
)

// rtspClock turns the RTP presentation times of a live camera into frame
// times. RTP timestamps restart at every connection, so each session is
// anchored at the wall time of its first picture; stream time keeps growing
// across sessions because it is measured from the source's start.
type rtspClock struct {
	start time.Time // source start: stream time zero

	haveLast bool
	last     time.Duration // last stream time handed out

	anchored   bool
	anchorPTS  time.Duration
	anchorWall time.Time
	anchorPos  time.Duration // stream time of the anchor picture
}

// newSession forgets the RTP anchor; the next picture starts a new one.
func (c *rtspClock) newSession() { c.anchored = false }

// stamp returns the stream time and the wall time of a picture with the
// given presentation time, decoded at now. ntp, when ok, is the camera's
// wall time from RTCP sender reports and wins over the anchor estimate.
func (c *rtspClock) stamp(pts time.Duration, ntp time.Time, ntpOK bool, now time.Time) (time.Duration, time.Time) {
	if !c.anchored {
		c.anchored = true
		c.anchorPTS = pts
		c.anchorWall = now
		c.anchorPos = now.Sub(c.start)
	}
	pos := c.anchorPos + pts - c.anchorPTS
	// Reordered (B-frame) or reset timestamps must not make stream time go
	// back: trackers and counters assume it only grows.
	if c.haveLast && pos <= c.last {
		pos = c.last + time.Millisecond
	}
	c.haveLast, c.last = true, pos
	if ntpOK {
		return pos, ntp
	}
	return pos, c.anchorWall.Add(pts - c.anchorPTS)
}

// fpsEstimator guesses a camera's frame rate from the presentation times of
// its first pictures, for streams whose SPS carries no timing info.
type fpsEstimator struct {
	n           int
	first, last time.Duration
}

// fpsSamples is how many pictures refine the estimate; later ones are
// ignored so a long-running stream's jitter does not move Info.FPS.
const fpsSamples = 10

// add records a picture's PTS and returns the current estimate (0 until two
// pictures with distinct times were seen) and whether it changed.
func (e *fpsEstimator) add(pts time.Duration) (float64, bool) {
	if e.n >= fpsSamples {
		return 0, false
	}
	if e.n == 0 {
		e.first = pts
	} else if pts <= e.last {
		return 0, false
	}
	e.n++
	e.last = pts
	if e.n < 2 {
		return 0, false
	}
	fps := float64(e.n-1) / (e.last - e.first).Seconds()
	return math.Round(fps*100) / 100, true
}
