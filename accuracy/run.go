package accuracy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
	"github.com/storesight/storesight/video"
)

// APScoreFloor is the score down to which the detector reports boxes for
// the detection metrics (AP50 needs the low-score end of the
// precision-recall curve). The tracker still gets only the boxes at or
// above the production threshold.
const APScoreFloor = 0.05

// RunOptions choose the model and tracker settings of an evaluation. Zero
// values are what `storesight analyze` uses without a configuration file
// (config.Default()).
type RunOptions struct {
	Model string // manifest name; "" = the default model
	// ModelDir is where the model file is; "" = model.dir of the
	// configuration (.deps/models, where run and analyze install models)
	// when the file is there, else models.DefaultDir().
	ModelDir string
	Threads  int    // ONNX Runtime threads; 0 = the configuration default
	Provider string // execution provider; "" = auto (detectors.Options.Provider)
	// ScoreThreshold is the production detection threshold; 0 = the
	// configuration default (model.score_threshold), which is the model's
	// manifest value unless a configuration sets one.
	ScoreThreshold float64
	Tracker        *tracker.Config // nil = the configuration's tracker section
	// Config is the deployment configuration whose model and tracker
	// sections are evaluated; nil = config.Default(). The fields above
	// override it when set. Cameras, Kafka and the rest are not used.
	Config *config.Config
	Log    *slog.Logger
}

// Run is one evaluation of a model on a sequence.
type Run struct {
	Seq   *Sequence
	Model string
	// Provider is the execution provider the detector ran on.
	Provider string
	// ScoreThreshold is the production threshold the tracker's input was
	// cut at.
	ScoreThreshold float64
	// Results are the confirmed tracks as `analyze -tracks` writes them
	// (pipeline.MOTWriter), frames 1-based in the sequence.
	Results []Row
	// Crossings are the pipeline's counted crossings, frames 1-based in
	// the sequence.
	Crossings []Event
	Tracking  TrackingMetrics
	Counting  CountingMetrics
	// Detection scores the raw person detections of every frame, down to
	// APScoreFloor, against the gt boxes: AP50 covers the whole curve, and
	// TP/FP/FN/Recall/Precision are at ScoreThreshold, the boxes the
	// tracker saw.
	Detection DetectionMetrics
	Frames    int
	// Elapsed is the wall time of the analysis (decode, detect, track,
	// count) of the sequence's frames; model loading and decoding up to
	// start_frame are not in it.
	Elapsed time.Duration
}

