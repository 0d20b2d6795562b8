package avcodec

/*
#cgo pkg-config: libavutil libswscale
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

// sd_set_colorspace sets the YUV->RGB matrix and input range while keeping
// the context's other colour details, the way FFmpeg's scale filter does.
static int sd_set_colorspace(struct SwsContext *c, int colorspace, int src_full_range) {
	int *inv_table, *table, src_range, dst_range, brightness, contrast, saturation;
	if (sws_getColorspaceDetails(c, &inv_table, &src_range, &table, &dst_range,
			&brightness, &contrast, &saturation) < 0) {
		return -1;
	}
	return sws_setColorspaceDetails(c, sws_getCoefficients(colorspace), src_full_range,
		table, dst_range, brightness, contrast, saturation);
}

// sd_scale_to_bgr converts f into one packed BGR24 plane. It lives in C so
// the data/linesize arrays of f never travel through Go.
static int sd_scale_to_bgr(struct SwsContext *c, const AVFrame *f, uint8_t *dst, int stride) {
	uint8_t *dst_data[4] = {dst, NULL, NULL, NULL};
	int dst_stride[4] = {stride, 0, 0, 0};
	return sws_scale(c, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
		dst_data, dst_stride);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gocv.io/x/gocv"
)

// swsKey is everything the conversion depends on; a change in any of it
// needs a new context (size, format) or new colour tables.
type swsKey struct {
	width, height int
	format        C.int // AVPixelFormat after mapping YUVJ formats
	colorspace    C.int // SWS_CS_* coefficient set
	fullRange     bool
}

// converter turns decoded frames into BGR Mats with a cached sws context.
type converter struct {
	sws *C.struct_SwsContext
	key swsKey
}

// toBGR converts f into *dst, reusing dst when it already has the right
// size and layout.
func (cv *converter) toBGR(f *C.AVFrame, dst *gocv.Mat) error {
	key := frameKey(f)
	if key.width <= 0 || key.height <= 0 {
		return fmt.Errorf("avcodec: decoded picture has invalid size %dx%d", key.width, key.height)
	}
	if cv.sws == nil || key != cv.key {
		if err := cv.reset(key); err != nil {
			return err
		}
	}
	ensureBGRMat(dst, key.width, key.height)
	pix, err := dst.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("avcodec: destination Mat: %w", err)
	}
	stride := dst.Step()
	if len(pix) < stride*key.height || stride < 3*key.width {
		return fmt.Errorf("avcodec: destination Mat too small for %dx%d", key.width, key.height)
	}
	// pix points into OpenCV's C heap, so passing it on is within cgo's rules.
	rows := C.sd_scale_to_bgr(cv.sws, f, (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(pix))), C.int(stride))
	if int(rows) != key.height {
		return fmt.Errorf("avcodec: sws_scale wrote %d of %d rows", int(rows), key.height)
	}
	return nil
}

// reset builds a context for key, freeing the previous one.
func (cv *converter) reset(key swsKey) error {
	cv.free()
	// Unscaled YUV->BGR24 takes swscale's special-cased fast path; the
	// interpolation flag only matters outside it. That path's x86 SIMD code
	// converts 8 pixels at a time and, when the destination rows are packed
	// tightly as in a continuous Mat, silently leaves the last width%8
	// pixels of every row unwritten (FFmpeg 5.1). Accurate rounding routes
	// such widths through the generic, slower but exact path.
	flags := C.int(C.SWS_BILINEAR)
	if key.width%8 != 0 {
		flags |= C.SWS_ACCURATE_RND
	}
	sws := C.sws_getContext(C.int(key.width), C.int(key.height), C.enum_AVPixelFormat(key.format),
		C.int(key.width), C.int(key.height), C.AV_PIX_FMT_BGR24,
		flags, nil, nil, nil)
	if sws == nil {
		return fmt.Errorf("avcodec: no conversion from pixel format %s (%dx%d) to BGR24",
			pixFmtName(key.format), key.width, key.height)
	}
	fullRange := C.int(0)
	if key.fullRange {
		fullRange = 1
	}
	// Failure only leaves the default BT.601 limited-range tables, which is
	// still a usable picture, so it is not fatal.
	C.sd_set_colorspace(sws, key.colorspace, fullRange)
	cv.sws = sws
	cv.key = key
	return nil
}

// free releases the sws context; the converter may be reused afterwards.
func (cv *converter) free() {
	if cv.sws != nil {
		C.sws_freeContext(cv.sws)
		cv.sws = nil
	}
	cv.key = swsKey{}
}

// frameKey derives the conversion parameters from a decoded frame. The
// deprecated YUVJ formats (full-range JPEG YUV, common on IP cameras) are
// mapped to their plain counterparts plus an explicit full range, which is
// what swscale expects.
func frameKey(f *C.AVFrame) swsKey {
	k := swsKey{
		width:      int(f.width),
		height:     int(f.height),
		format:     C.int(f.format),
		colorspace: C.SWS_CS_DEFAULT,
		fullRange:  f.color_range == C.AVCOL_RANGE_JPEG,
	}
	switch k.format {
	case C.AV_PIX_FMT_YUVJ420P:
		k.format, k.fullRange = C.AV_PIX_FMT_YUV420P, true
	case C.AV_PIX_FMT_YUVJ422P:
		k.format, k.fullRange = C.AV_PIX_FMT_YUV422P, true
	case C.AV_PIX_FMT_YUVJ444P:
		k.format, k.fullRange = C.AV_PIX_FMT_YUV444P, true
	case C.AV_PIX_FMT_YUVJ440P:
		k.format, k.fullRange = C.AV_PIX_FMT_YUV440P, true
	}
	// Untagged streams keep swscale's default (BT.601), which is also what
	// encoders assume when converting from RGB without tags.
	switch f.colorspace {
	case C.AVCOL_SPC_BT709:
		k.colorspace = C.SWS_CS_ITU709
	case C.AVCOL_SPC_FCC:
		k.colorspace = C.SWS_CS_FCC
	case C.AVCOL_SPC_SMPTE240M:
		k.colorspace = C.SWS_CS_SMPTE240M
	case C.AVCOL_SPC_BT2020_NCL, C.AVCOL_SPC_BT2020_CL:
		k.colorspace = C.SWS_CS_BT2020
	}
	return k
}

// pixFmtName names a pixel format for error messages.
func pixFmtName(f C.int) string {
	if name := C.av_get_pix_fmt_name(C.enum_AVPixelFormat(f)); name != nil {
		return C.GoString(name)
	}
	return fmt.Sprintf("pix_fmt(%d)", int(f))
}

// ensureBGRMat makes *dst a continuous CV_8UC3 Mat of w x h, keeping it when
// it already is one so steady-state decoding allocates no pixel memory.
func ensureBGRMat(dst *gocv.Mat, w, h int) {
	if dst.Ptr() != nil {
		if !dst.Empty() && dst.Type() == gocv.MatTypeCV8UC3 && dst.Rows() == h && dst.Cols() == w && dst.IsContinuous() {
			return
		}
		dst.Close()
	}
	*dst = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
}
