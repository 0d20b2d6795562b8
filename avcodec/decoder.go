package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gocv.io/x/gocv"
)

// maxPixels caps the picture size a (possibly corrupt) SPS may ask for, so
// garbage cannot make libavcodec allocate gigabytes. 8192x8192 is far above
// any camera.
const maxPixels = 8192 * 8192

// noPTS is libavcodec's AV_NOPTS_VALUE (INT64_MIN), which cgo cannot
// evaluate because it is built with a function-like macro.
const noPTS = math.MinInt64

// Options tunes a Decoder.
type Options struct {
	// Threads is the number of libavcodec decoding threads; 0 means 1. Many
	// cameras share a 2-core box, so one thread per stream is the right
	// default. With more than one thread libavcodec uses frame threading,
	// which delays each picture by Threads-1 access units (see Drain).
	Threads int
}

// Decoder decodes one H.264 or H.265 stream into BGR pictures. It is meant
// to be driven by one goroutine; its methods are nonetheless serialized, so
// Close may be called from another goroutine at any time.
type Decoder struct {
	codec Codec

	mu       sync.Mutex
	res      *resources // nil once closed
	cleanup  runtime.Cleanup
	draining bool // an end-of-stream packet was sent (Drain)
	width    int
	height   int
	pts      int64
	corrupt  bool
}

// resources holds every C allocation of a Decoder. It is separate from the
// Decoder so a runtime cleanup can free it if a Decoder is dropped unclosed.
type resources struct {
	ctx   *C.AVCodecContext
	pkt   *C.AVPacket
	frame *C.AVFrame // target of avcodec_receive_frame
	last  *C.AVFrame // newest picture of the current call
	conv  converter
	in    inputBuffer
}

// free releases everything; safe on partially built and already freed
// resources.
func (r *resources) free() {
	r.conv.free()
	r.in.free()
	if r.last != nil {
		C.av_frame_free(&r.last)
	}
	if r.frame != nil {
		C.av_frame_free(&r.frame)
	}
	if r.pkt != nil {
		C.av_packet_free(&r.pkt)
	}
	if r.ctx != nil {
		C.avcodec_free_context(&r.ctx)
	}
}

// NewDecoder opens a libavcodec decoder for c.
func NewDecoder(c Codec, opts Options) (*Decoder, error) {
	id, ok := c.codecID()
	if !ok {
		return nil, fmt.Errorf("avcodec: unsupported codec %v", c)
	}
	threads := opts.Threads
	if threads < 0 {
		return nil, fmt.Errorf("avcodec: negative thread count %d", threads)
	}
	if threads == 0 {
		threads = 1
	}
	silenceLibavLog()

	codec := C.avcodec_find_decoder(id)
	if codec == nil {
		return nil, fmt.Errorf("avcodec: this libavcodec has no %v decoder", c)
	}
	r := &resources{}
	if r.ctx = C.avcodec_alloc_context3(codec); r.ctx == nil {
		return nil, fmt.Errorf("avcodec: allocating %v codec context failed", c)
	}
	r.ctx.thread_count = C.int(threads)
	r.ctx.max_pixels = maxPixels
	if c == H265 {
		// FFmpeg 5.1's HEVC decoder conceals damaged slice data without
		// an error and without flagging the picture; with explode it
		// reports the damage (and withholds that picture), so corrupt
		// streams show up in decode_errors instead of as grey smears.
		r.ctx.err_recognition |= C.AV_EF_EXPLODE
	}
	if ret := C.avcodec_open2(r.ctx, codec, nil); ret < 0 {
		r.free()
		return nil, fmt.Errorf("avcodec: opening %v decoder: %s", c, avErrorString(ret))
	}
	r.pkt = C.av_packet_alloc()
	r.frame = C.av_frame_alloc()
	r.last = C.av_frame_alloc()
	if r.pkt == nil || r.frame == nil || r.last == nil {
		r.free()
		return nil, fmt.Errorf("avcodec: allocating %v packet/frames failed", c)
	}
	r.pkt.pts = noPTS
	d := &Decoder{codec: c, res: r, pts: noPTS}
	d.cleanup = runtime.AddCleanup(d, (*resources).free, r)
	return d, nil
}

