package rtsptest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultSource is the real pedestrian video Debian's opencv-doc ships
// (768x576, 10 fps, 795 frames).
const DefaultSource = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// mediaVersion is part of every cache key; bump it when the encoding recipe
// changes so stale files are not reused.
const mediaVersion = "1"

// MediaOptions describes media to encode for publishing.
type MediaOptions struct {
	Source string  // input video; default DefaultSource
	Codec  string  // "h264" (default) or "h265"
	Width  int     // 0 = source width (or keep aspect when only Height is set)
	Height int     // 0 = source height (or keep aspect when only Width is set)
	FPS    float64 // 0 = source frame rate; otherwise frames are dropped or repeated
	GOP    int     // key frame interval in frames; default 1 s worth
	Dir    string  // cache directory; required
	// Duration keeps only the start of the source (0 = all of it). Tests
	// use a few seconds to keep encoding cheap; a short file also loops
	// often, which exercises the loop boundary.
	Duration time.Duration
}

// MakeMedia encodes opts.Source into an MP4 that ffmpeg can publish with
// "-stream_loop -1 -c copy" and returns its path. The file name is derived
// from every parameter (and the source's size and mtime), so a later call
// with the same options returns the cached file at once. The file is written
// under a temporary name, checked with CheckLoop, then renamed, so concurrent
// callers and interrupted runs never see a partial file.
//
// The encoding is what IP cameras send: no B-frames (-bf 0, so PTS = DTS and
// no reordering delay), a fixed GOP with no scene-cut key frames, and
// SPS/PPS (H.265: VPS/SPS/PPS) repeated in band before every key frame, so a
// reader joining mid-stream, or a decoder recovering from corruption, gets
// them in band as well as from the SDP.
//
// Why MP4: its time base is a multiple of the frame rate (15 fps gives
// 1/15360), so every frame duration is exact and -stream_loop offsets each
// loop by the exact stream duration from the index: decoding timestamps run
// on without a jump across the loop, and RTP timestamps advance by the same
// step every frame. Matroska stores milliseconds, so 15 fps alternates 66/67
// ms frames (RTP timestamp jitter a real camera does not have). MPEG-TS has
// exact 90 kHz timestamps but no index or stored duration, so the loop
// offset is estimated, and its packetization adds about 5% to the file.
func MakeMedia(ctx context.Context, opts MediaOptions) (string, error) {
	if opts.Dir == "" {
		return "", errors.New("rtsptest: media: Dir is required")
	}
	if opts.Source == "" {
		opts.Source = DefaultSource
	}
	if opts.Codec == "" {
		opts.Codec = "h264"
	}
	if opts.Codec != "h264" && opts.Codec != "h265" {
		return "", fmt.Errorf("rtsptest: media: codec %q is not h264 or h265", opts.Codec)
	}
	if opts.Width < 0 || opts.Height < 0 || opts.FPS < 0 || opts.GOP < 0 || opts.Duration < 0 {
		return "", errors.New("rtsptest: media: negative size, rate, GOP or duration")
	}
	src, err := filepath.Abs(opts.Source)
	if err != nil {
		return "", fmt.Errorf("rtsptest: media: %w", err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return "", fmt.Errorf("rtsptest: media source: %w", err)
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("rtsptest: media: %w", err)
	}

	gop := opts.GOP
	if gop == 0 {
		fps := opts.FPS
		if fps == 0 {
			if fps, err = probeFPS(ctx, src); err != nil {
				return "", err
			}
		}
		gop = max(1, int(math.Round(fps)))
	}

	enc := encodeArgs(opts, gop)
	sum := sha256.Sum256([]byte(strings.Join(append([]string{mediaVersion, src,
		strconv.FormatInt(fi.Size(), 10), strconv.FormatInt(fi.ModTime().UnixNano(), 10)}, enc...), "\x00")))
	name := mediaName(opts, gop, src) + "-" + hex.EncodeToString(sum[:5]) + ".mp4"
	out := filepath.Join(opts.Dir, name)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}

	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return "", fmt.Errorf("rtsptest: media: %w", err)
	}
	tmp, err := os.CreateTemp(opts.Dir, "."+name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("rtsptest: media: %w", err)
	}
	tmp.Close()
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op after the rename

	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y", "-i", src}
	args = append(args, enc...)
	args = append(args, "-f", "mp4", tmpName)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("rtsptest: encode %s to %s: %w: %s", src, opts.Codec, err, tail(stderr.String(), 512))
	}
	if err := CheckLoop(ctx, tmpName, 2); err != nil {
		return "", fmt.Errorf("rtsptest: encoded %s: %w", name, err)
	}
	if err := os.Rename(tmpName, out); err != nil {
		return "", fmt.Errorf("rtsptest: media: %w", err)
	}
	return out, nil
}

