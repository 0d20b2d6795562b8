package evidence

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/storesight/storesight/avcodec"
	"github.com/storesight/storesight/video"
)

// Defaults for Options.
const (
	DefaultKeep      = 30 * time.Second
	DefaultMaxBytes  = 64 << 20
	DefaultTolerance = time.Second
)

// Options bounds a Buffer.
type Options struct {
	// Keep is how much recent video to hold; 0 means DefaultKeep. The
	// buffer holds at least Keep (once it has run that long) and at most
	// Keep plus one GOP. It is measured in the access units' StreamTime,
	// which grows with RTP timestamps and real time across reconnects, so
	// a camera clock that steps does not evict early.
	Keep time.Duration
	// MaxBytes caps the coded bytes held (NAL units and parameter sets);
	// 0 means DefaultMaxBytes. It wins over Keep: a camera with a higher
	// bitrate than planned keeps less than Keep.
	MaxBytes int64
	// Tolerance is how far from a requested time the nearest held picture
	// may be for Snapshot to return it; 0 means DefaultTolerance. It covers
	// the detect and main streams' different latencies; a request in a gap
	// (camera offline) or outside the buffer fails.
	Tolerance time.Duration
}

func (o Options) withDefaults() Options {
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	return o
}

// Stats describes what a Buffer holds and did. Counters only grow.
type Stats struct {
	AUs            int       // access units held
	GOPs           int       // GOPs held
	Bytes          int64     // coded bytes held
	Oldest, Newest time.Time // times of the first and last held access unit; zero when empty
	Added          int64     // access units given to Add
	Dropped        int64     // of those, not kept: before a random-access picture, or in a GOP larger than MaxBytes
	Evicted        int64     // GOPs evicted by Keep or MaxBytes
}

// Span is Newest - Oldest, the duration of video held (ignoring gaps).
func (s Stats) Span() time.Duration { return s.Newest.Sub(s.Oldest) }

// ErrNoPicture is wrapped by errors for times the buffer holds no picture
// for.
var ErrNoPicture = errors.New("no picture")

// entry is one held access unit. Its NAL units are never modified.
type entry struct {
	nalus [][]byte
	time  time.Time
	// pos is the stream time: it only grows and, unlike time, does not jump
	// when a camera's RTCP reports (with its own clock) start arriving, so
	// it measures what Keep holds.
	pos time.Duration
}

// gop is a run of access units starting at a random-access one.
type gop struct {
	codec  avcodec.Codec
	params [][]byte // in force at the keyframe; shared, never modified
	aus    []entry
	bytes  int64 // NAL units and params
}

func (g *gop) start() time.Time { return g.aus[0].time }

// Buffer is a bounded ring of a camera's recent coded pictures, grouped in
// GOPs. Add is called from the stream's goroutine; the other methods may be
// called from any goroutine at the same time. Snapshots and clips work on
// the held data outside the lock, so they never hold up Add.
type Buffer struct {
	opts Options

	mu    sync.Mutex
	gops  []*gop // oldest first
	open  bool   // the last GOP takes more access units
	aus   int
	bytes int64

	added, dropped, evicted int64
}

// NewBuffer returns an empty buffer.
func NewBuffer(opts Options) *Buffer {
	return &Buffer{opts: opts.withDefaults()}
}

// Options returns the buffer's options with defaults applied.
func (b *Buffer) Options() Options { return b.opts }

// Add appends an access unit, taking ownership of its NAL units (video
// AccessUnits are the receiver's copies) and keeping a reference to its
// Params, which must not be modified. An access unit that is not random
// access joins the current GOP, or is dropped while there is none. Add then
// evicts whole GOPs to stay within the bounds.
func (b *Buffer) Add(au video.AccessUnit) {
	size := nalBytes(au.NALUs)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.added++
	if au.Random {
		g := &gop{codec: au.Codec, params: au.Params, bytes: nalBytes(au.Params)}
		b.gops = append(b.gops, g)
		b.bytes += g.bytes
		b.open = true
	} else if !b.open || b.gops[len(b.gops)-1].codec != au.Codec {
		b.dropped++
		return
	}
	g := b.gops[len(b.gops)-1]
	g.aus = append(g.aus, entry{nalus: au.NALUs, time: au.Time, pos: au.StreamTime})
	g.bytes += size
	b.bytes += size
	b.aus++
	b.evictLocked(au.StreamTime)
}

// evictLocked drops the oldest GOPs beyond MaxBytes, then those whose loss
// still leaves Keep held before newest (a stream time).
func (b *Buffer) evictLocked(newest time.Duration) {
	for b.bytes > b.opts.MaxBytes && len(b.gops) > 1 {
		b.dropFirstLocked()
		b.evicted++
	}
	if b.bytes > b.opts.MaxBytes {
		// The only GOP is larger than the whole budget: keeping part of it
		// would break the bound, keeping none is all that is left. Record
		// again from the next keyframe.
		b.dropped += int64(len(b.gops[0].aus))
		b.dropFirstLocked()
		b.open = false
		return
	}
	for len(b.gops) > 1 && newest-b.gops[1].aus[0].pos >= b.opts.Keep {
		b.dropFirstLocked()
		b.evicted++
	}
}

func (b *Buffer) dropFirstLocked() {
	g := b.gops[0]
	b.aus -= len(g.aus)
	b.bytes -= g.bytes
	b.gops[0] = nil // let the GC have it before the slice is reallocated
	b.gops = b.gops[1:]
}

// Stats returns what the buffer holds and its counters.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Stats{AUs: b.aus, GOPs: len(b.gops), Bytes: b.bytes, Added: b.added, Dropped: b.dropped, Evicted: b.evicted}
	st.Oldest, st.Newest = b.rangeLocked()
	return st
}

func (b *Buffer) rangeLocked() (oldest, newest time.Time) {
	if len(b.gops) == 0 {
		return time.Time{}, time.Time{}
	}
	last := b.gops[len(b.gops)-1]
	return b.gops[0].start(), last.aus[len(last.aus)-1].time
}

// noPictureLocked is the error for a time the buffer has nothing for.
func (b *Buffer) noPictureLocked(what string) error {
	oldest, newest := b.rangeLocked()
	if oldest.IsZero() {
		return fmt.Errorf("%w %s: buffer is empty", ErrNoPicture, what)
	}
	return fmt.Errorf("%w %s: buffer holds %s..%s", ErrNoPicture, what, fmtTime(oldest), fmtTime(newest))
}

// fmtTime formats times in errors: local wall clock to the millisecond.
func fmtTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z07:00") }

func nalBytes(nalus [][]byte) int64 {
	n := 0
	for _, b := range nalus {
		n += len(b)
	}
	return int64(n)
}
