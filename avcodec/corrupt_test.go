package avcodec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gocv.io/x/gocv"
)

// corruption damages one access unit in place of the original.
type corruption struct {
	au   int
	kind string
}

// corrupt returns a damaged copy of au. Parameter sets are left intact so
// the damage is what a lossy network does to picture data.
func corrupt(c Codec, au accessUnit, kind string, rng *rand.Rand) [][]byte {
	hdr := 1
	if c == H265 {
		hdr = 2
	}
	var out [][]byte
	for _, nalu := range au.nalus {
		typ := naluType(c, nalu)
		isSlice := (c == H264 && (typ == 1 || typ == 5)) || (c == H265 && typ < 32)
		if !isSlice {
			out = append(out, nalu)
			continue
		}
		n := slices.Clone(nalu)
		switch kind {
		case "flip":
			for range 1 + len(n)/50 {
				i := hdr + rng.IntN(len(n)-hdr)
				n[i] ^= byte(1 + rng.IntN(255))
			}
		case "truncate":
			n = n[:hdr+(len(n)-hdr)/3]
		case "garbage":
			// A valid slice header byte followed by noise: reaches the slice
			// parser instead of being skipped as an unknown NAL type.
			for i := hdr; i < len(n); i++ {
				n[i] = byte(rng.IntN(256))
			}
		}
		out = append(out, n)
	}
	return out
}

// TestCorruptStreamRecovers feeds streams damaged the way lossy networks and
// broken cameras damage them. Decode must not crash, must report errors as
// ErrInvalidData, and from the first keyframe after the damage every
// picture must match the source again.
func TestCorruptStreamRecovers(t *testing.T) {
	for _, c := range []Codec{H264, H265} {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			spec := streamSpec{codec: c, frames: 100, gop: 20}
			aus := splitAccessUnits(t, c, encodeStream(t, spec))
			refs := referenceFrames(t, spec.frames, 768, 576)
			var idrs []int
			for i, au := range aus {
				if au.idr {
					idrs = append(idrs, i)
				}
			}
			if len(idrs) < 5 || idrs[0] != 0 {
				t.Fatalf("want an IDR every %d frames starting at 0, got %v", spec.gop, idrs)
			}
			damage := map[int]string{
				3: "flip", 4: "flip", 5: "flip",
				25: "truncate", 26: "truncate",
				31: "garbage", 32: "noise", 33: "flip", 34: "truncate",
				idrs[2] + 7: "drop",
				idrs[3]:     "flip", // the IDR slice itself
				idrs[3] + 2: "garbage",
			}
			// An access unit is clean when no damage happened since the last
			// IDR at or before it; clean pictures must match the source.
			clean := make([]bool, len(aus))
			lastIDR := 0
			for i, au := range aus {
				if au.idr {
					lastIDR = i
				}
				clean[i] = true
				for j := lastIDR; j <= i; j++ {
					if _, ok := damage[j]; ok {
						clean[i] = false
					}
				}
			}

			rng := rand.New(rand.NewPCG(uint64(c), 42))
			d, err := NewDecoder(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			dst := gocv.NewMat()
			defer dst.Close()
			var invalid, damagedOut int
			for i, au := range aus {
				nalus := au.nalus
				switch kind := damage[i]; kind {
				case "":
				case "drop":
					continue
				case "noise":
					// One NAL unit of pure noise, header included: may look
					// like any NAL type, parameter sets too.
					n := make([]byte, 3000)
					for k := range n {
						n[k] = byte(rng.IntN(256))
					}
					nalus = [][]byte{n}
				default:
					nalus = corrupt(c, au, kind, rng)
				}
				ok, err := d.Decode(nalus, &dst)
				if err != nil {
					if !errors.Is(err, ErrInvalidData) {
						t.Fatalf("access unit %d: error %v does not wrap ErrInvalidData", i, err)
					}
					invalid++
				}
				switch {
				case clean[i] && !ok:
					t.Fatalf("clean access unit %d gave no picture (err %v)", i, err)
				case clean[i]:
					checkFrame(t, fmt.Sprintf("clean access unit %d", i), dst, refs, i)
				case !ok || meanAbsDiff(t, dst, refs[i]) > maxMeanAbsDiff || d.Corrupt():
					damagedOut++
				}
			}
			// Without visible effects the damage would prove nothing.
			if invalid == 0 {
				t.Fatal("no access unit returned ErrInvalidData")
			}
			if damagedOut == 0 {
				t.Fatal("damaged access units all decoded to correct pictures: damage had no effect")
			}
			t.Logf("%d ErrInvalidData, %d damaged or missing pictures, all clean pictures match", invalid, damagedOut)
		})
	}
}

// TestNoiseDoesNotBreakDecoder hammers a decoder that has seen a real
// stream with hundreds of access units of pure noise, through both entry
// points, then checks the real stream still decodes from its next IDR.
func TestNoiseDoesNotBreakDecoder(t *testing.T) {
	for _, c := range []Codec{H264, H265} {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			spec := streamSpec{codec: c, frames: 25, gop: 20}
			aus := splitAccessUnits(t, c, encodeStream(t, spec))
			refs := referenceFrames(t, spec.frames, 768, 576)
			d, err := NewDecoder(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			dst := gocv.NewMat()
			defer dst.Close()
			for _, au := range aus[:5] {
				if ok, err := d.Decode(au.nalus, &dst); !ok || err != nil {
					t.Fatalf("ok %v err %v", ok, err)
				}
			}
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			noise := func() []byte {
				b := make([]byte, 1+rng.IntN(20000))
				for i := range b {
					b[i] = byte(rng.IntN(256))
				}
				return b
			}
			for i := range 300 {
				var err error
				if i%2 == 0 {
					_, err = d.Decode([][]byte{noise(), noise()}, &dst)
				} else {
					// Start codes inside noise split it into many NAL units.
					b := noise()
					for k := 0; k+3 < len(b); k += 1 + rng.IntN(500) {
						copy(b[k:], annexBStartCode[:])
					}
					_, err = d.DecodeAnnexB(b, &dst)
				}
				if err != nil && !errors.Is(err, ErrInvalidData) {
					t.Fatalf("noise %d: %v does not wrap ErrInvalidData", i, err)
				}
			}
			if !aus[20].idr {
				t.Fatal("access unit 20 is not an IDR")
			}
			// Noise can leave the H.264 decoder's reorder heuristics one
			// picture behind, so pictures are matched by their timestamp:
			// every frame from the IDR on must come out, in order.
			next := 20
			take := func(what string) {
				pts, ok := d.PTS()
				if !ok || pts != int64(next) {
					t.Fatalf("%s: picture has timestamp %d (set %v), want %d", what, pts, ok, next)
				}
				checkFrame(t, fmt.Sprintf("%s: picture %d", what, next), dst, refs, next)
				next++
			}
			for i := 20; i < len(aus); i++ {
				ok, err := d.DecodePTS(aus[i].nalus, int64(i), &dst)
				if err != nil {
					t.Fatalf("access unit %d after noise: %v", i, err)
				}
				if ok {
					take(fmt.Sprintf("access unit %d", i))
				}
			}
			if delay := len(aus) - next; delay > 2 {
				t.Fatalf("pictures %d access units behind after noise", delay)
			}
			for {
				ok, err := d.Drain(&dst)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				take("drain")
			}
			if next != len(aus) {
				t.Fatalf("pictures up to %d came out, want %d", next, len(aus))
			}
		})
	}
}
