package evidence

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/storesight/storesight/avcodec"
)

// Clip describes what WriteClip wrote.
type Clip struct {
	Codec      avcodec.Codec
	Start, End time.Time // times of the first and last picture written
	Pictures   int
	GOPs       int
	Bytes      int64
}

// ClipExt is the file extension of a clip of codec c: ".h264" or ".h265".
func ClipExt(c avcodec.Codec) string {
	if c == avcodec.H265 {
		return ".h265"
	}
	return ".h264"
}

var startCode = []byte{0, 0, 0, 1}

// WriteClip writes the held pictures from the keyframe at or before from
// (the oldest held one if from is earlier) through the last one at or
// before to, as an Annex-B elementary stream: every GOP starts with its
// parameter sets, so the clip plays from its start and across resolution
// changes. A stream cannot change codec, so a clip stops before a GOP of
// another codec than its first. The held data is taken under the lock and
// written outside it: a slow writer never holds up Add. It fails with an
// error wrapping ErrNoPicture when no picture lies in [from, to].
func (b *Buffer) WriteClip(w io.Writer, from, to time.Time) (Clip, error) {
	if to.Before(from) {
		return Clip{}, fmt.Errorf("clip: end %s is before start %s", fmtTime(to), fmtTime(from))
	}
	gops, err := b.clipGOPs(from, to)
	if err != nil {
		return Clip{}, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &countWriter{w: bw}
	c := Clip{Codec: gops[0].codec, Start: gops[0].aus[0].time}
	for _, g := range gops {
		if !hasSPS(g.codec, g.aus[0].nalus) {
			writeNALUs(cw, g.params)
		}
		for _, e := range g.aus {
			writeNALUs(cw, e.nalus)
			c.End = e.time
			c.Pictures++
		}
		c.GOPs++
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	c.Bytes = cw.n
	if cw.err != nil {
		return c, fmt.Errorf("clip %s..%s: write: %w", fmtTime(from), fmtTime(to), cw.err)
	}
	return c, nil
}

// clipGOPs returns the GOPs of a clip, each cut to the pictures it
// contributes (the last one at to).
func (b *Buffer) clipGOPs(from, to time.Time) ([]gop, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	first := 0
	for i, g := range b.gops {
		if !g.start().After(from) {
			first = i
		}
	}
	// from in a gap after a GOP (camera offline): start at the next one.
	if first+1 < len(b.gops) {
		if g := b.gops[first]; g.aus[len(g.aus)-1].time.Before(from) {
			first++
		}
	}
	var out []gop
	for _, g := range b.gops[first:] {
		if len(out) > 0 && g.codec != out[0].codec {
			break
		}
		n := 0
		for n < len(g.aus) && !g.aus[n].time.After(to) {
			n++
		}
		if n == 0 {
			break
		}
		c := *g
		c.aus = g.aus[:n:n]
		out = append(out, c)
		if n < len(g.aus) {
			break
		}
	}
	// Pictures before from, in the GOP that leads up to it, are there to
	// decode from; the clip must still reach into [from, to].
	if len(out) == 0 || out[len(out)-1].aus[len(out[len(out)-1].aus)-1].time.Before(from) {
		return nil, b.noPictureLocked(fmt.Sprintf("between %s and %s", fmtTime(from), fmtTime(to)))
	}
	return out, nil
}

func writeNALUs(w io.Writer, nalus [][]byte) {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		w.Write(startCode)
		w.Write(n)
	}
}

// countWriter counts bytes and keeps the first error, after which it
// writes nothing.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// hasSPS tells whether an access unit carries its own sequence parameter
// set (cameras that repeat them in band do so at every keyframe).
func hasSPS(c avcodec.Codec, nalus [][]byte) bool {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		switch c {
		case avcodec.H264:
			if n[0]&0x1f == 7 {
				return true
			}
		case avcodec.H265:
			if (n[0]>>1)&0x3f == 33 {
				return true
			}
		}
	}
	return false
}
