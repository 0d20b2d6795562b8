// Package rtsptest is a test and benchmark kit for storesight's RTSP camera
// source: an RTSP relay server built on gortsplib's Server, an ffmpeg
// publisher that behaves like an IP camera (stream copy, reconnects when the
// server goes away), and an encoder that turns a video file into media that
// such a publisher can loop forever.
//
// The server relays every path independently: a publisher (ffmpeg's RTSP
// muxer) ANNOUNCEs and RECORDs on a path, readers DESCRIBE/SETUP/PLAY it over
// TCP or UDP. A path with no recording publisher answers 404, and when the
// publisher goes away its readers are disconnected, as a camera that reboots
// would do. Faults are injected on the relay path: Close (server crash),
// Freeze (hung camera: connections stay up, media stops) and Corrupt (garbled
// slice data).
//
// Timing users must know about: after Close and Start(s.Options()), a
// Publisher is publishing again about 0.5-1 s after the new Start (ffmpeg
// sees the dropped connection at once and is restarted 200 ms later; while
// the server stays down, retries back off to one a second, and ffmpeg needs
// ~300 ms to open its input and RECORD). Allow 5 s. A reader that connects in
// between gets connection refused or 404 and must retry. WaitPublished must
// be called on the new Server. Freeze(false) resumes video at the next key
// frame, so within one GOP (1 s with MakeMedia's default).
//
// Cost, measured by BenchmarkRelay8x720p15 on the 2-core box: 8 cameras of
// 720p 15 fps H.264 (~1170 RTP packets/s) cost about 3.5% of one core for
// the relay plus 8 readers, and 2.5% for the 8 ffmpeg publishers together.
//
// One Publisher per path: the newest publisher on a path replaces the
// previous one, so two would keep evicting each other.
package rtsptest
