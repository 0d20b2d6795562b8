package accuracy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/video"
)

var quiet = slog.New(slog.DiscardHandler)

var (
	fixtureOnce sync.Once
	fixtureSeq  *Sequence
	fixtureRes  *Run
	fixtureErr  error
)

// fixtureRun evaluates the default model on the fixture sequence once for
// the tests that only read the run.
func fixtureRun(t *testing.T) (*Sequence, *Run) {
	t.Helper()
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "accuracy-fixture")
		if err != nil {
			fixtureErr = err
			return
		}
		defer os.RemoveAll(dir)
		for name, data := range fixture() {
			p := filepath.Join(dir, "fx", name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if fixtureErr = os.WriteFile(p, []byte(data), 0o644); fixtureErr != nil {
				return
			}
		}
		if fixtureSeq, fixtureErr = LoadSequence(filepath.Join(dir, "fx")); fixtureErr != nil {
			return
		}
		fixtureRes, fixtureErr = Evaluate(context.Background(), fixtureSeq, RunOptions{Log: quiet})
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureSeq, fixtureRes
}

// losslessCopy writes decode frames [start, start+n) of vtest to a
// lossless (FFV1) file and checks that it decodes to the same pixels.
func losslessCopy(t *testing.T, start, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.avi")
	read := func(p string, skip int) []gocv.Mat {
		vc, err := gocv.VideoCaptureFileWithAPI(p, gocv.VideoCaptureFFmpeg)
		if err != nil {
			t.Fatal(err)
		}
		defer vc.Close()
		var frames []gocv.Mat
		for i := 0; i < skip+n; i++ {
			m := gocv.NewMat()
			if !vc.Read(&m) || m.Empty() {
				t.Fatalf("%s: frame %d does not decode", p, i)
			}
			if i < skip {
				m.Close()
				continue
			}
			frames = append(frames, m)
		}
		return frames
	}
	src := read(vtest, start)
	w, err := gocv.VideoWriterFile(path, "FFV1", 10, src[0].Cols(), src[0].Rows(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range src {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	back := read(path, 0)
	for i := range src {
		if !sameMat(src[i], back[i]) {
			t.Fatalf("copy frame %d differs from vtest frame %d: the copy is not lossless", i, start+i)
		}
		src[i].Close()
		back[i].Close()
	}
	return path
}

func sameMat(a, b gocv.Mat) bool {
	return a.Rows() == b.Rows() && a.Cols() == b.Cols() && a.Type() == b.Type() && bytes.Equal(a.ToBytes(), b.ToBytes())
}

// Evaluate is `storesight analyze`: on the same pixels, the tracks
// analyze -tracks writes and the counts it reports equal the run's. The
// fixture plays vtest frames 260..299; analyze reads a lossless copy of
// exactly those frames, from its first frame, as a camera would.
func TestEvaluateIsAnalyze(t *testing.T) {
	seq, run := fixtureRun(t)
	copyPath := losslessCopy(t, seq.StartFrame, seq.Info.SeqLength)

	cfg := config.Default()
	cfg.Store.ID = "local"
	cfg.Model.Dir = models.DefaultDir()
	cam := config.DefaultCamera()
	cam.ID, cam.Source = "copy", copyPath
	for _, l := range []struct {
		name    string
		points  []config.Point
		band    float64
		confirm int
	}{{"west", []config.Point{{300, 150}, {300, 340}}, 8, 2}, {"east", []config.Point{{560, 120}, {560, 440}}, 5, 3}} {
		cl := config.DefaultLine()
		cl.Name, cl.Points, cl.Forward, cl.Backward, cl.Band, cl.ConfirmFrames = l.name, l.points, "leftward", "rightward", l.band, l.confirm
		cam.Lines = append(cam.Lines, cl)
	}
	cfg.Cameras = []config.Camera{cam}
	tracks := filepath.Join(t.TempDir(), "tracks.txt")
	cfg.Outputs = config.Outputs{TracksFile: tracks}
	a, err := app.New(context.Background(), cfg, app.Options{Offline: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadMOT(tracks, Results)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(run.Results, want) {
		t.Fatalf("Evaluate wrote %d track rows, analyze %d; they differ", len(run.Results), len(want))
	}
	got := map[string]map[string]int{}
	for _, c := range run.Crossings {
		if got[c.Line] == nil {
			got[c.Line] = map[string]int{}
		}
		got[c.Line][c.Direction]++
	}
	wantCounts := sum.Cameras[0].Totals
	total := 0
	for line, dirs := range wantCounts {
		for dir, n := range dirs {
			total += n
			if got[line][dir] != n {
				t.Errorf("%s %s: Evaluate counted %d, analyze %d", line, dir, got[line][dir], n)
			}
		}
	}
	if total == 0 || len(run.Crossings) != total {
		t.Errorf("Evaluate counted %d crossings, analyze %d", len(run.Crossings), total)
	}
	if run.Frames != seq.Info.SeqLength || run.Elapsed <= 0 {
		t.Errorf("frames %d (want %d), elapsed %v", run.Frames, seq.Info.SeqLength, run.Elapsed)
	}
	t.Logf("%d track rows, crossings %v", len(want), wantCounts)
}

// With the run's own tracks as ground truth every frame number lines up:
// the scores are perfect, the crossings counted on the tracks are the
// crossings derived from them, and the detector found the boxes it fed
// the tracker.
func TestEvaluateOnOwnTracks(t *testing.T) {
	_, first := fixtureRun(t)
	var gt bytes.Buffer
	rows := make([]Row, len(first.Results))
	for i, r := range first.Results {
		rows[i] = Row{Frame: r.Frame, ID: r.ID, Box: r.Box, Conf: 1, Class: pedestrianClass, Visibility: 1}
	}
	if err := WriteGT(&gt, rows); err != nil {
		t.Fatal(err)
	}
	files := fixture()
	files[GTFile] = gt.String()
	// No slack: the crossings counted on the tracks and those derived from
	// their rows must fall on the same frames.
	files[SequenceFile] = strings.Replace(files[SequenceFile], "start_frame: 260\n", "start_frame: 260\ncrossing_tolerance: 0\n", 1)
	seq, err := LoadSequence(writeSequence(t, files))
	if err != nil {
		t.Fatal(err)
	}
	run, err := Evaluate(context.Background(), seq, RunOptions{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	tm := run.Tracking
	if tm.MOTA != 1 || tm.IDF1 != 1 || tm.IDSW != 0 || tm.FP != 0 || tm.FN != 0 || tm.GTDets != len(rows) {
		t.Errorf("tracking on its own tracks: %+v", tm)
	}
	c := run.Counting.Total
	// W07 crosses west leftward at decode frame 270 (testdata/vtest).
	if c.GT == 0 || c.TP != c.GT || c.FP != 0 || c.FN != 0 || run.Counting.Tolerance != 0 {
		t.Errorf("counting on its own tracks: %+v (gt %v, counted %v)", c, seq.Crossings, run.Crossings)
	}
	// Every output track was matched to a detection at or above the
	// production threshold in its frame, and the Kalman-filtered box stays
	// close to it; a frame mix-up between the detections and the gt would
	// lose most of them.
	// The boxes at the threshold are the top of the ranking AP50 is
	// computed on, so the envelope cannot fall below their point:
	// AP50 >= recall * precision.
	if d := run.Detection; d.GT != len(rows) || d.Recall < 0.95 || d.AP50 < d.Recall*d.Precision {
		t.Errorf("detections against the tracks they fed: %+v", d)
	}
	t.Logf("detection %+v", run.Detection)
}

// The recording detector hands the pipeline exactly what the production
// detector returns, and keeps the boxes below the threshold too.
func TestRecordingDetectorMatchesProduction(t *testing.T) {
	cfg := config.Default()
	rec, m, err := openDetector(cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	prod, err := detectors.NewONNX(m, filepath.Join(models.DefaultDir(), m.File), detectors.Options{
		Threads: cfg.Model.Threads, ScoreThreshold: float32(cfg.Model.ScoreThreshold),
		NMSThreshold: float32(cfg.Model.NMSThreshold), Classes: []int{m.ClassIndex("person")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	src, err := video.OpenFile(video.Spec{Camera: "t", URL: vtest})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames, low := 0, 0
	for {
		f, err := src.Next(context.Background())
		if errors.Is(err, video.ErrEndOfStream) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq%60 != 0 {
			f.Release()
			continue
		}
		frames++
		want, err := prod.Detect(f.Img)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rec.Detect(f.Img)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("frame %d: pipeline gets %v\nproduction detector %v", f.Seq, got, want)
		}
		all, ok := rec.take(f.Img)
		if !ok || len(all) < len(want) {
			t.Fatalf("frame %d: recorded %d boxes (%v), fewer than the %d kept", f.Seq, len(all), ok, len(want))
		}
		for _, d := range all {
			if d.Score < APScoreFloor {
				t.Errorf("frame %d: recorded a box at %v, below the floor", f.Seq, d.Score)
			}
		}
		low += len(all) - len(want)
		if _, again := rec.take(f.Img); again {
			t.Errorf("frame %d: boxes handed out twice", f.Seq)
		}
		f.Release()
	}
	if frames < 13 || low == 0 {
		t.Errorf("%d frames compared, %d boxes below the threshold recorded", frames, low)
	}
}

// The segment plays exactly decode frames [start, start+n), numbered from
// 0 with stream time from 0, and fails when the video is too short.
func TestSegmentSource(t *testing.T) {
	seq := &Sequence{Name: "seg", Video: vtest, StartFrame: 790, Info: SeqInfo{SeqLength: 4}}
	s, err := openSegment(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := video.OpenFile(video.Spec{Camera: "d", URL: vtest})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	for i := 0; i < 790; i++ {
		f, err := direct.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
	}
	for i := int64(0); i < 4; i++ {
		f, err := s.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		d, err := direct.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq != i || !sameMat(f.Img, d.Img) {
			t.Errorf("segment frame %d (seq %d) is not decode frame %d", i, f.Seq, 790+i)
		}
		if want := d.StreamTime - 79*time.Second; f.StreamTime != want {
			t.Errorf("segment frame %d at stream time %v, want %v", i, f.StreamTime, want)
		}
		f.Release()
		d.Release()
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, video.ErrEndOfStream) {
		t.Errorf("after the segment: %v, want end of stream", err)
	}
	if info := s.Info(); info.Frames != 4 || info.Width != 768 {
		t.Errorf("info %+v", info)
	}
	s.Close()

	seq.Info.SeqLength = 10 // 790 + 10 > 795
	s, err = openSegment(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var last error
	for range 10 {
		f, err := s.Next(context.Background())
		if err != nil {
			last = err
			break
		}
		f.Release()
	}
	if last == nil || !strings.Contains(last.Error(), "ended at frame 5 of the sequence's 10 (start_frame 790)") {
		t.Errorf("short video: %v", last)
	}
	seq.StartFrame = 800
	if _, err := openSegment(context.Background(), seq); err == nil || !strings.Contains(err.Error(), "ended after 795 frames, before start_frame 800") {
		t.Errorf("start beyond the end: %v", err)
	}
}

// The TrackEval layout holds what the run scored: the files parse back to
// the gt and results, and scoring them gives the run's tracking metrics.
// Runs of other sequences join the seqmap; writing again adds nothing.
func TestWriteTrackEval(t *testing.T) {
	seq, run := fixtureRun(t)
	root := t.TempDir()
	other := *run
	otherSeq := *seq
	otherSeq.Name = "fy"
	other.Seq = &otherSeq
	for _, r := range []*Run{run, &other, run} {
		if err := r.WriteTrackEval(root, "mine"); err != nil {
			t.Fatal(err)
		}
	}
	seqmap, err := os.ReadFile(filepath.Join(root, "gt/mot_challenge/seqmaps/STORESIGHT-test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(seqmap) != "name\nfx\nfy\n" {
		t.Errorf("seqmap %q", seqmap)
	}
	checkTrackEvalLayout(t, root, "mine", run)
	if err := run.WriteTrackEval(root, "a/b"); err == nil {
		t.Error("a tracker name with a slash was accepted")
	}
}

// checkTrackEvalLayout reads back what WriteTrackEval wrote for run, at the
// paths TrackEval's MotChallenge2DBox opens.
func checkTrackEvalLayout(t *testing.T, root, tracker string, run *Run) {
	t.Helper()
	name := run.Seq.Name
	gtDir := filepath.Join(root, "gt", "mot_challenge", "STORESIGHT-test", name)
	info, err := ReadSeqInfo(filepath.Join(gtDir, "seqinfo.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if info != run.Seq.Info {
		t.Errorf("seqinfo.ini reads back as %+v, want %+v", info, run.Seq.Info)
	}
	gt, err := ReadMOT(filepath.Join(gtDir, "gt", "gt.txt"), GT)
	if err != nil {
		t.Fatal(err)
	}
	wantGT, err := AsWritten(run.Seq.GT, GT)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gt, wantGT) {
		t.Errorf("gt.txt reads back as %d rows, want %d", len(gt), len(wantGT))
	}
	res, err := ReadMOT(filepath.Join(root, "trackers", "mot_challenge", "STORESIGHT-test", tracker, "data", name+".txt"), Results)
	if err != nil {
		t.Fatal(err)
	}
	if want := sortedRows(run.Results); !reflect.DeepEqual(res, want) {
		t.Errorf("results read back as %d rows, want %d", len(res), len(want))
	}
	m, err := EvaluateTracking(gt, res, info.SeqLength)
	if err != nil {
		t.Fatal(err)
	}
	if m != run.Tracking {
		t.Errorf("the written files score %+v\nthe run reported %+v", m, run.Tracking)
	}
}

func TestEvaluateUnknownModel(t *testing.T) {
	seq, _ := fixtureRun(t)
	_, err := Evaluate(context.Background(), seq, RunOptions{Model: "no_such_model", Log: quiet})
	if err == nil || !strings.Contains(err.Error(), `model "no_such_model"`) {
		t.Errorf("unknown model: %v", err)
	}
}

var (
	sampleOnce sync.Once
	sampleRes  *Run
	sampleErr  error
)

// sampleRun evaluates the default model on testdata/mot/vtest-s01 once.
func sampleRun(t *testing.T) *Run {
	t.Helper()
	sampleOnce.Do(func() {
		seq, err := LoadSequence("../testdata/mot/vtest-s01")
		if err != nil {
			sampleErr = err
			return
		}
		sampleRes, sampleErr = Evaluate(context.Background(), seq, RunOptions{Log: quiet})
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleRes
}

// The default model on the labelled sample (150 frames, 7 people, 12 line
// crossings). Measured on CPU (ONNX Runtime, 2 threads): MOTA 0.903, IDF1
// 0.885, MOTP 0.830, IDSW 1, FP 10, FN 69, 8 tracker ids; detections at
// 0.3: recall 0.955, precision 0.827 (150 of the 164 false boxes are the
// blue sign at the top left, in every frame), AP50 0.960; counting 12 of 12
// with none extra. The bounds sit 5-15 points below: another execution
// provider or a small tracker change must not fail the test, a detector
// or tracker that no longer follows people, or counting that loses
// crossings, must. (Frame alignment is checked exactly elsewhere:
// TestEvaluateOnOwnTracks, TestEvaluateIsAnalyze; tracks one frame late
// still score MOTA 0.87 here, one frame early 0.77.)
func TestEvaluateSample(t *testing.T) {
	run := sampleRun(t)
	tm, d, c := run.Tracking, run.Detection, run.Counting.Total
	t.Logf("%d frames in %v; tracking %+v", run.Frames, run.Elapsed, tm)
	t.Logf("detection %+v", d)
	t.Logf("counting %+v (truth %s)", run.Counting.PerLine, run.Seq.CrossingsSource)
	if run.Frames != 150 || tm.GTIDs != 7 {
		t.Fatalf("%d frames, %d gt ids; want the sample's 150 and 7", run.Frames, tm.GTIDs)
	}
	if tm.MOTA < 0.80 || tm.IDF1 < 0.75 || tm.MOTP < 0.75 || tm.IDSW > 5 || tm.TrackerIDs > 15 {
		t.Errorf("tracking below the bounds: MOTA %.3f IDF1 %.3f MOTP %.3f IDSW %d tracker ids %d", tm.MOTA, tm.IDF1, tm.MOTP, tm.IDSW, tm.TrackerIDs)
	}
	if d.Recall < 0.85 || d.Precision < 0.70 || d.AP50 < 0.85 {
		t.Errorf("detection below the bounds: recall %.3f precision %.3f AP50 %.3f", d.Recall, d.Precision, d.AP50)
	}
	if c.GT != 12 || c.Recall < 0.8 || c.Precision < 0.8 {
		t.Errorf("counting below the bounds: %+v", c)
	}
}

// The TrackEval layout of the sample has the names TrackEval looks for
// and parses back to what the run scored.
func TestWriteTrackEvalSample(t *testing.T) {
	run := sampleRun(t)
	root := t.TempDir()
	if err := run.WriteTrackEval(root, run.Model); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"gt/mot_challenge/STORESIGHT-test/vtest-s01/gt/gt.txt",
		"gt/mot_challenge/STORESIGHT-test/vtest-s01/seqinfo.ini",
		"gt/mot_challenge/seqmaps/STORESIGHT-test.txt",
		"trackers/mot_challenge/STORESIGHT-test/yolox_nano_416_coco/data/vtest-s01.txt",
	} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Error(err)
		}
	}
	checkTrackEvalLayout(t, root, run.Model, run)
	cmd := TrackEvalCommand(root, run.Model)
	for _, want := range []string{"--GT_FOLDER " + filepath.Join(root, "gt/mot_challenge"), "--BENCHMARK STORESIGHT --SPLIT_TO_EVAL test", "--TRACKERS_TO_EVAL yolox_nano_416_coco"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("TrackEval command %q lacks %q", cmd, want)
		}
	}
}

// TestEvaluateTakesTheDeploymentConfig checks that a configuration's tracker
// and model sections are what gets evaluated: min_hits 1 confirms tracks on
// their first frame, so the same detections give more track rows and earlier
// first appearances than the default's three hits; the model's score
// threshold comes along too.
func TestEvaluateTakesTheDeploymentConfig(t *testing.T) {
	seq, def := fixtureRun(t)
	cfg := config.Default()
	cfg.Tracker.MinHits = 1
	cfg.Model.ScoreThreshold = 0.4
	run, err := Evaluate(context.Background(), seq, RunOptions{Config: cfg, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if run.ScoreThreshold != 0.4 {
		t.Errorf("score threshold %v, want the configuration's 0.4", run.ScoreThreshold)
	}
	first := func(rows []Row) int {
		f := 1 << 30
		for _, r := range rows {
			f = min(f, r.Frame)
		}
		return f
	}
	t.Logf("default: %d rows from frame %d; min_hits 1: %d rows from frame %d", len(def.Results), first(def.Results), len(run.Results), first(run.Results))
	if first(run.Results) != 1 || first(def.Results) < 3 {
		t.Errorf("first track frame: min_hits 1 gives %d (want 1), default gives %d (want >= 3)", first(run.Results), first(def.Results))
	}
}

// A deployment that pins the GPU must be evaluated on the GPU or not at all:
// the configuration's provider reaches the detector.
func TestEvaluateUsesTheConfigProvider(t *testing.T) {
	if _, err := os.Stat("/dev/nvidia0"); err == nil {
		t.Skip("a GPU is present: cuda would be available")
	}
	seq, _ := fixtureRun(t)
	cfg := config.Default()
	cfg.Model.Provider = "cuda"
	_, err := Evaluate(context.Background(), seq, RunOptions{Config: cfg, Log: quiet})
	if err == nil || !strings.Contains(err.Error(), "cuda") {
		t.Fatalf("got %v, want the cuda provider error", err)
	}
}
