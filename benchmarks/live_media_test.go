package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/storesight/storesight/internal/rtsptest"
)

// Quiet-hours stream: vtest.avi cut into segments, each but the last
// followed by its final frame held still, as in BenchmarkMotionGatingVtest.
const (
	quietSegment = 10 * time.Second
	quietPause   = 20 * time.Second
)

// liveMedia encodes (or finds in dir) what the publishers send: vtest.avi
// as an IP camera's 720p H.264 stream, and with quiet set, the quiet-hours
// version of it.
func liveMedia(ctx context.Context, dir string, quiet bool) (string, error) {
	src := rtsptest.DefaultSource
	if quiet {
		var err error
		if src, err = quietSource(ctx, dir); err != nil {
			return "", err
		}
	}
	return rtsptest.MakeMedia(ctx, rtsptest.MediaOptions{
		Source: src, Codec: "h264", Width: liveWidth, Height: liveHeight, FPS: liveStreamFPS, Dir: dir,
	})
}

// quietSource writes the quiet-hours version of vtest.avi at its own size
// and rate, nearly lossless (it is only an input to MakeMedia), once.
func quietSource(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, fmt.Sprintf("vtest-quiet-%s-%s.mkv", quietSegment, quietPause))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// vtest.avi is 795 frames at 10 fps: segments of 100 frames.
	const frames, fps = 795, 10
	seg := int(quietSegment.Seconds() * fps)
	n := (frames + seg - 1) / seg
	var f strings.Builder
	fmt.Fprintf(&f, "[0:v]split=%d", n)
	for i := range n {
		fmt.Fprintf(&f, "[i%d]", i)
	}
	for i := range n {
		fmt.Fprintf(&f, ";[i%d]trim=start_frame=%d:end_frame=%d,setpts=PTS-STARTPTS", i, i*seg, min((i+1)*seg, frames))
		if i < n-1 {
			fmt.Fprintf(&f, ",tpad=stop_mode=clone:stop_duration=%g", quietPause.Seconds())
		}
		fmt.Fprintf(&f, "[s%d]", i)
	}
	f.WriteString(";")
	for i := range n {
		fmt.Fprintf(&f, "[s%d]", i)
	}
	fmt.Fprintf(&f, "concat=n=%d:v=1:a=0[out]", n)

	tmp := out + ".tmp.mkv"
	defer os.Remove(tmp) // no-op after the rename
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-i", rtsptest.DefaultSource, "-filter_complex", f.String(), "-map", "[out]",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "8", "-pix_fmt", "yuv420p", tmp)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make quiet vtest: %w: %s", err, stderr.String())
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}
