package video

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"gocv.io/x/gocv"
)

// FileSource decodes a video file with OpenCV (FFmpeg backend).
type FileSource struct {
	spec  Spec
	vc    *gocv.VideoCapture
	info  Info
	pool  *MatPool
	epoch time.Time

	seq       int64
	loopBase  time.Duration // stream time added after each loop
	lastPos   time.Duration
	started   time.Time // wall time of the first frame, for pacing
	firstTime time.Duration
}

// OpenFile opens a video file. It fails with a clear error when the file is
// missing, unreadable, or not a video OpenCV can decode.
func OpenFile(spec Spec) (*FileSource, error) {
	st, err := os.Stat(spec.URL)
	if err != nil {
		return nil, fmt.Errorf("camera %s: open video: %w", spec.Camera, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("camera %s: open video %s: is a directory", spec.Camera, spec.URL)
	}
	f, err := os.Open(spec.URL)
	if err != nil {
		return nil, fmt.Errorf("camera %s: open video: %w", spec.Camera, err)
	}
	f.Close()
	vc, err := gocv.VideoCaptureFileWithAPI(spec.URL, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("camera %s: open video %s: not a video file OpenCV can decode", spec.Camera, spec.URL)
	}
	s := &FileSource{spec: spec, vc: vc, pool: NewMatPool(8)}
	s.info = Info{
		Width:  int(vc.Get(gocv.VideoCaptureFrameWidth)),
		Height: int(vc.Get(gocv.VideoCaptureFrameHeight)),
		FPS:    vc.Get(gocv.VideoCaptureFPS),
		Frames: int64(vc.Get(gocv.VideoCaptureFrameCount)),
	}
	if s.info.Width <= 0 || s.info.Height <= 0 {
		vc.Close()
		return nil, fmt.Errorf("camera %s: open video %s: no video stream", spec.Camera, spec.URL)
	}
	s.epoch = spec.Epoch
	if s.epoch.IsZero() {
		s.epoch = st.ModTime().UTC()
	}
	return s, nil
}

// Info describes the file.
func (s *FileSource) Info() Info { return s.info }

// Next decodes the next frame.
func (s *FileSource) Next(ctx context.Context) (Frame, error) {
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	m := s.pool.get()
	if !s.vc.Read(&m) || m.Empty() {
		if !s.spec.Loop || s.seq == 0 {
			s.pool.put(m)
			if s.seq == 0 {
				return Frame{}, fmt.Errorf("camera %s: %s: no decodable frame", s.spec.Camera, s.spec.URL)
			}
			return Frame{}, ErrEndOfStream
		}
		s.vc.Set(gocv.VideoCapturePosFrames, 0)
		s.loopBase = s.lastPos + s.frameInterval()
		if !s.vc.Read(&m) || m.Empty() {
			s.pool.put(m)
			return Frame{}, ErrEndOfStream
		}
	}
	pos := s.loopBase + s.position()
	if pos < s.lastPos && s.seq > 0 { // containers with broken timestamps
		pos = s.lastPos + s.frameInterval()
	}
	s.lastPos = pos
	if s.spec.Realtime {
		if err := s.pace(ctx, pos); err != nil {
			s.pool.put(m)
			return Frame{}, err
		}
	}
	f := Frame{Camera: s.spec.Camera, Seq: s.seq, StreamTime: pos, Time: s.epoch.Add(pos), Received: time.Now(), Img: m, pool: s.pool}
	s.seq++
	return f, nil
}

// position is the stream time of the frame just read, from its index and the
// nominal rate: OpenCV's millisecond position is unreliable for some AVI
// codecs, the frame index is not.
func (s *FileSource) position() time.Duration {
	idx := s.vc.Get(gocv.VideoCapturePosFrames) - 1
	if s.info.FPS > 0 && idx >= 0 {
		return time.Duration(math.Round(idx / s.info.FPS * float64(time.Second)))
	}
	return time.Duration(s.vc.Get(gocv.VideoCapturePosMsec) * float64(time.Millisecond))
}

func (s *FileSource) frameInterval() time.Duration {
	if s.info.FPS > 0 {
		return time.Duration(float64(time.Second) / s.info.FPS)
	}
	return 40 * time.Millisecond
}

// pace sleeps until the frame's stream time is due in wall time.
func (s *FileSource) pace(ctx context.Context, pos time.Duration) error {
	if s.started.IsZero() {
		s.started, s.firstTime = time.Now(), pos
		return nil
	}
	wait := time.Until(s.started.Add(pos - s.firstTime))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close releases the decoder.
func (s *FileSource) Close() error {
	if s.vc != nil {
		s.vc.Close()
		s.vc = nil
	}
	s.pool.Close()
	return nil
}