// Evaluate analyses the sequence's frames with the production pipeline (the
// pipeline.Camera, tracker and counter `storesight analyze` builds, offline:
// every frame, nothing dropped) and scores tracks, counts and detections
// against the ground truth.
func Evaluate(ctx context.Context, seq *Sequence, opts RunOptions) (*Run, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	cfg := config.Default()
	if opts.Config != nil {
		c := *opts.Config
		cfg = &c
	}
	if opts.Model != "" {
		cfg.Model.Name = opts.Model
	}
	if opts.Threads > 0 {
		cfg.Model.Threads = opts.Threads
	}
	if opts.ScoreThreshold > 0 {
		cfg.Model.ScoreThreshold = opts.ScoreThreshold
	}
	det, m, err := openDetector(cfg, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pipeline.NewDetectorPool(det)
	if err != nil {
		det.Close()
		return nil, err
	}
	defer pool.Close()
	run := &Run{Seq: seq, Model: m.Name, Provider: det.d.Provider(), ScoreThreshold: float64(det.threshold)}
	// float32 0.3 reads 0.30000001192092896 as a float64.
	run.ScoreThreshold = math.Round(run.ScoreThreshold*1e6) / 1e6

	cam, err := newCamera(ctx, seq, cfg, opts.Tracker, m.ClassIndex("person"))
	if err != nil {
		return nil, err
	}
	var tracks bytes.Buffer
	mot := pipeline.NewMOTWriter(&tracks, cam.ID)
	col := newCollector(seq, det, m.ClassIndex("person"))
	p := &pipeline.Pipeline{Cameras: []*pipeline.Camera{cam}, Pool: pool, Output: pipeline.Outputs{mot, col}, Log: log}
	start := time.Now()
	err = p.Run(ctx)
	run.Elapsed = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("sequence %s: %w", seq.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sequence %s: %w", seq.Name, err)
	}
	st := cam.Stats.Snapshot()
	if col.err != nil {
		return nil, fmt.Errorf("sequence %s: %w", seq.Name, col.err)
	}
	// The pipeline logs and skips a frame whose detection failed; a
	// score over fewer frames than the gt would be wrong, not lower.
	if st.Errors > 0 || st.Analysed != int64(seq.Info.SeqLength) {
		return nil, fmt.Errorf("sequence %s: analysed %d of %d frames (%d failed, %d dropped)",
			seq.Name, st.Analysed, seq.Info.SeqLength, st.Errors, st.Dropped)
	}
	run.Frames = int(st.Analysed)
	if err := mot.Flush(); err != nil {
		return nil, err
	}
	if run.Results, err = ParseMOT(&tracks, seq.Name+" tracks", Results); err != nil {
		return nil, err
	}
	run.Crossings = col.crossings
	if run.Tracking, err = EvaluateTracking(seq.GT, run.Results, seq.Info.SeqLength); err != nil {
		return nil, fmt.Errorf("sequence %s: %w", seq.Name, err)
	}
	run.Counting = EvaluateCounting(seq.Crossings, run.Crossings, seq.Tolerance)
	run.Detection = col.metrics()
	return run, nil
}

// openDetector opens the model as app.openDetectors does for `analyze`
// (same classes, thresholds, threads, provider; one frame per run, so
// model.max_batch does not apply), except that it reports boxes
// down to APScoreFloor, recorded for the detection metrics and cut at the
// production threshold before the pipeline sees them. The model file must
// be installed already: an evaluation should not download.
func openDetector(cfg *config.Config, opts RunOptions) (*recordingDetector, models.Manifest, error) {
	m, err := models.Lookup(cfg.Model.Name)
	if err != nil {
		return nil, m, fmt.Errorf("model %q: %w", cfg.Model.Name, err)
	}
	path := filepath.Join(opts.ModelDir, m.File)
	if opts.ModelDir == "" {
		path = filepath.Join(cfg.Model.Dir, m.File)
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(models.DefaultDir(), m.File)
		}
	}
	if err := models.Verify(m, path); err != nil {
		return nil, m, fmt.Errorf("%w (run `storesight models install`)", err)
	}
	if m.ClassIndex("person") < 0 {
		return nil, m, fmt.Errorf("model %s has no person class", m.Name)
	}
	classes, err := m.ClassIndices(cfg.Model.Classes)
	if err != nil {
		return nil, m, err
	}
	// What detectors.Options.ScoreThreshold would resolve to.
	threshold := float32(cfg.Model.ScoreThreshold)
	if threshold <= 0 {
		threshold = m.ScoreThreshold
	}
	if threshold <= 0 || threshold > 1 {
		return nil, m, fmt.Errorf("model %s: score threshold %v is not in (0,1]", m.Name, threshold)
	}
	if err := detectors.InitRuntime(""); err != nil {
		return nil, m, err
	}
	provider := opts.Provider
	if provider == "" {
		provider = cfg.Model.Provider
	}
	d, err := detectors.NewONNX(m, path, detectors.Options{
		Threads:        cfg.Model.Threads,
		ScoreThreshold: min(threshold, APScoreFloor),
		NMSThreshold:   float32(cfg.Model.NMSThreshold),
		Classes:        classes,
		MaxBatch:       cfg.Model.MaxBatch,
		Provider:       provider,
		DeviceID:       cfg.Model.DeviceID,
		Log:            opts.Log,
	})
	if err != nil {
		return nil, m, fmt.Errorf("model %s: %w", m.Name, err)
	}
	return &recordingDetector{d: d, threshold: threshold, all: map[unsafe.Pointer][]detectors.Detection{}}, m, nil
}

