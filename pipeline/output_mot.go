package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"sync"
)

// MOTWriter writes confirmed tracks of one camera in the MOTChallenge text
// format (frame,id,x,y,w,h,conf,-1,-1,-1) that standard evaluators such as
// TrackEval read. Frame numbers are 1-based decode indices, so frames
// skipped by sampling leave gaps rather than renumbering the video.
type MOTWriter struct {
	camera string
	mu     sync.Mutex
	w      *bufio.Writer
	err    error
}

// NewMOTWriter writes the tracks of camera to w. Call Flush at the end.
func NewMOTWriter(w io.Writer, camera string) *MOTWriter {
	return &MOTWriter{camera: camera, w: bufio.NewWriter(w)}
}

// Result writes one frame's tracks.
func (m *MOTWriter) Result(r *Result) {
	if r.Final || r.Camera != m.camera {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range r.Tracks {
		if m.err != nil {
			return
		}
		// The tracker's Kalman estimate may stick out of the frame by a
		// few pixels; evaluators expect boxes inside the image.
		b := t.Box.Clip(float64(r.Width), float64(r.Height))
		// A predicted box wholly outside the picture clips to nothing; a
		// zero-size row is invalid MOT (TrackEval's readers reject it), and
		// the person is not in this frame anyway. 0.005 px rounds to 0.00.
		if b.W() < 0.005 || b.H() < 0.005 {
			continue
		}
		_, m.err = fmt.Fprintf(m.w, "%d,%d,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n",
			r.Frame+1, t.ID, b.X1, b.Y1, b.W(), b.H(), t.Score)
	}
}

// Flush writes what is buffered and reports the first write error.
func (m *MOTWriter) Flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return fmt.Errorf("write MOT tracks: %w", m.err)
	}
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("write MOT tracks: %w", err)
	}
	return nil
}
