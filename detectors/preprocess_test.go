package detectors

import (
	"math"
	"testing"

	"github.com/storesight/storesight/models"
	"gocv.io/x/gocv"
)

// solid returns an h x w BGR image of one colour.
func solid(h, w int, b, g, r float64) gocv.Mat {
	return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(b, g, r, 0), h, w, gocv.MatTypeCV8UC3)
}

func TestPreprocessLetterboxModes(t *testing.T) {
	const s = 32
	cases := []struct {
		name       string
		in         models.Input
		wantPad    [3]float32 // value of a padded element per plane
		wantPix    [3]float32 // value of an image element per plane
		imageAt    [2]int     // (x,y) inside the image
		padAt      [2]int     // (x,y) in the padding, or -1
		geomPadX   int
		geomPadY   int
		geomNewW   int
		geomNewH   int
		imgW, imgH int
	}{
		{
			name: "yolox topleft bgr raw",
			in:   models.Input{ChannelOrder: "bgr", Scale: 1, Std: [3]float32{1, 1, 1}, Letterbox: models.LetterboxTopLeft, PadValue: 114},
			// B=10 G=20 R=30, 64x48 -> 32x24 at (0,0), pad below.
			wantPix: [3]float32{10, 20, 30}, wantPad: [3]float32{114, 114, 114},
			imageAt: [2]int{31, 23}, padAt: [2]int{0, 24},
			geomNewW: 32, geomNewH: 24, imgW: 64, imgH: 48,
		},
		{
			name:    "ultralytics center rgb /255",
			in:      models.Input{ChannelOrder: "rgb", Scale: 1.0 / 255, Std: [3]float32{1, 1, 1}, Letterbox: models.LetterboxCenter, PadValue: 114},
			wantPix: [3]float32{30.0 / 255, 20.0 / 255, 10.0 / 255}, wantPad: [3]float32{114.0 / 255, 114.0 / 255, 114.0 / 255},
			imageAt: [2]int{0, 4}, padAt: [2]int{5, 3},
			geomPadY: 4, geomNewW: 32, geomNewH: 24, imgW: 64, imgH: 48,
		},
		{
			name:    "nanodet center bgr mean/std",
			in:      models.Input{ChannelOrder: "bgr", Scale: 1, Mean: [3]float32{103.53, 116.28, 123.675}, Std: [3]float32{57.375, 57.12, 58.395}, Letterbox: models.LetterboxCenter},
			wantPix: [3]float32{(10 - 103.53) / 57.375, (20 - 116.28) / 57.12, (30 - 123.675) / 58.395},
			wantPad: [3]float32{-103.53 / 57.375, -116.28 / 57.12, -123.675 / 58.395},
			imageAt: [2]int{4, 0}, padAt: [2]int{3, 31},
			geomPadX: 4, geomNewW: 24, geomNewH: 32, imgW: 48, imgH: 64,
		},
		{
			name:    "deimv2 stretch rgb",
			in:      models.Input{ChannelOrder: "rgb", Scale: 1.0 / 255, Std: [3]float32{1, 1, 1}, Letterbox: models.LetterboxStretch},
			wantPix: [3]float32{30.0 / 255, 20.0 / 255, 10.0 / 255},
			imageAt: [2]int{31, 31}, padAt: [2]int{-1, -1},
			geomNewW: 32, geomNewH: 32, imgW: 100, imgH: 40,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]float32, 3*s*s)
			for i := range buf {
				buf[i] = float32(math.NaN()) // anything not written shows up
			}
			p, err := newPreprocessor(tc.in, s, buf)
			if err != nil {
				t.Fatal(err)
			}
			defer p.close()
			img := solid(tc.imgH, tc.imgW, 10, 20, 30)
			defer img.Close()
			g, err := p.run(img)
			if err != nil {
				t.Fatal(err)
			}
			if g.padX != tc.geomPadX || g.padY != tc.geomPadY || g.newW != tc.geomNewW || g.newH != tc.geomNewH {
				t.Errorf("geometry %+v", g)
			}
			at := func(c, x, y int) float32 { return buf[c*s*s+y*s+x] }
			for c := 0; c < 3; c++ {
				if v := at(c, tc.imageAt[0], tc.imageAt[1]); math.Abs(float64(v-tc.wantPix[c])) > 1e-5 {
					t.Errorf("plane %d image value %v, want %v", c, v, tc.wantPix[c])
				}
				if tc.padAt[0] >= 0 {
					if v := at(c, tc.padAt[0], tc.padAt[1]); math.Abs(float64(v-tc.wantPad[c])) > 1e-5 {
						t.Errorf("plane %d pad value %v, want %v", c, v, tc.wantPad[c])
					}
				}
			}
			for i, v := range buf {
				if math.IsNaN(float64(v)) {
					t.Fatalf("element %d never written", i)
				}
			}
			// Mapping the full image area back gives the full frame.
			b := g.toOriginal(float32(g.padX), float32(g.padY), float32(g.padX+g.newW), float32(g.padY+g.newH))
			if math.Abs(b.X1) > 1e-6 || math.Abs(b.Y1) > 1e-6 || math.Abs(b.X2-float64(tc.imgW)) > 1e-6 || math.Abs(b.Y2-float64(tc.imgH)) > 1e-6 {
				t.Errorf("full input maps to %+v, want the %dx%d frame", b, tc.imgW, tc.imgH)
			}
		})
	}
}

// TestPreprocessRepadsOnGeometryChange: a wide frame after a tall one must
// not leave the tall frame's pixels in what is now padding.
func TestPreprocessRepadsOnGeometryChange(t *testing.T) {
	const s = 16
	buf := make([]float32, 3*s*s)
	in := models.Input{ChannelOrder: "bgr", Scale: 1, Std: [3]float32{1, 1, 1}, Letterbox: models.LetterboxTopLeft, PadValue: 114}
	p, err := newPreprocessor(in, s, buf)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tall := solid(32, 16, 1, 1, 1)
	defer tall.Close()
	wide := solid(16, 32, 2, 2, 2)
	defer wide.Close()
	if _, err := p.run(tall); err != nil {
		t.Fatal(err)
	}
	if buf[15*s+0] != 1 || buf[0*s+15] != 114 {
		t.Fatalf("tall: got %v / %v", buf[15*s], buf[15])
	}
	if _, err := p.run(wide); err != nil {
		t.Fatal(err)
	}
	if buf[15*s+0] != 114 || buf[0*s+15] != 2 {
		t.Errorf("wide after tall: bottom-left %v (want pad 114), top-right %v (want 2)", buf[15*s], buf[15])
	}
}
