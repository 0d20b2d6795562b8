package avcodec

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"gocv.io/x/gocv"
)

func TestCodecString(t *testing.T) {
	for c, want := range map[Codec]string{H264: "H264", H265: "H265", Codec(9): "Codec(9)"} {
		if got := c.String(); got != want {
			t.Errorf("Codec(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}

func TestNewDecoderRejectsBadArguments(t *testing.T) {
	if _, err := NewDecoder(Codec(0), Options{}); err == nil {
		t.Error("unknown codec accepted")
	}
	if _, err := NewDecoder(H264, Options{Threads: -1}); err == nil {
		t.Error("negative thread count accepted")
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	aus := splitAccessUnits(t, H264, encodeStream(t, streamSpec{codec: H264, frames: 1}))
	d, err := NewDecoder(H264, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := gocv.NewMat()
	defer dst.Close()
	if ok, err := d.Decode(aus[0].nalus, &dst); !ok || err != nil {
		t.Fatalf("ok %v err %v", ok, err)
	}
	d.Close()
	d.Close()
	if _, err := d.Decode(aus[0].nalus, &dst); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v, want ErrClosed", err)
	}
	if _, err := d.DecodeAnnexB(annexB(H264, aus[0]), &dst); !errors.Is(err, ErrClosed) {
		t.Errorf("DecodeAnnexB after Close: %v, want ErrClosed", err)
	}
	if _, err := d.Drain(&dst); !errors.Is(err, ErrClosed) {
		t.Errorf("Drain after Close: %v, want ErrClosed", err)
	}
	d.Reset()
	if d.Width() != 768 || d.Height() != 576 {
		t.Errorf("size of last picture after Close = %dx%d", d.Width(), d.Height())
	}
}

func TestEmptyAndOversizedInput(t *testing.T) {
	d, err := NewDecoder(H264, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	// An empty packet would mean end of stream to libavcodec; it must be a
	// no-op instead.
	for _, au := range [][][]byte{nil, {}, {nil, {}}} {
		if ok, err := d.Decode(au, &dst); ok || err != nil {
			t.Errorf("Decode(%v) = %v, %v", au, ok, err)
		}
	}
	if ok, err := d.DecodeAnnexB(nil, &dst); ok || err != nil {
		t.Errorf("DecodeAnnexB(nil) = %v, %v", ok, err)
	}
	huge := make([]byte, maxAccessUnit+1)
	if _, err := d.DecodeAnnexB(huge, &dst); !errors.Is(err, ErrInvalidData) {
		t.Errorf("oversized access unit: %v, want ErrInvalidData", err)
	}
	if _, err := d.Decode([][]byte{huge}, &dst); !errors.Is(err, ErrInvalidData) {
		t.Errorf("oversized access unit: %v, want ErrInvalidData", err)
	}
}

// TestParameterSetsSeparately passes SPS/PPS (and VPS) on their own first,
// as they arrive from the SDP's sprop parameters, then access units that
// carry only slices.
func TestParameterSetsSeparately(t *testing.T) {
	for _, c := range []Codec{H264, H265} {
		t.Run(c.String(), func(t *testing.T) {
			spec := streamSpec{codec: c, frames: 10}
			aus := splitAccessUnits(t, c, encodeStream(t, spec))
			refs := referenceFrames(t, spec.frames, 768, 576)
			var params [][]byte
			strip := func(au accessUnit) [][]byte {
				var out [][]byte
				for _, n := range au.nalus {
					typ := naluType(c, n)
					if (c == H264 && (typ == 7 || typ == 8)) || (c == H265 && typ >= 32 && typ <= 34) {
						params = append(params, n)
						continue
					}
					out = append(out, n)
				}
				return out
			}
			first := strip(aus[0])
			if len(params) == 0 {
				t.Fatal("first access unit carries no parameter sets")
			}
			d, err := NewDecoder(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			dst := gocv.NewMat()
			defer dst.Close()
			if ok, err := d.Decode(params, &dst); ok || err != nil {
				t.Fatalf("parameter sets alone: ok %v err %v", ok, err)
			}
			for i, au := range aus {
				nalus := first
				if i > 0 {
					nalus = strip(au)
				}
				ok, err := d.Decode(nalus, &dst)
				if !ok || err != nil {
					t.Fatalf("access unit %d: ok %v err %v", i, ok, err)
				}
				checkFrame(t, fmt.Sprintf("access unit %d", i), dst, refs, i)
			}
		})
	}
}

// TestDecodeAnnexB feeds access units as a file or TCP source delivers
// them: AUD included, 3-byte start codes.
func TestDecodeAnnexB(t *testing.T) {
	for _, c := range []Codec{H264, H265} {
		t.Run(c.String(), func(t *testing.T) {
			spec := streamSpec{codec: c, frames: 20}
			aus := splitAccessUnits(t, c, encodeStream(t, spec))
			refs := referenceFrames(t, spec.frames, 768, 576)
			d, err := NewDecoder(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			dst := gocv.NewMat()
			defer dst.Close()
			for i, au := range aus {
				ok, err := d.DecodeAnnexB(annexB(c, au), &dst)
				if !ok || err != nil {
					t.Fatalf("access unit %d: ok %v err %v", i, ok, err)
				}
				checkFrame(t, fmt.Sprintf("access unit %d", i), dst, refs, i)
			}
		})
	}
}

// TestResetRestartsAtKeyframe simulates a reconnect: pictures held back by
// B-frame reordering are discarded and decoding resumes at the next IDR.
func TestResetRestartsAtKeyframe(t *testing.T) {
	spec := streamSpec{codec: H264, frames: 40, bframes: 2, gop: 20}
	aus := splitAccessUnits(t, H264, encodeStream(t, spec))
	refs := referenceFrames(t, spec.frames, 768, 576)
	d, err := NewDecoder(H264, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	out := 0
	for _, au := range aus[:10] {
		if ok, err := d.Decode(au.nalus, &dst); err != nil {
			t.Fatal(err)
		} else if ok {
			out++
		}
	}
	if out >= 10 {
		t.Fatalf("B-frame stream gave %d pictures for 10 access units: nothing held back to discard", out)
	}
	d.Reset()
	if ok, err := d.Drain(&dst); ok || err != nil {
		t.Fatalf("Drain after Reset: ok %v err %v, want nothing held", ok, err)
	}
	// Decode order differs from display order with B-frames, so match the
	// pictures after the IDR at 20 against display order.
	if !aus[20].idr {
		t.Fatal("access unit 20 is not an IDR")
	}
	next := 20
	check := func() {
		checkFrame(t, fmt.Sprintf("picture %d after reset", next), dst, refs, next)
		next++
	}
	for _, au := range aus[20:] {
		ok, err := d.Decode(au.nalus, &dst)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			check()
		}
	}
	for {
		ok, err := d.Drain(&dst)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		check()
	}
	if next != 40 {
		t.Fatalf("got pictures up to %d, want 40", next)
	}
}

// TestCloseDuringDecode closes the decoder from another goroutine while its
// owner is decoding, as a shutdown does; -race checks the locking.
func TestCloseDuringDecode(t *testing.T) {
	aus := splitAccessUnits(t, H264, encodeStream(t, streamSpec{codec: H264, frames: 20}))
	d, err := NewDecoder(H264, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var wg sync.WaitGroup
	var loopErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		dst := gocv.NewMat()
		defer dst.Close()
		for i := 0; ; i++ {
			if i == 3 {
				close(started)
			}
			if _, err := d.Decode(aus[i%len(aus)].nalus, &dst); err != nil {
				loopErr = err
				return
			}
		}
	}()
	<-started
	d.Close()
	wg.Wait()
	if !errors.Is(loopErr, ErrClosed) {
		t.Fatalf("decode loop ended with %v, want ErrClosed", loopErr)
	}
}

// TestOutOfMemoryIsNotInvalidData keeps resource failures apart from bad
// input, so callers do not silently skip frames when the box runs out of
// memory.
func TestOutOfMemoryIsNotInvalidData(t *testing.T) {
	err := decodeError(H264, "decode", errENOMEM)
	if errors.Is(err, ErrInvalidData) {
		t.Errorf("ENOMEM classified as invalid data: %v", err)
	}
	if got, want := err.Error(), "avcodec: H264 decode: Cannot allocate memory"; got != want {
		t.Errorf("error text %q, want %q", got, want)
	}
}
