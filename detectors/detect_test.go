package detectors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
	"gocv.io/x/gocv"
)

// People in vtest.avi, labelled by looking at the frames (saved with
// gocv.IMWrite and inspected): three walkers in frame 0, six in frame 300.
// All are fully visible, 60-95 px tall, standing on the path.
var vtestPeople = map[int][]geom.Box{
	0: {
		{X1: 252, Y1: 219, X2: 283, Y2: 308},
		{X1: 501, Y1: 157, X2: 530, Y2: 232},
		{X1: 642, Y1: 240, X2: 684, Y2: 322},
	},
	300: {
		{X1: 187, Y1: 159, X2: 217, Y2: 235},
		{X1: 242, Y1: 157, X2: 265, Y2: 222},
		{X1: 296, Y1: 158, X2: 325, Y2: 232},
		{X1: 313, Y1: 210, X2: 345, Y2: 295},
		{X1: 581, Y1: 159, X2: 610, Y2: 234},
		{X1: 618, Y1: 163, X2: 644, Y2: 233},
	},
}

// match pairs boxes one-to-one, greedily by IoU, keeping pairs with
// IoU >= minIoU. It returns the pairs as index pairs (a, b).
func match(a, b []geom.Box, minIoU float64) [][2]int {
	used := make([]bool, len(b))
	var pairs [][2]int
	for i, x := range a {
		best, bj := minIoU, -1
		for j, y := range b {
			if iou := x.IoU(y); !used[j] && iou >= best {
				best, bj = iou, j
			}
		}
		if bj >= 0 {
			used[bj] = true
			pairs = append(pairs, [2]int{i, bj})
		}
	}
	return pairs
}

func boxes(dets []Detection) []geom.Box {
	out := make([]geom.Box, len(dets))
	for i, d := range dets {
		out[i] = d.Box
	}
	return out
}

func TestDetectPeopleOnRealFrames(t *testing.T) {
	// minFound is how many labelled people each model must find per frame.
	// The weaker models (person_lite at 192 px, NanoDet-m at 320 and
	// DEIMv2-Atto) merge or miss one of the two overlapping walkers in
	// frame 300; the others find everyone. maxFalse bounds person boxes that
	// match no labelled person (the blue sign post and a traffic cone are
	// the usual ones).
	cases := []struct {
		model    string
		minFound map[int]int
		maxFalse int
	}{
		{"yolox_nano_416_coco", map[int]int{0: 3, 300: 6}, 2},
		{"person_lite_yolox_192", map[int]int{0: 3, 300: 5}, 2},
		{"yolov8n_640_coco_int8_AGPL", map[int]int{0: 3, 300: 6}, 1},
		{"yolo11n_320_coco_int8_AGPL", map[int]int{0: 3, 300: 6}, 1},
		{"nanodet_m_320_coco", map[int]int{0: 3, 300: 5}, 2},
		{"nanodet_m_416_coco", map[int]int{0: 3, 300: 6}, 2},
		{"deimv2_hgnetv2_femto_416_coco", map[int]int{0: 3, 300: 6}, 1},
		{"deimv2_hgnetv2_atto_320_coco", map[int]int{0: 3, 300: 5}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			d := openModel(t, tc.model, Options{Threads: 2, Classes: []int{0}})
			for _, fi := range []int{0, 300} {
				img := frame(t, fi)
				dets, err := d.Detect(img)
				if err != nil {
					t.Fatal(err)
				}
				saveAnnotated(t, fmt.Sprintf("%s_%d", tc.model, fi), img, dets)
				for _, x := range dets {
					b := x.Box
					if x.Class != 0 {
						t.Errorf("frame %d: class %d passed a person-only filter", fi, x.Class)
					}
					if b.X1 < 0 || b.Y1 < 0 || b.X2 > float64(img.Cols()) || b.Y2 > float64(img.Rows()) || b.Area() <= 0 {
						t.Errorf("frame %d: box %+v outside the %dx%d frame or empty", fi, b, img.Cols(), img.Rows())
					}
					if x.Score < 0.2 || x.Score > 1 {
						t.Errorf("frame %d: score %v outside [threshold,1]", fi, x.Score)
					}
				}
				gt := vtestPeople[fi]
				pairs := match(gt, boxes(dets), 0.5)
				for _, p := range pairs {
					b := dets[p[1]].Box
					if h, ar := b.H(), b.H()/b.W(); h < 50 || h > 130 || ar < 1.5 || ar > 4.5 {
						t.Errorf("frame %d: person box %+v implausible: height %.0f, h/w %.2f", fi, b, h, ar)
					}
				}
				t.Logf("frame %d: %d person boxes, %d of %d labelled people found", fi, len(dets), len(pairs), len(gt))
				if len(pairs) < tc.minFound[fi] {
					t.Errorf("frame %d: found %d of %d people, want >= %d; detections %+v", fi, len(pairs), len(gt), tc.minFound[fi], dets)
				}
				if extra := len(dets) - len(pairs); extra > tc.maxFalse {
					t.Errorf("frame %d: %d person boxes match nobody, want <= %d; detections %+v", fi, extra, tc.maxFalse, dets)
				}
			}
		})
	}
}

