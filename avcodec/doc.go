// Package avcodec decodes H.264 and H.265 access units into BGR gocv.Mat
// pictures with FFmpeg's libavcodec and libswscale (via cgo).
//
// A Decoder serves one stream. It copies each access unit into a padded C
// buffer that is reused across calls, converts every picture with sws_scale
// straight into the destination Mat's memory, and silences libav's own
// stderr logging process-wide (OpenCV's FFmpeg backend included) because
// corrupt camera streams would otherwise flood it.
// Corrupt input never crashes the process: it yields an error wrapping
// ErrInvalidData and the decoder resumes at the next keyframe.
package avcodec
