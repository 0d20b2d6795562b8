package evidence

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/avcodec"
)

// Picture is a decoded picture from the buffer. The caller owns Img and
// must Close it.
type Picture struct {
	Img  gocv.Mat // BGR, at the stream's full resolution
	Time time.Time
}

// Close frees the picture's pixels.
func (p *Picture) Close() error {
	if p.Img.Ptr() != nil {
		return p.Img.Close()
	}
	return nil
}

// decodeJob is what Snapshot takes out of the lock: one GOP's access units
// (as held when the snapshot was asked for) and which of them to show.
type decodeJob struct {
	codec  avcodec.Codec
	params [][]byte
	aus    []entry
	target int
}

// Snapshot decodes the held picture nearest to at: it decodes from the
// keyframe that starts its GOP up to it, with a decoder of its own, so
// snapshots may run concurrently with each other and with Add. It fails
// with an error wrapping ErrNoPicture when no picture lies within
// Options.Tolerance of at. The cost is decoding up to one GOP.
func (b *Buffer) Snapshot(ctx context.Context, at time.Time) (Picture, error) {
	job, err := b.find(at)
	if err != nil {
		return Picture{}, err
	}
	img, err := job.decode(ctx)
	if err != nil {
		return Picture{}, fmt.Errorf("snapshot at %s: %w", fmtTime(at), err)
	}
	return Picture{Img: img, Time: job.aus[job.target].time}, nil
}

// SnapshotJPEG is Snapshot encoded as JPEG at quality 1-100 (0 means 90).
// It returns the picture's time with the bytes.
func (b *Buffer) SnapshotJPEG(ctx context.Context, at time.Time, quality int) ([]byte, time.Time, error) {
	if quality == 0 {
		quality = 90
	}
	if quality < 1 || quality > 100 {
		return nil, time.Time{}, fmt.Errorf("snapshot: JPEG quality %d is not within 1-100", quality)
	}
	p, err := b.Snapshot(ctx, at)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer p.Close()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, p.Img, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("snapshot at %s: encode JPEG: %w", fmtTime(at), err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), p.Time, nil
}

// find picks the held access unit nearest to at. Times are compared one by
// one rather than searched, because they need not grow in decoding order
// (B-frames, a camera clock that steps).
func (b *Buffer) find(at time.Time) (decodeJob, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	gi, ai := -1, -1
	var best time.Duration
	for i, g := range b.gops {
		for j, e := range g.aus {
			d := absDur(e.time.Sub(at))
			if gi < 0 || d < best {
				gi, ai, best = i, j, d
			}
		}
	}
	if gi < 0 || best > b.opts.Tolerance {
		what := "at " + fmtTime(at)
		if gi >= 0 {
			what += fmt.Sprintf(" (the nearest is %v away)", best.Round(time.Millisecond))
		}
		return decodeJob{}, b.noPictureLocked(what)
	}
	g := b.gops[gi]
	// The slice header pins the entries held now; later appends to an open
	// GOP and evictions do not touch them.
	return decodeJob{codec: g.codec, params: g.params, aus: g.aus[:len(g.aus):len(g.aus)], target: ai}, nil
}

// decode runs a fresh decoder from the GOP's keyframe until the target
// picture comes out. Pictures are matched by their index passed as PTS, so
// a stream with B-frames, whose pictures come out late, still yields the
// right one.
func (j decodeJob) decode(ctx context.Context) (gocv.Mat, error) {
	dec, err := avcodec.NewDecoder(j.codec, avcodec.Options{Threads: 1})
	if err != nil {
		return gocv.Mat{}, err
	}
	defer dec.Close()
	img := gocv.NewMat()
	found := false
	defer func() {
		if !found {
			img.Close()
		}
	}()
	// Errors on parameter sets show again on the keyframe if they matter.
	for _, p := range j.params {
		_, _ = dec.Decode([][]byte{p}, &img)
	}
	var lastErr error
	is := func(ok bool) bool {
		pts, has := dec.PTS()
		return ok && has && pts == int64(j.target)
	}
	for i, e := range j.aus {
		if err := ctx.Err(); err != nil {
			return gocv.Mat{}, err
		}
		ok, err := dec.DecodePTS(e.nalus, int64(i), &img)
		if err != nil {
			lastErr = err
		}
		if is(ok) {
			found = true
			return img, nil
		}
	}
	for {
		ok, err := dec.Drain(&img)
		if err != nil {
			lastErr = err
		}
		if !ok {
			break
		}
		if is(ok) {
			found = true
			return img, nil
		}
	}
	if lastErr == nil {
		lastErr = errors.New("the decoder returned no picture for it")
	}
	return gocv.Mat{}, fmt.Errorf("decode %v picture %d of its GOP: %w", j.codec, j.target, lastErr)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
