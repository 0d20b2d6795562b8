package benchmarks

import (
	"encoding/csv"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/motion"
	"github.com/storesight/storesight/tracker"
)

const (
	gatingVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	// gatingFrameStep is vtest.avi's frame interval (10 fps).
	gatingFrameStep = 100 * time.Millisecond
)

// BenchmarkMotionGate measures one motion.Gate.Check, alternating two
// consecutive real frames of vtest.avi (people walking, so the difference
// and threshold do real work), at the sample's own size and scaled to 720p.
func BenchmarkMotionGate(b *testing.B) {
	for _, size := range []image.Point{{X: 768, Y: 576}, {X: 1280, Y: 720}} {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			frames := gatingFrames(b, 300, 2, size)
			defer closeGatingFrames(frames)
			g, err := motion.New(motion.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			g.Check(frames[0], 0) // allocates the gate's Mats
			st := gatingFrameStep
			b.ReportAllocs()
			for b.Loop() {
				st += gatingFrameStep
				g.Check(frames[int(st/gatingFrameStep)%2], st)
			}
		})
	}
}

// BenchmarkMotionGatingVtest runs the real chain (YOLOX-Nano, ByteTrack, the
// two hand-labelled vtest lines) once on every frame and once on the frames
// the motion gate lets through; gated frames skip detection and tracking
// entirely, as in the pipeline. Two streams, both at vtest's 10 fps:
//
//   - vtest: the 795 frames as they are; people walk in almost every frame,
//     so this measures what gating costs where it cannot save much.
//   - quiet: a shop at quiet hours. The video is cut into 10 s segments
//     and after each one but the last its final frame is repeated for 20 s
//     of stream time, so the people in view stand still there; no frame is
//     skipped, so the hand-labelled crossings stay the truth.
//
// Metrics per stream, "all" without gating and "g" with it: detector runs
// per frame with gating (without it is 1) and the share of runs saved;
// crossings per line and direction; err, the summed absolute difference of
// those counts from the hand-labelled totals; hit3 and hit10, how many of
// the 60 hand-labelled crossings a counted crossing matches within 3 frames
// (the labels' judging tolerance) and within 10 (one StillRefresh).
func BenchmarkMotionGatingVtest(b *testing.B) {
	cfg, err := config.Load("../configs/vtest.yml")
	if err != nil {
		b.Fatal(err)
	}
	lines := gatingLines(cfg.Cameras[0])
	truth := gatingLabels(b)
	det := gatingDetector(b, cfg)
	defer det.Close()

	streams := []struct {
		name  string
		pause time.Duration
	}{{"vtest", 0}, {"quiet", 20 * time.Second}}
	results := map[string][2]gatingResult{}
	for b.Loop() {
		for _, s := range streams {
			var r [2]gatingResult
			for i, gated := range []bool{false, true} {
				r[i] = runGatingChain(b, det, lines, s.pause, gated)
				b.Logf("%s gated=%v: %d frames, %d detector runs, crossings %v",
					s.name, gated, r[i].frames, r[i].runs, r[i].totals)
			}
			results[s.name] = r
		}
	}
	for _, s := range streams {
		r := results[s.name]
		b.ReportMetric(float64(r[1].runs)/float64(r[1].frames), s.name+"-runs/frame")
		b.ReportMetric(100*(1-float64(r[1].runs)/float64(r[0].runs)), s.name+"-saved-%")
		for i, mode := range []string{"all", "g"} {
			errSum := 0
			for _, l := range lines {
				for _, dir := range []string{l.Forward, l.Backward} {
					n := r[i].totals[l.Name][dir]
					b.ReportMetric(float64(n), s.name+"-"+l.Name+"-"+dir+"-"+mode)
					errSum += gatingAbs(n - labelledTotal(truth, l.Name, dir))
				}
			}
			b.ReportMetric(float64(errSum), s.name+"-err-"+mode)
			b.ReportMetric(float64(matchLabels(r[i].crossings, truth, 3)), s.name+"-hit3-"+mode)
			b.ReportMetric(float64(matchLabels(r[i].crossings, truth, 10)), s.name+"-hit10-"+mode)
		}
	}
}

// gatingResult is one pass of the chain over a stream.
type gatingResult struct {
	frames, runs int
	crossings    []counting.Crossing // Frame is the vtest.avi frame index
	totals       map[string]map[string]int
}

// runGatingChain passes vtest.avi (with pauses, see gatingStream) through
// a fresh tracker and counter, detecting on every frame or only on those a
// fresh default motion gate lets through.
func runGatingChain(b *testing.B, det detectors.Detector, lines []counting.Line, pause time.Duration, gated bool) gatingResult {
	b.Helper()
	var gate *motion.Gate
	if gated {
		var err error
		if gate, err = motion.New(motion.DefaultConfig()); err != nil {
			b.Fatal(err)
		}
		defer gate.Close()
	}
	counter, err := counting.NewCounter(lines, nil)
	if err != nil {
		b.Fatal(err)
	}
	tr := tracker.New(tracker.DefaultConfig())
	var r gatingResult
	err = gatingStream(pause, func(img gocv.Mat, st time.Duration, src int) bool {
		r.frames++
		if gate != nil && !gate.Check(img, st).Run {
			return true
		}
		r.runs++
		dets, err := det.Detect(img)
		if err != nil {
			b.Fatal(err)
		}
		// The source frame index, repeated through a pause, so crossings
		// can be matched with the hand labels.
		cr, _ := counter.Update(counting.Observation{Frame: int64(src), StreamTime: st, Tracks: tr.Update(dets)})
		r.crossings = append(r.crossings, cr...)
		return true
	})
	if err != nil {
		b.Fatal(err)
	}
	r.crossings = append(r.crossings, counter.Flush()...)
	r.totals = counter.Totals()
	return r
}