// encodeArgs are ffmpeg's output options for opts, everything that decides
// the file's content.
func encodeArgs(opts MediaOptions, gop int) []string {
	a := []string{"-map", "0:v:0", "-an", "-sn", "-dn"}
	var filters []string
	if opts.Width != 0 || opts.Height != 0 {
		w, h := opts.Width, opts.Height
		// -2 keeps the aspect ratio with an even size, as 4:2:0 needs.
		if w == 0 {
			w = -2
		}
		if h == 0 {
			h = -2
		}
		filters = append(filters, fmt.Sprintf("scale=%d:%d", w, h))
	}
	if opts.FPS != 0 {
		filters = append(filters, "fps="+strconv.FormatFloat(opts.FPS, 'f', -1, 64))
	}
	if len(filters) > 0 {
		a = append(a, "-vf", strings.Join(filters, ","))
	}
	if opts.Duration > 0 {
		a = append(a, "-t", strconv.FormatFloat(opts.Duration.Seconds(), 'f', -1, 64))
	}
	g := strconv.Itoa(gop)
	a = append(a, "-pix_fmt", "yuv420p")
	switch opts.Codec {
	case "h265":
		a = append(a, "-c:v", "libx265", "-preset", "ultrafast", "-bf", "0", "-g", g,
			"-x265-params", "bframes=0:keyint="+g+":min-keyint="+g+":scenecut=0:repeat-headers=1:log-level=error",
			"-tag:v", "hvc1")
	default:
		a = append(a, "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", g,
			"-keyint_min", g, "-sc_threshold", "0", "-x264-params", "repeat-headers=1")
	}
	return a
}

// mediaName is the readable part of a cache file name.
func mediaName(opts MediaOptions, gop int, src string) string {
	base := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	size := "src"
	if opts.Width != 0 || opts.Height != 0 {
		size = fmt.Sprintf("%dx%d", opts.Width, opts.Height)
	}
	fps := "srcfps"
	if opts.FPS != 0 {
		fps = strconv.FormatFloat(opts.FPS, 'f', -1, 64) + "fps"
	}
	n := fmt.Sprintf("%s-%s-%s-%s-g%d", base, opts.Codec, size, fps, gop)
	if opts.Duration > 0 {
		n += "-" + opts.Duration.String()
	}
	return n
}

// probeFPS reads the frame rate of src's first video stream.
func probeFPS(ctx context.Context, src string) (float64, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=avg_frame_rate", "-of", "csv=p=0", src).Output()
	if err != nil {
		return 0, fmt.Errorf("rtsptest: probe frame rate of %s: %w", src, err)
	}
	fps, err := parseRate(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("rtsptest: probe frame rate of %s: %w", src, err)
	}
	return fps, nil
}

// parseRate parses ffprobe's "num/den" rates.
func parseRate(s string) (float64, error) {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0, fmt.Errorf("bad rate %q", s)
	}
	return n / d, nil
}

// tail returns the end of s, at most n bytes, trimmed.
func tail(s string, n int) string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