// Codec returns the format the decoder was opened for.
func (d *Decoder) Codec() Codec { return d.codec }

// Decode decodes one access unit given as NAL units without start codes
// (what gortsplib's rtph264/rtph265 decoders return). Parameter sets from
// the SDP can be passed the same way; such an access unit without slices
// yields no picture and no error. Empty NAL units are ignored. When a
// picture comes out it is converted to BGR24 into *dst and ok is true; if
// several come out, *dst gets the newest.
//
// Like io.Reader, ok and err are independent: err != nil reports corrupt
// input (wrapping ErrInvalidData) and may come together with a picture that
// was still decoded. The decoder stays usable after errors.
//
// A picture normally belongs to the access unit just passed, but B-frame
// reordering, Threads > 1 and, after heavily corrupt input, the H.264
// decoder's reorder heuristics delay pictures; use DecodePTS to tell which
// access unit a picture belongs to.
func (d *Decoder) Decode(au [][]byte, dst *gocv.Mat) (ok bool, err error) {
	return d.DecodePTS(au, noPTS, dst)
}

// DecodePTS is Decode with a presentation timestamp (in any unit, e.g. the
// RTP timestamp) attached to the access unit. PTS then reports the
// timestamp of the picture that came out, which may belong to an earlier
// access unit.
func (d *Decoder) DecodePTS(au [][]byte, pts int64, dst *gocv.Mat) (ok bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.res == nil {
		return false, ErrClosed
	}
	n, err := d.res.in.setNALUs(au)
	if err != nil || n == 0 {
		return false, err
	}
	return d.decode(n, pts, dst)
}

// DecodeAnnexB is Decode for one access unit as Annex-B bytes (start codes
// included), as files and raw TCP/pipe sources deliver it.
func (d *Decoder) DecodeAnnexB(b []byte, dst *gocv.Mat) (ok bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.res == nil {
		return false, ErrClosed
	}
	n, err := d.res.in.setAnnexB(b)
	if err != nil || n == 0 {
		return false, err
	}
	return d.decode(n, noPTS, dst)
}

// decode sends the first n bytes of the input buffer and converts the
// newest resulting picture. Callers hold d.mu.
func (d *Decoder) decode(n int, pts int64, dst *gocv.Mat) (bool, error) {
	r := d.res
	if d.draining {
		d.resetLocked()
	}
	r.pkt.data = r.in.ptr
	r.pkt.size = C.int(n)
	r.pkt.pts = C.int64_t(pts)
	// The packet has no AVBufferRef, so libavcodec copies the data it keeps
	// and the input buffer is free for the next call once this returns.
	defer func() {
		r.pkt.data = nil
		r.pkt.size = 0
		r.pkt.pts = noPTS
	}()

	got := false
	var sendErr error
	for {
		ret := C.avcodec_send_packet(r.ctx, r.pkt)
		if ret != errEAGAIN {
			// libavcodec's H.264 decoder fails packets without a slice ("no
			// frame") even though it stored their parameter sets; that is
			// how SDP parameter sets arrive, so it is not an error here.
			if ret < 0 && (r.in.hasVCL(d.codec, n) || ret == errENOMEM) {
				sendErr = decodeError(d.codec, "decode", ret)
			}
			break
		}
		// The decoder holds output it wants read before taking more input.
		g, err := d.receiveAll()
		got = got || g
		if err != nil {
			sendErr = err
			break
		}
		if !g {
			// Neither input nor output possible would loop forever; the API
			// rules this out, so treat it as a broken decoder state.
			sendErr = fmt.Errorf("avcodec: %v decoder refuses input without producing output", d.codec)
			break
		}
	}
	g, recvErr := d.receiveAll()
	got = got || g
	err := sendErr
	if err == nil {
		err = recvErr
	}
	if !got {
		return false, err
	}
	if cerr := d.emit(dst); cerr != nil {
		return false, errors.Join(err, cerr)
	}
	return true, err
}

