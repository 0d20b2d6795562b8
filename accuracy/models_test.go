package accuracy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
)

const sampleDir = "../testdata/mot/vtest-s01"

// modelFloor is what one model must reach on the 56 keyframes of
// vtest-s01 at its manifest's score threshold: recall on the 293 people at
// least half visible, and precision over every box it reports (a box on a
// consider=0 person counts neither way).
type modelFloor struct {
	visibleRecall, precision float64
}

// modelFloors were set from one measurement (ONNX Runtime CPU, 2 threads;
// one visible person is 0.34 points of recall). "±0.05" is the recall and
// precision with the score threshold moved by 0.05 either way, standing in
// for another provider, runtime version or a small preprocessing change.
// Every recall floor is at least 9 boxes under the measurement and, but
// for deimv2_atto, under the +0.05 recall; every one is above what a
// broken decoder scores (the "sanity" subtests: boxes 20 px off sideways,
// x/y swapped, a letterbox undone with the wrong aspect, pad or input size
// all score recall <= 0.63 on every model). Every model misses the same
// few visible people: id 6 half out at the right border on gt 113 (gt
// keeps the full-body box, the models box the visible half), id 3 40%
// hidden by the fire assembly sign on gt 11, and ids 1/3/4 while one hides
// part of another on gt 44-46 and 81-98.
//
//	                                                 vis at thr        prec at thr   floors
//	model                      recall vis (all)      -0.05 +0.05  prec   -0.05 +0.05  vis  prec
//	yolox_nano_416             0.962 282/293 (0.940) 0.962 0.962  0.820  0.810 0.825  0.93 0.75
//	yolov8n_640 int8           0.983 288/293 (0.960) 0.983 0.983  0.983  0.963 0.990  0.945 0.93
//	yolo11n_320 int8           0.915 268/293 (0.893) 0.942 0.891  0.985  0.986 0.989  0.86 0.93
//	nanodet_m_320              0.918 269/293 (0.897) 0.939 0.891  0.903  0.737 0.946  0.86 0.80
//	nanodet_m_416              0.969 284/293 (0.947) 0.976 0.956  0.763  0.699 0.856  0.93 0.68
//	deimv2_femto_416           0.952 279/293 (0.930) 0.962 0.942  0.976  0.953 0.979  0.91 0.92
//	deimv2_atto_320            0.676 198/293 (0.660) 0.737 0.573  0.975  0.952 0.982  0.60 0.90
//	person_lite_yolox_192      0.741 217/293 (0.723) 0.754 0.734  0.733  0.704 0.765  0.68 0.65
//
// Why each sits where it does:
//   - yolox_nano_416 (the default): 56 of its 62 false boxes are the small
//     blue sign on a post at the top left (x 31-48, y 110-143), on every
//     keyframe. Precision 0.75 leaves room for ~30 more false boxes, not
//     for a second such box on every frame.
//   - yolov8n_640: the most complete; the visible people it misses are all
//     35-50% hidden or half out of the picture.
//   - yolo11n_320 and nanodet_m_320: at 320 px the people (59-112 px tall)
//     shrink to 25-47 px, and both lose small or overlapped people
//     (yolo11n: id 7 at gt 1 and 26-27, id 4 at 76-84; nanodet: id 1 at gt
//     41-61, id 3 after the jump). Their recall drops ~2.5 points per +0.05
//     of threshold, so the floors are 16-17 boxes under the measurement.
//     nanodet_m_320 has many boxes just under its 0.35 (the rock at x≈175,
//     y≈263, the cone at x≈168, y≈195; precision 0.737 at 0.30): its
//     precision floor 0.80 allows ~2x today's 29 false boxes.
//   - nanodet_m_416: finds nearly everyone, but also the blue sign (~50
//     times) and the cone, hence precision 0.68.
//   - deimv2_femto_416: NMS-free, few false boxes.
//   - deimv2_atto_320: scores low. 29 of its 95 misses score 0.35-0.45
//     (recall 0.775 at 0.35), and its recall moves 6-10 points per 0.05 of
//     threshold, hence the 22-box margin. 0.60 still fails boxes 8 px off
//     sideways (0.570) as well as every bug below.
//   - person_lite_yolox_192: 192 px makes people 15-28 px tall. It merges
//     pairs walking together into one box (ids 6+7 at gt 1-31, 2+3 at gt
//     81-106: a false box and one or two misses each time) and fires on the
//     fire assembly sign on the lamp post (x 413-450, y 167-240) in ~25
//     keyframes.
var modelFloors = map[string]modelFloor{
	"yolox_nano_416_coco":           {0.93, 0.75},
	"yolov8n_640_coco_int8_AGPL":    {0.945, 0.93},
	"yolo11n_320_coco_int8_AGPL":    {0.86, 0.93},
	"nanodet_m_320_coco":            {0.86, 0.80},
	"nanodet_m_416_coco":            {0.93, 0.68},
	"deimv2_hgnetv2_femto_416_coco": {0.91, 0.92},
	"deimv2_hgnetv2_atto_320_coco":  {0.60, 0.90},
	"person_lite_yolox_192":         {0.68, 0.65},
}

