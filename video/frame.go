// Package video reads cameras and video files and turns them into decoded
// frames that carry their camera's stream time, or, for evidence, into
// coded access units (RTSPStream) that are kept without decoding.
package video

import (
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// Frame is one decoded picture. Its pixels live in C memory (a gocv Mat);
// exactly one owner holds a Frame at a time and must call Release when done,
// which hands the Mat back to the source's pool instead of freeing it, so the
// hot path allocates no pixel buffers.
type Frame struct {
	Camera string
	// Seq is the 0-based index of the frame in decode order. Frames skipped by
	// sampling or dropped under load still consume a Seq, so Seq+1 is the
	// 1-based frame number that MOTChallenge tools expect.
	Seq int64
	// StreamTime is the frame's position in its stream (file position, or time
	// since the first RTP timestamp), never wall time at processing.
	StreamTime time.Duration
	// Time is the wall-clock time the frame shows: the stream's epoch plus
	// StreamTime. Events carry it as their event time.
	Time time.Time
	// Received is the wall time the decoder produced the frame; latency
	// through analysis is measured from it.
	Received time.Time
	// Img is the BGR picture.
	Img gocv.Mat

	pool *MatPool
}

// Release hands the frame's pixels back. It is safe to call twice.
func (f *Frame) Release() {
	if f.pool != nil {
		f.pool.put(f.Img)
		f.pool = nil
		f.Img = gocv.Mat{}
		return
	}
	if f.Img.Ptr() != nil {
		f.Img.Close()
		f.Img = gocv.Mat{}
	}
}

// MatPool recycles Mats of one stream. Decoders write into recycled Mats, so
// once the pool is warm a camera allocates no pixel memory per frame.
type MatPool struct {
	free   chan gocv.Mat
	mu     sync.RWMutex
	closed bool
}

// NewMatPool keeps up to size idle Mats; extra ones are closed.
func NewMatPool(size int) *MatPool {
	return &MatPool{free: make(chan gocv.Mat, size)}
}

func (p *MatPool) get() gocv.Mat {
	select {
	case m := <-p.free:
		return m
	default:
		return gocv.NewMat()
	}
}

func (p *MatPool) put(m gocv.Mat) {
	if m.Ptr() == nil {
		return
	}
	// A frame released after its source closed frees its Mat: nobody
	// would take it from the pool again.
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		m.Close()
		return
	}
	select {
	case p.free <- m:
	default:
		m.Close()
	}
}

// Close frees the idle Mats. Frames still out are freed when released.
func (p *MatPool) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case m := <-p.free:
			m.Close()
		default:
			return
		}
	}
}