// gatingStream yields vtest.avi's frames with their stream times and frame
// indices. With a non-zero pause it cuts the video into 10 s segments and
// after each one but the last yields the segment's final frame again for
// pause of stream time, at the same 10 fps: the scene freezes and nothing is
// skipped.
func gatingStream(pause time.Duration, yield func(img gocv.Mat, st time.Duration, src int) bool) error {
	const segment = 100 // frames
	vc, err := gocv.VideoCaptureFile(gatingVideo)
	if err != nil {
		return fmt.Errorf("open %s: %w", gatingVideo, err)
	}
	defer vc.Close()
	total := int(vc.Get(gocv.VideoCaptureFrameCount))
	img := gocv.NewMat()
	defer img.Close()
	var st time.Duration
	for i := 0; i < total; i++ {
		if !vc.Read(&img) || img.Empty() {
			return fmt.Errorf("%s: frame %d of %d unreadable", gatingVideo, i, total)
		}
		if !yield(img, st, i) {
			return nil
		}
		st += gatingFrameStep
		if pause > 0 && i%segment == segment-1 && i < total-1 {
			for end := st + pause; st < end; st += gatingFrameStep {
				if !yield(img, st, i) {
					return nil
				}
			}
		}
	}
	return nil
}

// gatingFrames returns n consecutive frames of vtest.avi from frame first,
// resized to size.
func gatingFrames(b *testing.B, first, n int, size image.Point) []gocv.Mat {
	b.Helper()
	vc, err := gocv.VideoCaptureFile(gatingVideo)
	if err != nil {
		b.Fatalf("open %s: %v", gatingVideo, err)
	}
	defer vc.Close()
	vc.Set(gocv.VideoCapturePosFrames, float64(first))
	var out []gocv.Mat
	img := gocv.NewMat()
	defer img.Close()
	for len(out) < n {
		if !vc.Read(&img) || img.Empty() {
			b.Fatalf("%s: cannot read frame %d", gatingVideo, first+len(out))
		}
		m := gocv.NewMat()
		gocv.Resize(img, &m, size, 0, 0, gocv.InterpolationLinear)
		out = append(out, m)
	}
	return out
}

func closeGatingFrames(ms []gocv.Mat) {
	for _, m := range ms {
		m.Close()
	}
}

// gatingDetector opens the configured model as the app does, from
// models.DefaultDir (STORESIGHT_MODEL_DIR).
func gatingDetector(b *testing.B, cfg *config.Config) *detectors.ONNXDetector {
	b.Helper()
	if err := detectors.InitRuntime(""); err != nil {
		b.Fatal(err)
	}
	m, err := models.Lookup(cfg.Model.Name)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(models.DefaultDir(), m.File)
	if err := models.Verify(m, path); err != nil {
		b.Fatalf("model %s (set %s to the models directory): %v", m.Name, models.EnvModelDir, err)
	}
	var classes []int
	for _, c := range cfg.Model.Classes {
		classes = append(classes, m.ClassIndex(c))
	}
	d, err := detectors.NewONNX(m, path, detectors.Options{
		Threads:        threads,
		ScoreThreshold: float32(cfg.Model.ScoreThreshold),
		NMSThreshold:   float32(cfg.Model.NMSThreshold),
		Classes:        classes,
	})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// gatingLines converts the camera's configured lines like the app does.
func gatingLines(cam config.Camera) []counting.Line {
	var lines []counting.Line
	for _, l := range cam.Lines {
		lines = append(lines, counting.Line{
			Name:    l.Name,
			Seg:     geom.Segment{A: geom.Point{X: l.Points[0][0], Y: l.Points[0][1]}, B: geom.Point{X: l.Points[1][0], Y: l.Points[1][1]}},
			Forward: l.Forward, Backward: l.Backward, Band: l.Band, ConfirmFrames: l.ConfirmFrames,
		})
	}
	return lines
}

// labelledCrossing is one hand-labelled crossing of testdata/vtest.
type labelledCrossing struct {
	line, dir string
	frame     int
}

// gatingLabels reads the hand-labelled crossings.
func gatingLabels(b *testing.B) []labelledCrossing {
	b.Helper()
	f, err := os.Open("../testdata/vtest/crossings.csv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatalf("crossings.csv: %v", err)
	}
	var out []labelledCrossing
	for _, r := range rows[1:] {
		n, err := strconv.Atoi(r[2])
		if err != nil {
			b.Fatalf("crossings.csv: frame %q: %v", r[2], err)
		}
		out = append(out, labelledCrossing{r[0], r[1], n})
	}
	return out
}

func labelledTotal(truth []labelledCrossing, line, dir string) int {
	n := 0
	for _, t := range truth {
		if t.line == line && t.dir == dir {
			n++
		}
	}
	return n
}

// matchLabels counts the hand-labelled crossings that a counted crossing of the
// same line and direction matches within tol frames, each label and each
// count used once, closest pairs first.
func matchLabels(counted []counting.Crossing, truth []labelledCrossing, tol int) int {
	type pair struct{ c, t, d int }
	var pairs []pair
	for i, c := range counted {
		for j, t := range truth {
			if d := gatingAbs(int(c.Frame) - t.frame); c.Line == t.line && c.Direction == t.dir && d <= tol {
				pairs = append(pairs, pair{i, j, d})
			}
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return a.d - b.d })
	usedC, usedT := map[int]bool{}, map[int]bool{}
	n := 0
	for _, p := range pairs {
		if !usedC[p.c] && !usedT[p.t] {
			usedC[p.c], usedT[p.t] = true, true
			n++
		}
	}
	return n
}

func gatingAbs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