// recordingDetector keeps every box the model found for the detection
// metrics and hands the pipeline only those at or above the production
// threshold. That is exactly what the detector alone returns at that
// threshold: every family keeps a box iff score >= threshold, and greedy
// NMS, taking boxes in descending score order, decides each box from
// higher-scored ones only, so the added low-score boxes change nothing
// above the threshold, not even the order (TestRecordingDetectorMatchesProduction).
type recordingDetector struct {
	d         *detectors.ONNXDetector
	threshold float32
	mu        sync.Mutex
	// all holds each frame's boxes until its result arrives, by the
	// frame's pixels: the pipeline lends the same Mat to the detector and
	// then to the outputs, and a Mat is reused only after its frame is
	// released.
	all map[unsafe.Pointer][]detectors.Detection
}

func (r *recordingDetector) Detect(img gocv.Mat) ([]detectors.Detection, error) {
	all, err := r.d.Detect(img)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.all[unsafe.Pointer(img.Ptr())] = all
	r.mu.Unlock()
	var kept []detectors.Detection
	for _, d := range all {
		if d.Score >= r.threshold {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

// take returns and forgets the boxes found in img.
func (r *recordingDetector) take(img gocv.Mat) ([]detectors.Detection, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := unsafe.Pointer(img.Ptr())
	all, ok := r.all[k]
	delete(r.all, k)
	return all, ok
}

func (r *recordingDetector) Close() error { return r.d.Close() }

// newCamera builds the analysis chain as app.openCamera does for a file in
// `storesight analyze` (offline, every frame, no motion gating, persons
// counted), over the sequence's frames only.
func newCamera(ctx context.Context, seq *Sequence, cfg *config.Config, tc *tracker.Config, person int) (*pipeline.Camera, error) {
	t := tracker.Config{
		HighThresh:     cfg.Tracker.HighThreshold,
		LowThresh:      cfg.Tracker.LowThreshold,
		NewTrackThresh: cfg.Tracker.NewTrackThreshold,
		MatchThresh:    cfg.Tracker.MatchThreshold,
		MinHits:        cfg.Tracker.MinHits,
		LostBuffer:     cfg.Tracker.LostBuffer,
	}
	if tc != nil {
		t = *tc
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	counter, err := counting.NewCounter(seq.Lines, nil)
	if err != nil {
		return nil, fmt.Errorf("sequence %s: %w", seq.Name, err)
	}
	agg, err := counting.NewAggregator(seq.Lines, nil, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("sequence %s: %w", seq.Name, err)
	}
	camCfg := config.DefaultCamera()
	src, err := openSegment(ctx, seq)
	if err != nil {
		return nil, err
	}
	return &pipeline.Camera{
		ID:         "eval-" + seq.Name,
		Source:     src,
		FPS:        0,
		Queue:      camCfg.Queue,
		DropOldest: false,
		Tracker:    tracker.New(t),
		Counter:    counter,
		Aggregator: agg,
		Counted:    func(tr tracker.Track) bool { return tr.Class == person },
	}, nil
}

// frameTruth is one frame's gt for the detection metrics.
type frameTruth struct{ boxes, ignore []geom.Box }

// collector is the evaluation's pipeline output: crossings and the
// detection metrics, frame by frame.
type collector struct {
	det    *recordingDetector
	person int
	truth  map[int]frameTruth // by 1-based frame
	// all scores every box down to APScoreFloor (for AP50), tracked the
	// boxes the tracker got (for TP/FP/FN at the production threshold).
	all, tracked DetectionScore
	crossings    []Event
	err          error
}

func newCollector(seq *Sequence, det *recordingDetector, person int) *collector {
	c := &collector{det: det, person: person, truth: map[int]frameTruth{}}
	for _, r := range seq.GT {
		ft := c.truth[r.Frame]
		switch {
		case r.Class == pedestrianClass && r.Conf > 0:
			ft.boxes = append(ft.boxes, r.Box)
		// Boxes TrackEval would not score either way: a detector finding
		// them is neither right nor wrong.
		case r.Conf == 0 || distractorClasses[r.Class]:
			ft.ignore = append(ft.ignore, r.Box)
		}
		c.truth[r.Frame] = ft
	}
	return c
}

// Result is called from the camera's worker goroutine only, in frame
// order.
func (c *collector) Result(r *pipeline.Result) {
	for _, x := range r.Crossings {
		c.crossings = append(c.crossings, Event{Line: x.Line, Direction: x.Direction, Frame: int(x.Frame) + 1, TrackID: int(x.TrackID)})
	}
	if r.Final {
		return
	}
	all, ok := c.det.take(r.Image)
	if !ok {
		c.err = errors.Join(c.err, fmt.Errorf("frame %d: no recorded detections", r.Frame+1))
		return
	}
	var dets, kept []Scored
	for _, d := range all {
		if d.Class != c.person {
			continue
		}
		s := Scored{Box: d.Box, Score: float64(d.Score)}
		dets = append(dets, s)
		if d.Score >= c.det.threshold {
			kept = append(kept, s)
		}
	}
	ft := c.truth[int(r.Frame)+1]
	c.all.Add(ft.boxes, ft.ignore, dets)
	c.tracked.Add(ft.boxes, ft.ignore, kept)
}

// metrics are the counts at the production threshold with the AP over
// every score.
func (c *collector) metrics() DetectionMetrics {
	m := c.tracked.Metrics()
	m.AP50 = c.all.Metrics().AP50
	return m
}

// segmentSource plays decode frames [start, start+n) of a file, numbered
// from 0, with stream time from the segment's first frame, so every frame
// number downstream is the sequence's.
type segmentSource struct {
	src      video.Source
	path     string
	start, n int64
	next     int64
	t0       time.Duration
}

// openSegment opens the sequence's video and decodes up to start_frame
// (decoding, not seeking: seeks in inter-coded files can land on another
// frame than asked).
func openSegment(ctx context.Context, seq *Sequence) (*segmentSource, error) {
	src, err := video.OpenFile(video.Spec{Camera: seq.Name, URL: seq.Video})
	if err != nil {
		return nil, err
	}
	s := &segmentSource{src: src, path: seq.Video, start: int64(seq.StartFrame), n: int64(seq.Info.SeqLength)}
	for i := int64(0); i < s.start; i++ {
		f, err := src.Next(ctx)
		if err != nil {
			src.Close()
			if errors.Is(err, video.ErrEndOfStream) {
				return nil, fmt.Errorf("%s: ended after %d frames, before start_frame %d", seq.Video, i, s.start)
			}
			return nil, err
		}
		f.Release()
	}
	return s, nil
}

func (s *segmentSource) Info() video.Info {
	i := s.src.Info()
	i.Frames = s.n
	return i
}

func (s *segmentSource) Next(ctx context.Context) (video.Frame, error) {
	if s.next >= s.n {
		return video.Frame{}, video.ErrEndOfStream
	}
	f, err := s.src.Next(ctx)
	if errors.Is(err, video.ErrEndOfStream) {
		return f, fmt.Errorf("%s: ended at frame %d of the sequence's %d (start_frame %d)", s.path, s.next, s.n, s.start)
	}
	if err != nil {
		return f, err
	}
	if s.next == 0 {
		s.t0 = f.StreamTime
	}
	f.Seq = s.next
	f.StreamTime -= s.t0
	f.Time = f.Time.Add(-s.t0)
	s.next++
	return f, nil
}

func (s *segmentSource) Close() error { return s.src.Close() }
