package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/avcodec"
)

// decodeCPU is what decoding one camera's pictures costs in CPU time, by
// itself: the first seconds of the benchmark's media, decoded (and
// converted to BGR) by one avcodec.Decoder on one locked OS thread, timed
// with that thread's CPU clock. Unlike LiveStats.DecodeTime, which is wall
// time and grows when decoders wait for a core, it does not depend on how
// busy the box is.
type decodeCPU struct {
	pictures int
	perPic   time.Duration
}

// measureDecodeCPU decodes the first d of an H.264 MP4.
func measureDecodeCPU(ctx context.Context, media string, d time.Duration) (decodeCPU, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-i", media, "-t", fmt.Sprint(d.Seconds()), "-map", "0:v:0", "-c", "copy",
		"-bsf:v", "h264_mp4toannexb", "-f", "h264", "-")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return decodeCPU{}, fmt.Errorf("extract H.264 from %s: %w: %s", media, err, stderr.String())
	}
	aus := splitH264(out.Bytes())
	if len(aus) == 0 {
		return decodeCPU{}, fmt.Errorf("%s: no H.264 pictures", media)
	}

	// The thread's CPU clock only measures this work if the goroutine
	// stays on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dec, err := avcodec.NewDecoder(avcodec.H264, avcodec.Options{Threads: 1})
	if err != nil {
		return decodeCPU{}, err
	}
	defer dec.Close()
	img := gocv.NewMat()
	defer img.Close()
	t0, err := threadCPU()
	if err != nil {
		return decodeCPU{}, err
	}
	pics := 0
	for i, au := range aus {
		ok, err := dec.Decode(au, &img)
		if err != nil {
			return decodeCPU{}, fmt.Errorf("%s: access unit %d: %w", media, i, err)
		}
		if ok {
			pics++
		}
	}
	t1, err := threadCPU()
	if err != nil {
		return decodeCPU{}, err
	}
	if pics == 0 {
		return decodeCPU{}, fmt.Errorf("%s: no picture decoded", media)
	}
	return decodeCPU{pictures: pics, perPic: (t1 - t0) / time.Duration(pics)}, nil
}

func threadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// splitH264 cuts an Annex-B H.264 stream into access units of NAL units
// without start codes. A picture starts at a slice whose first_mb_in_slice
// is 0 (its first bit, an Exp-Golomb 0, is 1), and the parameter sets and
// SEI before that slice belong to it.
func splitH264(b []byte) [][][]byte {
	var aus [][][]byte
	var cur, pending [][]byte
	for _, n := range splitNALUs(b) {
		switch typ := n[0] & 0x1f; {
		case typ == 1 || typ == 5:
			if len(n) > 1 && n[1]&0x80 != 0 && len(cur) > 0 {
				aus = append(aus, cur)
				cur = nil
			}
			cur = append(cur, pending...)
			pending = nil
			cur = append(cur, n)
		default:
			pending = append(pending, n)
		}
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}

// splitNALUs splits Annex-B bytes at 3- and 4-byte start codes.
func splitNALUs(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				for end > start && b[end-1] == 0 { // trailing zero of a 4-byte start code
					end--
				}
				if end > start {
					out = append(out, b[start:end])
				}
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
