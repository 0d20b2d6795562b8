package avcodec

import (
	"testing"

	"gocv.io/x/gocv"
)

// benchDecode720p measures decoding plus BGR conversion of a real 1280x720
// IP-camera-like stream (15 fps, 2 s GOP, no B-frames, capped bitrate).
// One op is one access unit, i.e. one frame, so ns/op is the per-frame cost
// of a camera.
func benchDecode720p(b *testing.B, c Codec, kbps int) {
	spec := streamSpec{codec: c, frames: 150, width: 1280, height: 720, gop: 30, fps: 15, kbps: kbps}
	aus := splitAccessUnits(b, c, encodeStream(b, spec))
	d, err := NewDecoder(c, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	var bytes int
	for _, au := range aus {
		for _, n := range au.nalus {
			bytes += len(n)
		}
	}
	b.ReportAllocs()
	// The loop restarts at access unit 0, an IDR with parameter sets, so the
	// wrap-around is a valid stream.
	for i := 0; b.Loop(); i++ {
		ok, err := d.Decode(aus[i%len(aus)].nalus, &dst)
		if err != nil || !ok {
			b.Fatalf("access unit %d: ok %v err %v", i%len(aus), ok, err)
		}
	}
	b.ReportMetric(float64(bytes*8*spec.fps/len(aus))/1e3, "kbit/s")
}

// Typical camera settings: H.265 needs about half the bitrate of H.264.
func BenchmarkDecode720pH264(b *testing.B) { benchDecode720p(b, H264, 2000) }
func BenchmarkDecode720pH265(b *testing.B) { benchDecode720p(b, H265, 1000) }
