package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// ErrEndOfStream is returned by Next when a finite source (a file) has no
// more frames.
var ErrEndOfStream = errors.New("end of stream")

// Info describes a stream once it is open.
type Info struct {
	Width, Height int
	FPS           float64 // nominal frame rate; 0 when unknown
	Frames        int64   // frames in a file; 0 when unknown or live
	Live          bool    // live sources drop frames under load; files can wait
}

// Source yields decoded frames of one camera. It is owned by a single
// goroutine (the camera's decoder), which calls Next until it is done and
// then Close; cancelling the context passed to Next unblocks it.
type Source interface {
	Info() Info
	// Next blocks for the next frame. The caller owns the frame and must
	// Release it. It returns ErrEndOfStream at the end of a file.
	Next(ctx context.Context) (Frame, error)
	Close() error
}

// Spec says how to open a source.
type Spec struct {
	Camera string
	// URL is a file path, a file:// URL or an rtsp:// URL.
	URL string
	// Realtime paces a file to its frame rate, as a live camera would deliver
	// it; otherwise a file is read as fast as the consumer takes frames.
	Realtime bool
	// Loop restarts a file at its end.
	Loop bool
	// Epoch is the wall time of the first frame; zero means the file's
	// modification time for files (so re-runs produce the same event times
	// and ids).
	Epoch time.Time

	// Live (RTSP) options.

	// Transport is "tcp", "udp", or "" to try UDP and fall back to TCP.
	Transport string
	// StallTimeout is how long a live camera may deliver no picture before it
	// is marked offline and reconnected. Zero means 5s.
	StallTimeout time.Duration
	// StartTimeout is how long opening a live camera waits for its first
	// picture. Zero means 10s.
	StartTimeout time.Duration
	// Width and Height, when both set, are the live camera's expected picture
	// size: a camera that is down at start is then opened offline (and keeps
	// reconnecting) instead of failing, and pictures of another size are
	// withheld as a resolution change.
	Width, Height int
	// OnStatus, when set, is called when a live camera goes offline or comes
	// back online. It is called from the source's goroutine and must not
	// block.
	OnStatus func(Status)
	// Log receives connection and decode problems; nil means slog.Default.
	// URLs are logged redacted.
	Log *slog.Logger
}

// Open opens the source named by spec.URL.
func Open(ctx context.Context, spec Spec) (Source, error) {
	// A malformed rtsp URL (e.g. a password with an unescaped '/') must not
	// fall through to the file path, whose errors would quote the password.
	if l := strings.ToLower(spec.URL); strings.HasPrefix(l, "rtsp://") || strings.HasPrefix(l, "rtsps://") {
		return openRTSP(ctx, spec)
	}
	u, err := url.Parse(spec.URL)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // "C:" style or plain path
		return OpenFile(spec)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		spec.URL = u.Path
		return OpenFile(spec)
	case "rtsp", "rtsps":
		return openRTSP(ctx, spec)
	default:
		return nil, fmt.Errorf("camera %s: unsupported source scheme %q", spec.Camera, u.Scheme)
	}
}

// openRTSP returns a nil interface, not a typed nil, on failure.
func openRTSP(ctx context.Context, spec Spec) (Source, error) {
	s, err := OpenRTSP(ctx, spec)
	if err != nil {
		return nil, err
	}
	return s, nil
}
