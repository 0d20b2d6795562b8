package avcodec

// #cgo pkg-config: libavcodec
// #include <libavcodec/avcodec.h>
import "C"

import "strconv"

// Codec is a video compression format the Decoder understands.
type Codec int

// Supported codecs.
const (
	H264 Codec = iota + 1
	H265
)

// String returns the codec's conventional name.
func (c Codec) String() string {
	switch c {
	case H264:
		return "H264"
	case H265:
		return "H265"
	}
	return "Codec(" + strconv.Itoa(int(c)) + ")"
}

// codecID maps c to libavcodec's identifier; ok is false for unknown codecs.
func (c Codec) codecID() (id C.enum_AVCodecID, ok bool) {
	switch c {
	case H264:
		return C.AV_CODEC_ID_H264, true
	case H265:
		return C.AV_CODEC_ID_HEVC, true
	}
	return C.AV_CODEC_ID_NONE, false
}
