package alerts

import "time"

// confirmer is the multi-frame verification of weapon and after-hours
// rules: a condition counts only when it held in at least frames of the
// last window analysed frames, so one false detection never raises.
type confirmer struct {
	frames int
	hits   []time.Time // per slot: event time of a condition frame, zero if none
	next   int
	count  int
}

func newConfirmer(frames, window int) *confirmer {
	return &confirmer{frames: frames, hits: make([]time.Time, window)}
}

// add records one analysed frame and reports whether the condition is now
// confirmed.
func (c *confirmer) add(cond bool, t time.Time) bool {
	if !c.hits[c.next].IsZero() {
		c.count--
	}
	c.hits[c.next] = time.Time{}
	if cond {
		c.hits[c.next] = t
		c.count++
	}
	c.next = (c.next + 1) % len(c.hits)
	return c.count >= c.frames
}

// first is the event time of the oldest condition frame in the window: the
// start of the evidence once confirmed.
func (c *confirmer) first() time.Time {
	var t time.Time
	for _, h := range c.hits {
		if !h.IsZero() && (t.IsZero() || h.Before(t)) {
			t = h
		}
	}
	return t
}

// reset forgets the window, so a new episode needs a fresh confirmation.
func (c *confirmer) reset() {
	clear(c.hits)
	c.next, c.count = 0, 0
}