// TestYOLOXAndUltralyticsAgree runs the permissive default and the two
// Ultralytics exports on the same frames: different families, input sizes
// (416, 640, 320) and letterbox modes must land on the same people in frame
// pixels. Each model's confident persons (score >= 0.5) must mostly be found
// by the other at its default threshold; the 320 int8 model scores lower, so
// comparing both at 0.5 would measure calibration, not agreement.
func TestYOLOXAndUltralyticsAgree(t *testing.T) {
	opts := Options{Threads: 2, Classes: []int{0}}
	yolox := openModel(t, "yolox_nano_416_coco", opts)
	confident := func(dets []Detection) []geom.Box {
		var out []geom.Box
		for _, d := range dets {
			if d.Score >= 0.5 {
				out = append(out, d.Box)
			}
		}
		return out
	}
	for _, other := range []string{"yolov8n_640_coco_int8_AGPL", "yolo11n_320_coco_int8_AGPL"} {
		u := openModel(t, other, opts)
		var aFound, aTotal, bFound, bTotal int
		var iouSum float64
		for _, fi := range []int{0, 300} {
			a, err := yolox.Detect(frame(t, fi))
			if err != nil {
				t.Fatal(err)
			}
			b, err := u.Detect(frame(t, fi))
			if err != nil {
				t.Fatal(err)
			}
			ca, cb := confident(a), confident(b)
			pa, pb := match(ca, boxes(b), 0.5), match(cb, boxes(a), 0.5)
			aFound, aTotal = aFound+len(pa), aTotal+len(ca)
			bFound, bTotal = bFound+len(pb), bTotal+len(cb)
			for _, p := range pa {
				iouSum += ca[p[0]].IoU(b[p[1]].Box)
			}
		}
		meanIoU := iouSum / float64(aFound)
		t.Logf("yolox vs %s: %d/%d confident yolox persons matched, %d/%d the other way, mean IoU %.2f",
			other, aFound, aTotal, bFound, bTotal, meanIoU)
		if aFound < 8 || float64(aFound) < 0.75*float64(aTotal) {
			t.Errorf("%s found only %d of %d confident yolox persons at IoU >= 0.5", other, aFound, aTotal)
		}
		if bFound < 8 || float64(bFound) < 0.75*float64(bTotal) {
			t.Errorf("yolox found only %d of %d confident %s persons at IoU >= 0.5", bFound, bTotal, other)
		}
		if meanIoU < 0.7 {
			t.Errorf("yolox vs %s: mean IoU of matched persons %.2f, want >= 0.7 (letterbox undone wrongly?)", other, meanIoU)
		}
	}
}

func TestClassFilterAndThresholds(t *testing.T) {
	all := openModel(t, "yolox_nano_416_coco", Options{Threads: 2})
	vehicles := openModel(t, "yolox_nano_416_coco", Options{Threads: 2, Classes: []int{2, 7}})
	strict := openModel(t, "yolox_nano_416_coco", Options{Threads: 2, ScoreThreshold: 0.8})
	img := frame(t, 0)
	a, err := all.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vehicles.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	s, err := strict.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	var wantV int
	classes := map[int]bool{}
	for _, d := range a {
		classes[d.Class] = true
		if d.Class == 2 || d.Class == 7 {
			wantV++
		}
		if d.Score < 0.3 {
			t.Errorf("score %v below the manifest default 0.3", d.Score)
		}
	}
	if !classes[0] || wantV < 2 {
		t.Fatalf("unfiltered run should see people and the parked van/car, got %+v", a)
	}
	if len(v) != wantV {
		t.Errorf("vehicle filter kept %d, want %d", len(v), wantV)
	}
	for _, d := range v {
		if d.Class != 2 && d.Class != 7 {
			t.Errorf("class %d passed a {2,7} filter", d.Class)
		}
	}
	for _, d := range s {
		if d.Score < 0.8 {
			t.Errorf("score %v below threshold 0.8", d.Score)
		}
	}
	if len(s) == 0 || len(s) >= len(a) {
		t.Errorf("strict threshold kept %d of %d", len(s), len(a))
	}
	for i := 1; i < len(a); i++ {
		if a[i].Score > a[i-1].Score {
			t.Errorf("detections not sorted by score: %v then %v", a[i-1].Score, a[i].Score)
		}
	}
}

