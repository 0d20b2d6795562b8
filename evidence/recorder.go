package evidence

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/storesight/storesight/video"
)

// Recorder keeps one camera's main stream in a Buffer: it receives the
// stream coded, with video.OpenRTSPStream, and adds every access unit on
// the stream's goroutine. Its methods are safe for concurrent use.
type Recorder struct {
	spec video.Spec
	buf  *Buffer

	mu      sync.Mutex
	stream  *video.RTSPStream
	started bool
	closed  bool
}

// RecorderStats is a Recorder's buffer and connection state.
type RecorderStats struct {
	Stats
	// Live are the stream's counters (nothing is decoded, so its decode
	// counters stay zero).
	Live video.LiveStats
}

// NewRecorder returns a recorder for the camera's main stream at
// spec.URL (an rtsp:// URL). spec's live options apply: Transport,
// StallTimeout, StartTimeout, OnStatus, Log.
func NewRecorder(spec video.Spec, opts Options) *Recorder {
	return &Recorder{spec: spec, buf: NewBuffer(opts)}
}

// Start connects and records until Close. It returns once recording began,
// or with the stream offline and reconnecting in the background when the
// camera is unreachable or sends no keyframe within spec.StartTimeout; it
// fails only for what retrying cannot fix (a malformed URL, wrong
// credentials, no H.264/H.265 video). ctx bounds only the start.
func (r *Recorder) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started || r.closed {
		r.mu.Unlock()
		return fmt.Errorf("camera %s: evidence recorder already started or closed", r.spec.Camera)
	}
	r.started = true
	r.mu.Unlock()
	st, err := video.OpenRTSPStream(ctx, r.spec, r.buf.Add)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed { // Close ran while the stream opened
		st.Close()
		return fmt.Errorf("camera %s: evidence recorder closed while starting", r.spec.Camera)
	}
	r.stream = st
	return nil
}

// Close stops recording. The buffer keeps what it holds, so snapshots and
// clips of the recorded past still work. It is safe to call twice.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	st := r.stream
	r.stream = nil
	r.mu.Unlock()
	if st != nil {
		return st.Close()
	}
	return nil
}

// Buffer returns the recorder's buffer.
func (r *Recorder) Buffer() *Buffer { return r.buf }

// Stats returns the buffer's state and the stream's counters.
func (r *Recorder) Stats() RecorderStats {
	s := RecorderStats{Stats: r.buf.Stats()}
	r.mu.Lock()
	st := r.stream
	r.mu.Unlock()
	if st != nil {
		s.Live = st.LiveStats()
	}
	return s
}

// Snapshot is Buffer.Snapshot with the camera named in errors.
func (r *Recorder) Snapshot(ctx context.Context, at time.Time) (Picture, error) {
	p, err := r.buf.Snapshot(ctx, at)
	return p, r.wrap(err)
}

// SnapshotJPEG is Buffer.SnapshotJPEG with the camera named in errors.
func (r *Recorder) SnapshotJPEG(ctx context.Context, at time.Time, quality int) ([]byte, time.Time, error) {
	b, t, err := r.buf.SnapshotJPEG(ctx, at, quality)
	return b, t, r.wrap(err)
}

// WriteClip is Buffer.WriteClip with the camera named in errors.
func (r *Recorder) WriteClip(w io.Writer, from, to time.Time) (Clip, error) {
	c, err := r.buf.WriteClip(w, from, to)
	return c, r.wrap(err)
}

func (r *Recorder) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("camera %s: evidence: %w", r.spec.Camera, err)
}
