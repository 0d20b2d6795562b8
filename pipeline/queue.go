package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/storesight/storesight/video"
)

// frameQueue is the bounded hand-over between a decoder and its worker.
// Live sources drop the oldest queued frame when the worker falls behind,
// so the decoder never blocks and the worker always sees recent frames;
// offline sources (files read as fast as possible) wait instead, so nothing
// is lost.
type frameQueue struct {
	ch         chan video.Frame
	dropOldest bool
	dropped    *atomic.Int64
}

func newFrameQueue(size int, dropOldest bool, dropped *atomic.Int64) *frameQueue {
	if size < 1 {
		size = 1
	}
	return &frameQueue{ch: make(chan video.Frame, size), dropOldest: dropOldest, dropped: dropped}
}

// push hands f over. It returns false when ctx ended first; f is then
// released.
func (q *frameQueue) push(ctx context.Context, f video.Frame) bool {
	if !q.dropOldest {
		select {
		case q.ch <- f:
			return true
		case <-ctx.Done():
			f.Release()
			return false
		}
	}
	for {
		select {
		case q.ch <- f:
			return true
		default:
		}
		select {
		case old := <-q.ch:
			old.Release()
			q.dropped.Add(1)
		default:
		}
		if ctx.Err() != nil {
			f.Release()
			return false
		}
	}
}

// close ends the stream; the worker drains what is queued.
func (q *frameQueue) close() { close(q.ch) }

// drain releases frames left after the worker stopped.
func (q *frameQueue) drain() int {
	n := 0
	for f := range q.ch {
		f.Release()
		n++
	}
	return n
}
