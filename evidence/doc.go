// Package evidence keeps the recent coded pictures of a camera's
// high-resolution main stream, as an NVR does, while the low-resolution
// detect stream is analysed: when something happens, a full-resolution
// snapshot or clip of the moment can still be taken.
//
// Nothing is decoded while recording. A Recorder receives the main stream
// with video.OpenRTSPStream, which depacketizes RTP into access units and
// does no more, and appends them to a Buffer; only a Snapshot decodes, and
// only the pictures it needs (from the keyframe before the requested time
// to the picture nearest to it). Recording a 720p stream therefore costs a
// small fraction of what decoding it would (see BenchmarkRecord720p15).
//
// A Buffer is a bounded ring of GOPs: each starts at a random-access
// picture (H.264 IDR, H.265 IRAP) and carries the parameter sets in force,
// so it can be decoded or written out on its own even when the camera sends
// its parameter sets only in the SDP. Access units before the first
// random-access picture (and after a GOP had to be dropped) are discarded
// until the next one. Whole GOPs are evicted, oldest first: by duration
// once the rest still covers Options.Keep, so the buffer holds between Keep
// and Keep plus one GOP, and by size whenever the coded bytes exceed
// Options.MaxBytes.
//
// Clips are written as an Annex-B elementary stream (.h264 or .h265) that
// starts at a keyframe and that ffmpeg, ffprobe and ffplay read. Such a
// stream has no timestamps: players assume 25 fps unless the SPS carries
// timing, and a gap (camera offline) is not visible in it. An MP4 muxer
// with the access units' times comes later.
package evidence
