package rtsptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// CheckLoop replays file loops times the way a Publisher does (-stream_loop,
// -c copy, no decoding) and checks that ffmpeg prints no warning and that the
// video decoding timestamps advance by about one frame duration at every
// packet, across loop boundaries too. A jump back or a gap there would reach
// readers as an RTP timestamp discontinuity every time the file wraps.
func CheckLoop(ctx context.Context, file string, loops int) error {
	loops = max(loops, 2)
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-nostats",
		"-loglevel", "warning", "-stream_loop", strconv.Itoa(loops-1), "-i", file,
		"-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("loop check: ffmpeg: %w: %s", err, tail(stderr.String(), 512))
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		return fmt.Errorf("loop check: ffmpeg complains when looping: %s", tail(msg, 512))
	}
	if err := checkFrameCRC(stdout.String(), loops); err != nil {
		return fmt.Errorf("loop check: %w", err)
	}
	return nil
}

// checkFrameCRC checks the packet timing in ffmpeg framecrc output
// ("stream, dts, pts, duration, size, crc" per packet, # comments).
func checkFrameCRC(out string, loops int) error {
	n := 0
	var prevDTS, prevDur, firstStep int64
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 5 {
			return fmt.Errorf("bad framecrc line %q", line)
		}
		dts, err1 := strconv.ParseInt(strings.TrimSpace(f[1]), 10, 64)
		dur, err2 := strconv.ParseInt(strings.TrimSpace(f[3]), 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad framecrc line %q", line)
		}
		if n > 0 {
			step := dts - prevDTS
			if step <= 0 {
				return fmt.Errorf("packet %d: dts goes from %d back to %d", n, prevDTS, dts)
			}
			if firstStep == 0 {
				firstStep = step
			}
			want := prevDur
			if want <= 0 {
				want = firstStep
			}
			// Half a frame either way: rounding is fine, a lost or doubled
			// frame's worth of time is not.
			if 2*step < want || 2*step > 3*want {
				return fmt.Errorf("packet %d: dts jumps by %d (frame duration %d), from %d to %d",
					n, step, want, prevDTS, dts)
			}
		}
		prevDTS, prevDur = dts, dur
		n++
	}
	if n == 0 {
		return errors.New("no video packets")
	}
	if n%loops != 0 {
		return fmt.Errorf("%d packets in %d loops: loops differ in length", n, loops)
	}
	return nil
}
