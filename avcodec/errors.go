package avcodec

/*
#cgo pkg-config: libavutil
#include <errno.h>
#include <libavutil/error.h>

// AVERROR() and FFERRTAG() are function-like macros, which cgo cannot
// evaluate, so their values are exported as enum constants.
enum {
	sdErrEAGAIN = AVERROR(EAGAIN),
	sdErrEOF    = AVERROR_EOF,
	sdErrENOMEM = AVERROR(ENOMEM),
};
*/
import "C"

import (
	"errors"
	"fmt"
)

// libav return codes the decoding loop distinguishes.
const (
	errEAGAIN = C.sdErrEAGAIN // output must be read before more input
	errEOF    = C.sdErrEOF    // fully drained
	errENOMEM = C.sdErrENOMEM
)

// ErrInvalidData marks corrupt or unsupported input. The decoder stays
// usable after it and decodes again from the next keyframe.
var ErrInvalidData = errors.New("avcodec: invalid data")

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("avcodec: decoder closed")

// avErrorString returns libav's description of an AVERROR code.
func avErrorString(code C.int) string {
	var buf [C.AV_ERROR_MAX_STRING_SIZE]C.char
	if C.av_strerror(code, &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Sprintf("libav error %d", int(code))
	}
	return C.GoString(&buf[0])
}

// decodeError wraps a libav error code from a decoding step. Everything but
// running out of memory is blamed on the input: libavcodec reports corrupt
// bitstreams as INVALIDDATA but also as ERANGE, PATCHWELCOME or ENOSYS, and
// in every case the decoder itself is still fine for the next access unit.
func decodeError(c Codec, op string, code C.int) error {
	return &avError{codec: c, op: op, code: int(code), msg: avErrorString(code)}
}

// avError is a failed libav call with libav's own description.
type avError struct {
	codec Codec
	op    string
	code  int
	msg   string
}

func (e *avError) Error() string {
	return fmt.Sprintf("avcodec: %v %s: %s", e.codec, e.op, e.msg)
}

// Is makes errors.Is(err, ErrInvalidData) hold for input errors.
func (e *avError) Is(target error) bool {
	return target == ErrInvalidData && e.code != int(errENOMEM)
}