func TestNewONNXRejectsWrongFamily(t *testing.T) {
	requireRuntime(t)
	dir := models.DefaultDir()
	yolox, _ := models.Lookup("yolox_nano_416_coco")
	v8, _ := models.Lookup("yolov8n_640_coco_int8_AGPL")
	deim, _ := models.Lookup("deimv2_hgnetv2_atto_320_coco")
	nano, _ := models.Lookup("nanodet_m_320_coco")

	// Each manifest pointed at another family's file, sha check off so the
	// shape check is what must catch it.
	cases := []struct {
		m    models.Manifest
		file string
		want string
	}{
		{yolox, v8.File, "not a yolox model"},
		{v8, yolox.File, "not a ultralytics model"},
		{deim, yolox.File, "not a deimv2 model"},
		{nano, deim.File, "not a nanodet model"},
	}
	for _, tc := range cases {
		tc.m.SHA256 = ""
		_, err := NewONNX(tc.m, dir+"/"+tc.file, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s on %s: got %v, want %q", tc.m.Name, tc.file, err, tc.want)
		}
	}

	// Right file, manifest with the wrong class list.
	few := v8
	few.Classes = few.Classes[:20]
	few.SHA256 = ""
	if _, err := NewONNX(few, dir+"/"+v8.File, Options{}); err == nil || !strings.Contains(err.Error(), "want [1,24,8400]") {
		t.Errorf("20-class manifest on an 80-class model: %v", err)
	}
	// Manifest size disagreeing with the model.
	wrongSize := yolox
	wrongSize.Input.Size = 640
	if _, err := NewONNX(wrongSize, dir+"/"+yolox.File, Options{}); err == nil || !strings.Contains(err.Error(), "manifest input size 640 but the model takes 416") {
		t.Errorf("wrong input size: %v", err)
	}
	// The sha check comes first when the manifest has one.
	if _, err := NewONNX(yolox, dir+"/"+v8.File, Options{}); err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("sha check: %v", err)
	}
	if _, err := NewONNX(yolox, dir+"/missing.onnx", Options{}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := NewONNX(yolox, dir+"/"+yolox.File, Options{Classes: []int{80}}); err == nil || !strings.Contains(err.Error(), "class 80 out of range") {
		t.Errorf("bad class filter: %v", err)
	}
}

func TestDetectRejectsBadInput(t *testing.T) {
	d := openModel(t, "person_lite_yolox_192", Options{Threads: 1})
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer gray.Close()
	if _, err := d.Detect(gray); err == nil || !strings.Contains(err.Error(), "3-channel") {
		t.Errorf("gray image: %v", err)
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := d.Detect(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty image: %v", err)
	}
	// A frame size change must re-pad: a region of the frame (non-continuous
	// Mat, other aspect) still finds the person standing in it.
	full := frame(t, 0)
	crop := full.Region(imageRect(600, 200, 768, 360))
	defer crop.Close()
	dets, err := d.Detect(crop)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) == 0 || dets[0].Box.IoU(geom.Box{X1: 42, Y1: 40, X2: 84, Y2: 122}) < 0.5 {
		t.Errorf("person in crop not found where expected: %+v", dets)
	}
	other := openModel(t, "person_lite_yolox_192", Options{Threads: 1})
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Detect(full); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("closed detector: %v", err)
	}
}

func TestInitRuntimeErrors(t *testing.T) {
	err := InitRuntime("/nonexistent/libonnxruntime.so")
	if err == nil || !strings.Contains(err.Error(), "onnxruntime library not found at /nonexistent/libonnxruntime.so") ||
		!strings.Contains(err.Error(), EnvORTLib) {
		t.Errorf("got %v", err)
	}
	t.Setenv(EnvORTLib, "/opt/ort/libonnxruntime.so")
	if got := DefaultLibPath(); got != "/opt/ort/libonnxruntime.so" {
		t.Errorf("DefaultLibPath with env = %q", got)
	}
	t.Setenv(EnvORTLib, "")
	if got := DefaultLibPath(); !strings.HasSuffix(got, "/.deps/lib/libonnxruntime.so") || strings.Contains(got, "/detectors/") {
		t.Errorf("DefaultLibPath = %q, want the repository's .deps/lib", got)
	}
}
