package avcodec

/*
#cgo pkg-config: libavutil
#include <stdarg.h>
#include <libavutil/log.h>

static void sd_log_discard(void *avcl, int level, const char *fmt, va_list vl) {
	(void)avcl; (void)level; (void)fmt; (void)vl;
}

static void sd_silence_log(void) {
	av_log_set_level(AV_LOG_QUIET);
	av_log_set_callback(sd_log_discard);
}
*/
import "C"

import "sync"

var silenceOnce sync.Once

// silenceLibavLog stops libav from writing to stderr. A corrupt camera stream
// makes the H.264/H.265 decoders log several lines per access unit, and the
// errors that matter are returned from Decode anyway. Setting only the log
// level is not enough: OpenCV's FFmpeg backend resets the process-wide level
// to AV_LOG_ERROR when it opens its first file, whereas it leaves the
// callback alone. The setting is process-wide, so it is applied on first
// use of a Decoder rather than on import.
func silenceLibavLog() {
	silenceOnce.Do(func() { C.sd_silence_log() })
}
