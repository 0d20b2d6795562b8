package avcodec

import (
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// maxMeanAbsDiff is the largest mean absolute difference accepted between
// a decoded picture and the source frame: the lossy encode (ultrafast, CRF
// 23/28) stays well below it, while wrong channel order (about 23) or row
// stride do not.
const maxMeanAbsDiff = 6

// decodeAll feeds every access unit through Decode, then drains, and checks
// each picture against the source frame of the same index.
func decodeAll(t *testing.T, d *Decoder, spec streamSpec, threads int, aus []accessUnit, refs []gocv.Mat) (pictures int, worst float64) {
	t.Helper()
	w, h := spec.size()
	dst := gocv.NewMat()
	defer dst.Close()
	check := func(where string) {
		if dst.Cols() != w || dst.Rows() != h || dst.Type() != gocv.MatTypeCV8UC3 {
			t.Fatalf("%s: picture %d is %dx%d type %v, want %dx%d CV_8UC3", where, pictures, dst.Cols(), dst.Rows(), dst.Type(), w, h)
		}
		if d.Width() != w || d.Height() != h {
			t.Fatalf("%s: Width/Height = %dx%d, want %dx%d", where, d.Width(), d.Height(), w, h)
		}
		if pictures >= len(refs) {
			t.Fatalf("%s: more pictures than the %d frames encoded", where, len(refs))
		}
		if spec.bframes == 0 {
			// Display order is decode order, so the timestamp attached to
			// access unit i must come back on picture i, also when frame
			// threads delay it.
			if pts, ok := d.PTS(); !ok || pts != int64(pictures) {
				t.Fatalf("%s: picture %d has timestamp %d (set %v)", where, pictures, pts, ok)
			}
		}
		mad := checkFrame(t, fmt.Sprintf("%s: picture %d", where, pictures), dst, refs, pictures)
		// Converters that mishandle row ends damage only the last columns,
		// which the whole-picture mean would hide.
		edge := image.Rect(w-8, 0, w, h)
		dstEdge, refEdge := dst.Region(edge), refs[pictures].Region(edge)
		edgeMAD := meanAbsDiff(t, dstEdge, refEdge)
		dstEdge.Close()
		refEdge.Close()
		if edgeMAD > maxMeanAbsDiff {
			t.Fatalf("%s: picture %d: right edge differs from source: mean abs diff %.2f", where, pictures, edgeMAD)
		}
		if pictures == 0 {
			// The source must be colourful enough for the comparison to
			// tell BGR from RGB, or this test could not catch a swap.
			swapped := swapRB(refs[0])
			swappedMAD := meanAbsDiff(t, dst, swapped)
			swapped.Close()
			if swappedMAD < 3*maxMeanAbsDiff {
				t.Fatalf("picture matches the red/blue-swapped source too well (%.2f): test cannot detect channel order", swappedMAD)
			}
		}
		worst = max(worst, mad)
		pictures++
	}
	for i, au := range aus {
		ok, err := d.DecodePTS(au.nalus, int64(i), &dst)
		if err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
		if ok {
			check("decode")
		}
		if spec.bframes == 0 && threads <= 1 && pictures != i+1 {
			// IP-camera streams must not be delayed: one AU in, one picture out.
			t.Fatalf("after access unit %d: %d pictures, want %d (decoder adds delay)", i, pictures, i+1)
		}
	}
	for {
		ok, err := d.Drain(&dst)
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
		if !ok {
			break
		}
		check("drain")
	}
	return pictures, worst
}

func TestDecodeMatchesSource(t *testing.T) {
	cases := []struct {
		name    string
		spec    streamSpec
		threads int
	}{
		{"H264", streamSpec{codec: H264, frames: 100}, 0},
		{"H265", streamSpec{codec: H265, frames: 100}, 0},
		{"H264BFrames", streamSpec{codec: H264, frames: 100, bframes: 3}, 0},
		{"H264_720p", streamSpec{codec: H264, frames: 40, width: 1280, height: 720}, 0},
		{"H265_720p", streamSpec{codec: H265, frames: 40, width: 1280, height: 720}, 0},
		// A width that is not a multiple of 8 or 16 catches converters that
		// write whole SIMD blocks past the end of a tightly packed row.
		{"H264_OddWidth", streamSpec{codec: H264, frames: 20, width: 646, height: 362}, 0},
		{"H264FrameThreads", streamSpec{codec: H264, frames: 60}, 2},
		{"H264FullRangeBT709", streamSpec{codec: H264, frames: 20, fullRange: true, bt709: true}, 0},
		{"H265FullRangeBT709", streamSpec{codec: H265, frames: 20, fullRange: true, bt709: true}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			aus := splitAccessUnits(t, tc.spec.codec, encodeStream(t, tc.spec))
			if len(aus) != tc.spec.frames {
				t.Fatalf("split %d access units, encoded %d frames", len(aus), tc.spec.frames)
			}
			w, h := tc.spec.size()
			refs := referenceFrames(t, tc.spec.frames, w, h)
			d, err := NewDecoder(tc.spec.codec, Options{Threads: tc.threads})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			n, worst := decodeAll(t, d, tc.spec, tc.threads, aus, refs)
			if n != tc.spec.frames {
				t.Fatalf("decoded %d pictures, encoded %d frames", n, tc.spec.frames)
			}
			t.Logf("%d pictures %dx%d, worst mean abs diff %.2f", n, w, h, worst)
		})
	}
}