// decoderBugs move correct boxes the way a broken decoder would. A bug
// that must fail the floors must score far below them: recall at least
// sanityGap under the model's floor. The small offsets are logged only:
// IoU 0.5 cannot see a box moved by a quarter of its width or less, so a
// decoder off by half a stride passes on some models (see the log).
var decoderBugs = []struct {
	name     string
	mustFail bool
	alter    func(geom.Box) geom.Box
}{
	{"boxes 20 px right", true, func(b geom.Box) geom.Box { b.X1 += 20; b.X2 += 20; return b }},
	{"x and y swapped", true, func(b geom.Box) geom.Box { return geom.Box{X1: b.Y1, Y1: b.X1, X2: b.Y2, Y2: b.X2} }},
	// A top-left letterbox undone as a stretch: y scaled by 576/768.
	{"top-left letterbox undone as stretch", true, func(b geom.Box) geom.Box { b.Y1 *= 0.75; b.Y2 *= 0.75; return b }},
	// A centred letterbox undone as a stretch: the 1/8 pad stays in y.
	{"centred letterbox undone as stretch", true, func(b geom.Box) geom.Box {
		b.Y1, b.Y2 = b.Y1*0.75+72, b.Y2*0.75+72
		return b
	}},
	// A centred letterbox's pad (96 px of the frame) not subtracted.
	{"centred pad not removed", true, func(b geom.Box) geom.Box { b.Y1 += 96; b.Y2 += 96; return b }},
	// The undo using 320 where the input is 416.
	{"undo scaled for the wrong input size", true, func(b geom.Box) geom.Box {
		const k = 416.0 / 320
		return geom.Box{X1: b.X1 * k, Y1: b.Y1 * k, X2: b.X2 * k, Y2: b.Y2 * k}
	}},
	{"boxes 20 px down", false, func(b geom.Box) geom.Box { b.Y1 += 20; b.Y2 += 20; return b }},
	{"boxes 8 px right", false, func(b geom.Box) geom.Box { b.X1 += 8; b.X2 += 8; return b }},
	{"boxes 8 px down", false, func(b geom.Box) geom.Box { b.Y1 += 8; b.Y2 += 8; return b }},
}

const sanityGap = 0.15

// keyframeTruth is the gt of one hand-checked keyframe and its pixels.
type keyframeTruth struct {
	frame int // 1-based gt frame
	img   gocv.Mat
	rows  []Row
}

