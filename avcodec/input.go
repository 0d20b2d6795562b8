package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#include <libavcodec/avcodec.h>
#include <libavutil/mem.h>
*/
import "C"

import (
	"bytes"
	"fmt"
	"unsafe"
)

const (
	// inputPadding is the zeroed tail libavcodec requires after packet data:
	// its bitstream readers load several bytes at a time and may read past
	// the end.
	inputPadding = C.AV_INPUT_BUFFER_PADDING_SIZE
	// minInputCap avoids a series of small reallocations at the start of a
	// stream; 64 KiB holds most 720p/1080p P-frames.
	minInputCap = 64 << 10
	// maxAccessUnit bounds what is handed to libavcodec (whose sizes are C
	// ints). Even a 4K intra frame is a few MiB, so anything larger is a
	// broken depacketizer or garbage.
	maxAccessUnit = 64 << 20
)

// annexBStartCode precedes every NAL unit written by setNALUs. The 4-byte
// form is what encoders emit before parameter sets and is valid everywhere.
var annexBStartCode = [4]byte{0, 0, 0, 1}

// inputBuffer is a C-allocated packet buffer reused across access units.
// Living in C memory it can be handed to libavcodec without pinning, and
// reuse keeps the per-frame path free of allocations.
type inputBuffer struct {
	ptr *C.uint8_t
	cap int // usable bytes, excluding the padding
}

// reserve makes room for n bytes of data plus padding. Old contents are not
// kept: every call writes a whole access unit.
func (b *inputBuffer) reserve(n int) error {
	if n > maxAccessUnit {
		return fmt.Errorf("%w: access unit of %d bytes exceeds %d", ErrInvalidData, n, maxAccessUnit)
	}
	if n <= b.cap {
		return nil
	}
	newCap := max(n, 2*b.cap, minInputCap)
	p := C.av_malloc(C.size_t(newCap + inputPadding))
	if p == nil {
		return fmt.Errorf("avcodec: allocating %d byte input buffer failed", newCap+inputPadding)
	}
	C.av_free(unsafe.Pointer(b.ptr))
	b.ptr = (*C.uint8_t)(p)
	b.cap = newCap
	return nil
}

// bytes views the whole buffer, padding included, as a Go slice over C
// memory.
func (b *inputBuffer) bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(b.ptr)), b.cap+inputPadding)
}

// setNALUs writes au as Annex-B (a start code before each non-empty NAL
// unit) followed by zeroed padding and returns the data length, 0 when au
// holds no data.
func (b *inputBuffer) setNALUs(au [][]byte) (int, error) {
	n := 0
	for _, nalu := range au {
		if len(nalu) > 0 {
			n += len(annexBStartCode) + len(nalu)
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.reserve(n); err != nil {
		return 0, err
	}
	buf := b.bytes()
	pos := 0
	for _, nalu := range au {
		if len(nalu) > 0 {
			pos += copy(buf[pos:], annexBStartCode[:])
			pos += copy(buf[pos:], nalu)
		}
	}
	clear(buf[n : n+inputPadding])
	return n, nil
}

// setAnnexB copies Annex-B bytes followed by zeroed padding and returns the
// data length. The copy is needed because the caller's slice has no padding
// and libavcodec may read past its end.
func (b *inputBuffer) setAnnexB(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := b.reserve(len(p)); err != nil {
		return 0, err
	}
	buf := b.bytes()
	copy(buf, p)
	clear(buf[len(p) : len(p)+inputPadding])
	return len(p), nil
}

// free releases the C memory; the buffer may be reused afterwards.
func (b *inputBuffer) free() {
	C.av_free(unsafe.Pointer(b.ptr))
	b.ptr = nil
	b.cap = 0
}

// hasVCL reports whether the first n bytes (Annex-B) contain a slice, i.e.
// picture data rather than only parameter sets, SEI or delimiters.
func (b *inputBuffer) hasVCL(c Codec, n int) bool {
	data := b.bytes()[:n]
	for {
		i := bytes.Index(data, annexBStartCode[1:])
		if i < 0 || i+3 >= len(data) {
			return false
		}
		data = data[i+3:]
		if isVCL(c, data[0]) {
			return true
		}
	}
}

// isVCL reports whether a NAL unit whose first header byte is h carries
// slice data.
func isVCL(c Codec, h byte) bool {
	if c == H264 {
		t := h & 0x1f
		return t >= 1 && t <= 5
	}
	return (h>>1)&0x3f < 32
}
