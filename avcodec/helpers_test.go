package avcodec

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"gocv.io/x/gocv"
)

// vtestPath is the real pedestrian video (768x576, 10 fps) every test
// stream is made from.
const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// streamSpec describes an elementary stream made by ffmpeg from vtest.avi.
type streamSpec struct {
	codec   Codec
	frames  int
	width   int // 0 keeps 768x576
	height  int
	bframes int
	gop     int
	fps     int // 0 keeps 10; otherwise frames are retimed, not duplicated
	kbps    int // 0 uses the encoder's default constant quality
	// fullRange and bt709 tag and encode the stream the way many IP
	// cameras do (JPEG range, HD matrix) instead of untagged BT.601
	// limited range.
	fullRange bool
	bt709     bool
}

func (s streamSpec) size() (int, int) {
	if s.width == 0 {
		return 768, 576
	}
	return s.width, s.height
}

// accessUnit is one access unit as an RTSP depacketizer returns it: NAL
// units without start codes, the AUD removed.
type accessUnit struct {
	nalus [][]byte
	idr   bool
	param bool // carries SPS/PPS (and VPS)
}

// encodeStream runs the real Debian ffmpeg (libx264/libx265) into a temp
// file and returns the Annex-B bytes. Access unit delimiters are enabled so
// the test can split access units exactly as an encoder emitted them.
func encodeStream(t testing.TB, spec streamSpec) []byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	if _, err := os.Stat(vtestPath); err != nil {
		t.Fatalf("test video missing (install opencv-doc): %v", err)
	}
	w, h := spec.size()
	gop := spec.gop
	if gop == 0 {
		gop = 20
	}
	filter := fmt.Sprintf("scale=%d:%d", w, h)
	var tags []string
	if spec.fullRange {
		filter += ":out_range=full"
		tags = append(tags, "-color_range", "pc")
	}
	if spec.bt709 {
		filter += ":out_color_matrix=bt709"
		tags = append(tags, "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")
	}
	if spec.fps != 0 {
		filter += fmt.Sprintf(",setpts=N/%d/TB", spec.fps)
	}
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", vtestPath, "-frames:v", strconv.Itoa(spec.frames), "-an",
		"-vf", filter, "-pix_fmt", "yuv420p", "-g", strconv.Itoa(gop),
		"-bf", strconv.Itoa(spec.bframes), "-preset", "ultrafast"}
	if spec.fps != 0 {
		args = append(args, "-r", strconv.Itoa(spec.fps))
	}
	args = append(args, tags...)
	if spec.kbps != 0 {
		// Capped bitrate, as IP cameras are configured.
		rate := strconv.Itoa(spec.kbps) + "k"
		args = append(args, "-b:v", rate, "-maxrate", rate, "-bufsize", rate)
	}
	out := filepath.Join(t.TempDir(), "stream")
	switch spec.codec {
	case H264:
		args = append(args, "-c:v", "libx264", "-x264-params", "aud=1", "-f", "h264", out)
	case H265:
		// Closed GOPs give IDR keyframes like IP cameras send.
		args = append(args, "-c:v", "libx265", "-x265-params",
			fmt.Sprintf("aud=1:bframes=%d:open-gop=0:log-level=error", spec.bframes), "-f", "hevc", out)
	default:
		t.Fatalf("no encoder for %v", spec.codec)
	}
	cmd := exec.Command(ffmpeg, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// splitNALUs cuts Annex-B bytes at 3- and 4-byte start codes.
func splitNALUs(b []byte) [][]byte {
	var nalus [][]byte
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				nalus = append(nalus, bytes.TrimRight(b[start:i], "\x00"))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 {
		nalus = append(nalus, b[start:])
	}
	return nalus
}

// naluType returns the NAL unit type in the codec's numbering.
func naluType(c Codec, nalu []byte) int {
	if c == H264 {
		return int(nalu[0] & 0x1f)
	}
	return int(nalu[0]>>1) & 0x3f
}

// splitAccessUnits groups an elementary stream into access units at its
// access unit delimiters.
func splitAccessUnits(t testing.TB, c Codec, stream []byte) []accessUnit {
	t.Helper()
	aud, idrTypes, paramTypes := 9, map[int]bool{5: true}, map[int]bool{7: true, 8: true}
	if c == H265 {
		aud, idrTypes, paramTypes = 35, map[int]bool{19: true, 20: true}, map[int]bool{32: true, 33: true, 34: true}
	}
	var aus []accessUnit
	for _, nalu := range splitNALUs(stream) {
		if len(nalu) == 0 {
			continue
		}
		typ := naluType(c, nalu)
		if typ == aud {
			aus = append(aus, accessUnit{})
			continue
		}
		if len(aus) == 0 {
			t.Fatalf("%v stream does not start with an access unit delimiter", c)
		}
		au := &aus[len(aus)-1]
		au.nalus = append(au.nalus, nalu)
		au.idr = au.idr || idrTypes[typ]
		au.param = au.param || paramTypes[typ]
	}
	return aus
}

// annexB re-marshals an access unit with 3-byte start codes, the AUD
// included, as a file or TCP source would deliver it.
func annexB(c Codec, au accessUnit) []byte {
	var b bytes.Buffer
	if c == H264 {
		b.Write([]byte{0, 0, 0, 1, 0x09, 0xf0})
	} else {
		b.Write([]byte{0, 0, 0, 1, 0x46, 0x01, 0x50})
	}
	for _, nalu := range au.nalus {
		b.Write([]byte{0, 0, 1})
		b.Write(nalu)
	}
	return b.Bytes()
}

// referenceFrames reads the first n frames of vtest.avi with gocv, resized
// to w x h when that differs from the source size.
func referenceFrames(t testing.TB, n, w, h int) []gocv.Mat {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(vtestPath)
	if err != nil {
		t.Fatalf("open %s: %v", vtestPath, err)
	}
	defer vc.Close()
	frames := make([]gocv.Mat, 0, n)
	t.Cleanup(func() {
		for i := range frames {
			frames[i].Close()
		}
	})
	for len(frames) < n {
		m := gocv.NewMat()
		if !vc.Read(&m) || m.Empty() {
			m.Close()
			t.Fatalf("vtest.avi ended after %d frames", len(frames))
		}
		if m.Cols() != w || m.Rows() != h {
			r := gocv.NewMat()
			gocv.Resize(m, &r, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
			m.Close()
			m = r
		}
		frames = append(frames, m)
	}
	return frames
}

// meanAbsDiff is the mean absolute per-channel difference of two BGR
// pictures on the 0-255 scale.
func meanAbsDiff(t testing.TB, a, b gocv.Mat) float64 {
	t.Helper()
	if a.Cols() != b.Cols() || a.Rows() != b.Rows() || a.Type() != b.Type() {
		t.Fatalf("compare %dx%d type %v with %dx%d type %v", a.Cols(), a.Rows(), a.Type(), b.Cols(), b.Rows(), b.Type())
	}
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(a, b, &d)
	s := d.Mean()
	return (s.Val1 + s.Val2 + s.Val3) / 3
}

// swapRB returns a copy of a BGR picture with red and blue exchanged.
func swapRB(m gocv.Mat) gocv.Mat {
	out := gocv.NewMat()
	gocv.CvtColor(m, &out, gocv.ColorBGRToRGB)
	return out
}

// checkFrame fails unless pic is source frame i: close to it (mean absolute
// difference within maxMeanAbsDiff) and closer to it than to its
// neighbours, which the threshold alone would not rule out because
// consecutive frames differ little. This catches pictures that come out
// delayed or in the wrong order.
func checkFrame(t testing.TB, what string, pic gocv.Mat, refs []gocv.Mat, i int) float64 {
	t.Helper()
	mad := meanAbsDiff(t, pic, refs[i])
	if mad > maxMeanAbsDiff {
		t.Fatalf("%s: picture differs from source frame %d: mean abs diff %.2f > %d", what, i, mad, maxMeanAbsDiff)
	}
	for _, j := range []int{i - 1, i + 1} {
		if j < 0 || j >= len(refs) {
			continue
		}
		if other := meanAbsDiff(t, pic, refs[j]); other <= mad {
			t.Fatalf("%s: picture matches source frame %d (%.2f) at least as well as frame %d (%.2f): delayed or reordered",
				what, j, other, i, mad)
		}
	}
	return mad
}