// TestModelsFindPeople runs every model of the zoo, through its decoder,
// on the keyframes of the labelled sample (the frames whose boxes were
// checked by eye, not interpolated) and checks that it finds the people
// there with few false boxes.
func TestModelsFindPeople(t *testing.T) {
	seq, err := LoadSequence(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	keys := sampleKeyframes(t, seq)
	var nVis, nAll int
	for _, k := range keys {
		for _, r := range k.rows {
			if r.Conf > 0 {
				nAll++
				if r.Visibility >= 0.5 {
					nVis++
				}
			}
		}
	}
	t.Logf("%d keyframes, %d gt boxes (consider=1), %d of them visible >= 0.5", len(keys), nAll, nVis)
	if len(keys) != 56 || nAll != 300 || nVis != 293 {
		t.Fatalf("the floors were measured on 56 keyframes, 300 people, 293 visible: remeasure them for the new labels")
	}
	dir := models.DefaultDir()
	wrongClassModel := config.Default().Model.Name
	for _, m := range models.All() {
		t.Run(m.Name, func(t *testing.T) {
			person := m.ClassIndex("person")
			if person < 0 {
				t.Fatalf("model %s has no person class", m.Name)
			}
			path := filepath.Join(dir, m.File)
			dets := detectKeyframes(t, m, path, person, keys)
			vis, all := scoreKeyframes(keys, dets, nil)
			t.Logf("%-30s thr %.2f  recall visible %.3f (%d/%d)  all %.3f (%d/%d)  precision %.3f (%d false)",
				m.Name, m.ScoreThreshold, vis.Recall, vis.TP, vis.GT, all.Recall, all.TP, all.GT, all.Precision, all.FP)
			f, ok := modelFloors[m.Name]
			if !ok {
				t.Fatalf("no floors for model %s: measure it and add it to modelFloors", m.Name)
			}
			t.Logf("floors: recall visible %.3f, precision %.3f", f.visibleRecall, f.precision)
			if vis.Recall < f.visibleRecall {
				t.Errorf("recall on visible people %.3f, want >= %.3f", vis.Recall, f.visibleRecall)
			}
			if all.Precision < f.precision {
				t.Errorf("precision %.3f, want >= %.3f", all.Precision, f.precision)
			}
			if t.Failed() {
				logMisses(t, keys, dets)
			}
			t.Run("sanity", func(t *testing.T) {
				for _, b := range decoderBugs {
					bv, ba := scoreKeyframes(keys, dets, b.alter)
					t.Logf("%-38s recall visible %.3f  precision %.3f", b.name, bv.Recall, ba.Precision)
					if b.mustFail && bv.Recall > f.visibleRecall-sanityGap {
						t.Errorf("%s: recall visible %.3f, not far below the floor %.3f: the floor would not catch this bug",
							b.name, bv.Recall, f.visibleRecall)
					}
				}
				// A decoder reading the wrong class column: run the
				// default model for bicycles and score them as people.
				if m.Name != wrongClassModel {
					return
				}
				wrong := m.ClassIndex("bicycle")
				if wrong < 0 {
					t.Fatalf("model %s has no bicycle class", m.Name)
				}
				bv, ba := scoreKeyframes(keys, detectKeyframes(t, m, path, wrong, keys), nil)
				t.Logf("%-38s recall visible %.3f  precision %.3f", "class index 1 read as person", bv.Recall, ba.Precision)
				if bv.Recall > f.visibleRecall-sanityGap {
					t.Errorf("wrong class: recall visible %.3f, not far below the floor %.3f", bv.Recall, f.visibleRecall)
				}
			})
		})
	}
}

// sampleKeyframes decodes the keyframes of the sample with their gt rows.
// Decoding runs from the start rather than seeking (see openSegment).
func sampleKeyframes(t *testing.T, seq *Sequence) []keyframeTruth {
	t.Helper()
	frames, err := readKeyframeList(filepath.Join(seq.Dir, "keyframes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byFrame := map[int][]Row{}
	for _, r := range seq.GT {
		byFrame[r.Frame] = append(byFrame[r.Frame], r)
	}
	vc, err := gocv.VideoCaptureFileWithAPI(seq.Video, gocv.VideoCaptureFFmpeg)
	if err != nil {
		t.Fatalf("%s: %v", seq.Video, err)
	}
	defer vc.Close()
	last := seq.StartFrame - 1 + frames[len(frames)-1]
	keys := make([]keyframeTruth, 0, len(frames))
	next := 0
	img := gocv.NewMat()
	defer img.Close()
	for i := 0; i <= last; i++ {
		if !vc.Read(&img) || img.Empty() {
			t.Fatalf("%s: decode frame %d does not decode", seq.Video, i)
		}
		if f := i - seq.StartFrame + 1; f == frames[next] {
			k := keyframeTruth{frame: f, img: img.Clone(), rows: byFrame[f]}
			t.Cleanup(func() { k.img.Close() })
			keys = append(keys, k)
			next++
		}
	}
	return keys
}

// readKeyframeList reads keyframes.txt: one 1-based gt frame per line,
// optionally followed by a reason; # starts a comment.
func readKeyframeList(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read keyframes: %w", err)
	}
	defer f.Close()
	var frames []int
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		n, err := strconv.Atoi(fields[0])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s:%d: %q is not a 1-based frame number", path, line, fields[0])
		}
		if len(frames) > 0 && n <= frames[len(frames)-1] {
			return nil, fmt.Errorf("%s:%d: frame %d is not after %d", path, line, n, frames[len(frames)-1])
		}
		frames = append(frames, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("%s: no keyframes", path)
	}
	return frames, nil
}

// detectKeyframes runs the model as production opens it (2 threads, the
// manifest's score and NMS thresholds) keeping only class, and returns
// each keyframe's boxes.
func detectKeyframes(t *testing.T, m models.Manifest, path string, class int, keys []keyframeTruth) [][]Scored {
	t.Helper()
	d, err := detectors.NewONNX(m, path, detectors.Options{Threads: 2, Classes: []int{class}, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := make([][]Scored, len(keys))
	for i, k := range keys {
		found, err := d.Detect(k.img)
		if err != nil {
			t.Fatalf("gt frame %d: %v", k.frame, err)
		}
		for _, x := range found {
			if x.Class != class {
				t.Fatalf("gt frame %d: class %d box from a detector asked for class %d only", k.frame, x.Class, class)
			}
			out[i] = append(out[i], Scored{Box: x.Box, Score: float64(x.Score)})
		}
	}
	return out
}

// scoreKeyframes scores dets (moved by alter when not nil) against the
// keyframes' gt twice: vis counts only the people at least half visible
// (the hidden ones are ignore regions, so finding them costs nothing), all
// counts every consider=1 person. consider=0 rows are ignore regions in
// both.
func scoreKeyframes(keys []keyframeTruth, dets [][]Scored, alter func(geom.Box) geom.Box) (vis, all DetectionMetrics) {
	var sv, sa DetectionScore
	for i, k := range keys {
		var visible, hidden, every, ignore []geom.Box
		for _, r := range k.rows {
			switch {
			case r.Conf == 0:
				ignore = append(ignore, r.Box)
			case r.Visibility >= 0.5:
				visible = append(visible, r.Box)
				every = append(every, r.Box)
			default:
				hidden = append(hidden, r.Box)
				every = append(every, r.Box)
			}
		}
		d := dets[i]
		if alter != nil {
			d = slices.Clone(d)
			for j := range d {
				d[j].Box = alter(d[j].Box)
			}
		}
		sv.Add(visible, append(slices.Clone(ignore), hidden...), d)
		sa.Add(every, ignore, d)
	}
	return sv.Metrics(), sa.Metrics()
}

// logMisses names the considered people no box overlaps with IoU >= 0.5
// and the boxes that overlap no person, so a drop in recall or precision
// can be looked up on the frames. A broken decoder can emit thousands of
// boxes, so each list is cut at 60 entries.
func logMisses(t *testing.T, keys []keyframeTruth, dets [][]Scored) {
	t.Helper()
	var missed, wrong []string
	for i, k := range keys {
		for _, r := range k.rows {
			if r.Conf == 0 {
				continue
			}
			if !slices.ContainsFunc(dets[i], func(s Scored) bool { return s.Box.IoU(r.Box) >= detectionIoU }) {
				missed = append(missed, fmt.Sprintf("%d:%d(v%.2f)", k.frame, r.ID, r.Visibility))
			}
		}
		for _, s := range dets[i] {
			if !slices.ContainsFunc(k.rows, func(r Row) bool { return s.Box.IoU(r.Box) >= detectionIoU }) {
				wrong = append(wrong, fmt.Sprintf("%d:[%.0f,%.0f,%.0f,%.0f]%.2f", k.frame, s.Box.X1, s.Box.Y1, s.Box.X2, s.Box.Y2, s.Score))
			}
		}
	}
	t.Logf("missed (frame:id(visibility)), %d: %s", len(missed), headOf(missed, 60))
	t.Logf("boxes on nobody (frame:[x1,y1,x2,y2]score), %d: %s", len(wrong), headOf(wrong, 60))
}

func headOf(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, " ")
	}
	return strings.Join(s[:n], " ") + fmt.Sprintf(" ... (%d more)", len(s)-n)
}