// receiveAll reads every picture the decoder has ready, keeping the newest
// in r.last. It stops at EAGAIN (needs input) and EOF (drained).
func (d *Decoder) receiveAll() (got bool, err error) {
	r := d.res
	for {
		ret := C.avcodec_receive_frame(r.ctx, r.frame)
		switch {
		case ret == 0:
			C.av_frame_unref(r.last)
			C.av_frame_move_ref(r.last, r.frame)
			got = true
		case ret == errEAGAIN || ret == errEOF:
			return got, nil
		default:
			return got, decodeError(d.codec, "receive frame", ret)
		}
	}
}

// emit converts r.last into *dst and releases the frame so its buffer goes
// back to libavcodec's pool.
func (d *Decoder) emit(dst *gocv.Mat) error {
	r := d.res
	defer C.av_frame_unref(r.last)
	if err := r.conv.toBGR(r.last, dst); err != nil {
		return err
	}
	d.width = int(r.last.width)
	d.height = int(r.last.height)
	d.pts = int64(r.last.pts)
	d.corrupt = r.last.flags&C.AV_FRAME_FLAG_CORRUPT != 0 || r.last.decode_error_flags != 0
	return nil
}

// Drain signals end of stream and returns the pictures the decoder still
// holds, one per call, until ok is false. Pictures are held back when the
// stream reorders frames (B-frames) or Threads > 1. Once drained the decoder
// is reset and accepts a new stream; calling Decode before that discards
// the remaining pictures. A held-back picture that fails to decode is
// skipped and its error returned with the next result.
func (d *Decoder) Drain(dst *gocv.Mat) (ok bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.res
	if r == nil {
		return false, ErrClosed
	}
	if !d.draining {
		if ret := C.avcodec_send_packet(r.ctx, nil); ret < 0 && ret != errEOF {
			d.resetLocked()
			return false, decodeError(d.codec, "drain", ret)
		}
		d.draining = true
	}
	// Each failed receive consumes a held-back picture, so the loop ends;
	// the bound only guards against a decoder that never reaches EOF.
	for range maxDrainErrors {
		ret := C.avcodec_receive_frame(r.ctx, r.last)
		switch {
		case ret == 0:
			if cerr := d.emit(dst); cerr != nil {
				return false, errors.Join(err, cerr)
			}
			return true, err
		case ret == errEOF || ret == errEAGAIN:
			d.resetLocked()
			return false, err
		case err == nil:
			err = decodeError(d.codec, "drain", ret)
		}
	}
	d.resetLocked()
	return false, err
}

// maxDrainErrors bounds consecutive failed receives within one Drain call;
// decoders hold back at most a few dozen pictures.
const maxDrainErrors = 64

// Reset discards buffered input and held-back pictures, e.g. after a
// reconnect, so the next access unit starts afresh (from a keyframe).
func (d *Decoder) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.res != nil {
		d.resetLocked()
	}
}

func (d *Decoder) resetLocked() {
	C.avcodec_flush_buffers(d.res.ctx)
	C.av_frame_unref(d.res.frame)
	C.av_frame_unref(d.res.last)
	d.draining = false
}

// Width returns the width of the last picture, 0 before the first.
func (d *Decoder) Width() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.width
}

// Height returns the height of the last picture, 0 before the first.
func (d *Decoder) Height() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.height
}

// PTS returns the timestamp given to DecodePTS for the access unit the last
// picture came from; ok is false if it had none.
func (d *Decoder) PTS() (pts int64, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pts, d.pts != noPTS
}

// Corrupt reports whether libavcodec flagged the last picture as damaged
// (error-concealed). Such pictures can show smeared blocks that look like
// motion to later stages. Only the H.264 decoder sets the flag; H.265
// pictures decoded from lost references come out unflagged.
func (d *Decoder) Corrupt() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.corrupt
}

// Close frees all libav resources. It is idempotent; other methods return
// ErrClosed afterwards.
func (d *Decoder) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.res == nil {
		return
	}
	d.cleanup.Stop()
	d.res.free()
	d.res = nil
}
