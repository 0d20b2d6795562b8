package avcodec

import (
	"fmt"
	"image"
	"testing"
	"unsafe"

	"gocv.io/x/gocv"
)

// dataPtr is the address of a Mat's pixels, to tell reuse from reallocation.
func dataPtr(t *testing.T, m gocv.Mat) unsafe.Pointer {
	t.Helper()
	b, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// TestSizeChangeReallocates concatenates two real streams of different
// sizes, as a camera does after its resolution is reconfigured: the same
// Mat is reused within each part and reallocated at the switch.
func TestSizeChangeReallocates(t *testing.T) {
	for _, c := range []Codec{H264, H265} {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			small := streamSpec{codec: c, frames: 15}
			large := streamSpec{codec: c, frames: 15, width: 1280, height: 720}
			parts := []struct {
				spec streamSpec
				aus  []accessUnit
				refs []gocv.Mat
			}{
				{small, splitAccessUnits(t, c, encodeStream(t, small)), referenceFrames(t, 15, 768, 576)},
				{large, splitAccessUnits(t, c, encodeStream(t, large)), referenceFrames(t, 15, 1280, 720)},
			}
			d, err := NewDecoder(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var dst gocv.Mat // the zero Mat must be accepted
			defer func() {
				if dst.Ptr() != nil {
					dst.Close()
				}
			}()
			var prev unsafe.Pointer
			for p, part := range parts {
				w, h := part.spec.size()
				for i, au := range part.aus {
					ok, err := d.Decode(au.nalus, &dst)
					if err != nil || !ok {
						t.Fatalf("part %d access unit %d: ok %v err %v", p, i, ok, err)
					}
					if dst.Cols() != w || dst.Rows() != h || d.Width() != w || d.Height() != h {
						t.Fatalf("part %d access unit %d: Mat %dx%d, decoder %dx%d, want %dx%d",
							p, i, dst.Cols(), dst.Rows(), d.Width(), d.Height(), w, h)
					}
					checkFrame(t, fmt.Sprintf("part %d access unit %d", p, i), dst, part.refs, i)
					ptr := dataPtr(t, dst)
					switch {
					case i > 0 && ptr != prev:
						t.Fatalf("part %d access unit %d: Mat reallocated although size did not change", p, i)
					case i == 0 && p > 0 && ptr == prev:
						t.Fatalf("Mat not reallocated for the new size")
					}
					prev = ptr
				}
			}
		})
	}
}

// TestUnsuitableDstReplaced gives Decode Mats it must not write into as they
// are: wrong type, wrong size, and a non-continuous region of a larger Mat
// (writing packed rows into it would corrupt the parent).
func TestUnsuitableDstReplaced(t *testing.T) {
	spec := streamSpec{codec: H264, frames: 1}
	aus := splitAccessUnits(t, H264, encodeStream(t, spec))
	refs := referenceFrames(t, 1, 768, 576)

	parent := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(7, 7, 7, 0), 600, 800, gocv.MatTypeCV8UC3)
	defer parent.Close()
	cases := map[string]func() gocv.Mat{
		"gray":   func() gocv.Mat { return gocv.NewMatWithSize(576, 768, gocv.MatTypeCV8UC1) },
		"size":   func() gocv.Mat { return gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3) },
		"empty":  gocv.NewMat,
		"region": func() gocv.Mat { return parent.Region(image.Rect(10, 10, 778, 586)) },
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := NewDecoder(H264, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			dst := mk()
			defer dst.Close()
			ok, err := d.Decode(aus[0].nalus, &dst)
			if err != nil || !ok {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if dst.Type() != gocv.MatTypeCV8UC3 || dst.Cols() != 768 || dst.Rows() != 576 || !dst.IsContinuous() {
				t.Fatalf("dst is %dx%d type %v continuous %v", dst.Cols(), dst.Rows(), dst.Type(), dst.IsContinuous())
			}
			if mad := meanAbsDiff(t, dst, refs[0]); mad > maxMeanAbsDiff {
				t.Fatalf("mean abs diff %.2f", mad)
			}
		})
	}
	// The region's parent must be untouched.
	if s := parent.Mean(); s.Val1 != 7 || s.Val2 != 7 || s.Val3 != 7 {
		t.Fatalf("parent of the region Mat was written to: mean %v", s)
	}
}
