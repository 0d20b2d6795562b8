package pos

import (
	"container/heap"
	"time"
)

// Dedup remembers the keys it has seen (Transaction.Key) so a transaction
// delivered twice is handled once. Memory is bounded twice over: a key is
// forgotten once it is older than the window, by event time, than the
// newest key seen; and beyond max keys the oldest are forgotten first.
// Event time rather than wall time makes a replay of old messages behave
// like the live run did.
//
// A Dedup is meant to be owned by one goroutine (the one handling the
// transactions in order); it is not safe for concurrent use.
type Dedup struct {
	window time.Duration
	max    int
	newest time.Time
	at     map[string]*dedupEntry
	byAge  dedupHeap
}

type dedupEntry struct {
	key string
	at  time.Time
}

// NewDedup returns a Dedup keeping keys for window (event time), at most
// max of them. window <= 0 keeps keys until max forces them out; max <= 0
// means 100000.
func NewDedup(window time.Duration, max int) *Dedup {
	if max <= 0 {
		max = 100000
	}
	return &Dedup{window: window, max: max, at: map[string]*dedupEntry{}}
}

// Seen reports whether key was seen before (and is still remembered); if
// not, it records key with event time at. A key older than the window is
// not recorded: it would be forgotten at once.
func (d *Dedup) Seen(key string, at time.Time) bool {
	if _, ok := d.at[key]; ok {
		return true
	}
	if at.After(d.newest) {
		d.newest = at
	}
	d.forget()
	if d.window > 0 && at.Before(d.newest.Add(-d.window)) {
		return false
	}
	e := &dedupEntry{key: key, at: at}
	heap.Push(&d.byAge, e)
	d.at[key] = e
	for len(d.at) > d.max {
		d.pop()
	}
	return false
}

// Len is the number of keys remembered.
func (d *Dedup) Len() int { return len(d.at) }

// forget drops the keys that fell out of the window.
func (d *Dedup) forget() {
	if d.window <= 0 {
		return
	}
	limit := d.newest.Add(-d.window)
	for len(d.byAge) > 0 && d.byAge[0].at.Before(limit) {
		d.pop()
	}
}

func (d *Dedup) pop() {
	e := heap.Pop(&d.byAge).(*dedupEntry)
	delete(d.at, e.key)
}

// dedupHeap is a min-heap of entries by event time.
type dedupHeap []*dedupEntry

func (h dedupHeap) Len() int           { return len(h) }
func (h dedupHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dedupHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dedupHeap) Push(x any)        { *h = append(*h, x.(*dedupEntry)) }
func (h *dedupHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
