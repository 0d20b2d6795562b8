package benchmarks

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
)

// Latency is one (model, threads) row: a full Detect on real frames next
// to a bare ONNX Runtime session on the same file, sampled in alternating
// blocks so both see the same load on a shared CPU. Times are milliseconds.
type Latency struct {
	Model      string  `json:"model"`
	Family     string  `json:"family"`
	Input      int     `json:"input"`    // square input side in pixels, fixed by the export
	Threads    int     `json:"threads"`  // ONNX Runtime intra-op threads
	Provider   string  `json:"provider"` // execution provider the detector used
	Samples    int     `json:"samples"`  // timed runs of each of Detect and the bare session
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MeanMs     float64 `json:"mean_ms"`
	FPS        float64 `json:"fps"` // 1000 / MeanMs: one detector, frames one after another
	BareP50Ms  float64 `json:"bare_p50_ms"`
	BareP99Ms  float64 `json:"bare_p99_ms"`
	BareMeanMs float64 `json:"bare_mean_ms"`
	Overhead   float64 `json:"overhead"` // P50Ms / BareP50Ms
}

// blockRuns is how many timed runs of one session follow each other before
// the other session takes over (see measureLatency).
const blockRuns = 10

// latencyRun is what measureLatency needs besides the model.
type latencyRun struct {
	path     string
	threads  int
	provider string // requested; the bare session follows what the detector got
	frames   []gocv.Mat
	runs     int
	warmup   int
	log      *slog.Logger
}

// measureLatency opens the detector and the bare session, warms both up,
// then takes r.runs samples of each. Detect cycles through the frames so
// the decode and NMS cost follows real scenes rather than one.
//
// The two alternate in blocks of blockRuns, not run by run: each session
// has its own ONNX Runtime thread pool, whose threads spin for a while
// after a run, and with 2 threads on 2 cores that spinning takes the cores
// from the other session's next run. Run-by-run alternation measured
// YOLOX-Nano at 21.4 ms (Detect) and 20.8 ms (bare) where blocks measured
// 14.3 and 11.9, the figures a lone session gets. The first run of each
// block absorbs the hand-over and is not timed; which goes first alternates
// per block pair, so both see the same machine over the measurement.
func measureLatency(ctx context.Context, m models.Manifest, r latencyRun) (Latency, error) {
	opts, err := productionOptions(m, r.threads, r.provider, r.log)
	if err != nil {
		return Latency{}, err
	}
	det, err := detectors.NewONNX(m, r.path, opts)
	if err != nil {
		return Latency{}, fmt.Errorf("open %s: %w", m.Name, err)
	}
	defer det.Close()
	bare, err := OpenBare(m, r.path, r.threads, det.Provider())
	if err != nil {
		return Latency{}, err
	}
	defer bare.Close()

	next := 0 // the frame Detect takes next
	detect := func() (time.Duration, error) {
		img := r.frames[next%len(r.frames)]
		next++
		t0 := time.Now()
		if _, err := det.Detect(img); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
	run := func() (time.Duration, error) {
		t0 := time.Now()
		if err := bare.Run(); err != nil {
			return 0, fmt.Errorf("model %s: %w", m.Name, err)
		}
		return time.Since(t0), nil
	}
	// block does one untimed run then n timed ones.
	block := func(f func() (time.Duration, error), n int, into *[]time.Duration) error {
		for i := 0; i <= n; i++ {
			d, err := f()
			if err != nil {
				return err
			}
			if i > 0 {
				*into = append(*into, d)
			}
		}
		return nil
	}
	// block's own untimed run is one of the warm-up runs.
	var warm []time.Duration
	if err := block(detect, max(r.warmup-1, 0), &warm); err != nil {
		return Latency{}, err
	}
	if err := block(run, max(r.warmup-1, 0), &warm); err != nil {
		return Latency{}, err
	}
	full := make([]time.Duration, 0, r.runs)
	plain := make([]time.Duration, 0, r.runs)
	for k := 0; len(full) < r.runs; k++ {
		if err := ctx.Err(); err != nil {
			return Latency{}, err
		}
		n := min(blockRuns, r.runs-len(full))
		var err error
		if k%2 == 0 {
			if err = block(detect, n, &full); err == nil {
				err = block(run, n, &plain)
			}
		} else {
			if err = block(run, n, &plain); err == nil {
				err = block(detect, n, &full)
			}
		}
		if err != nil {
			return Latency{}, err
		}
	}
	l := Latency{
		Model: m.Name, Family: string(m.Family), Input: det.InputSize(), Threads: r.threads,
		Provider: det.Provider(), Samples: r.runs,
		P50Ms: millis(percentile(full, 50)), P99Ms: millis(percentile(full, 99)), MeanMs: millis(mean(full)),
		BareP50Ms: millis(percentile(plain, 50)), BareP99Ms: millis(percentile(plain, 99)), BareMeanMs: millis(mean(plain)),
	}
	if l.MeanMs > 0 {
		l.FPS = 1000 / l.MeanMs
	}
	if l.BareP50Ms > 0 {
		l.Overhead = l.P50Ms / l.BareP50Ms
	}
	return l, nil
}

// percentile is the nearest-rank percentile: the smallest sample with at
// least p% of the samples at or below it. With 60 samples p99 is the
// slowest one, which is what a latency budget must survive.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadFrames decodes n frames of the video, step frames apart from the
// first, so latency samples see scenes with few and many people.
func loadFrames(path string, n, step int) ([]gocv.Mat, error) {
	// OpenCV's own message for a missing file is a page of backend noise.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		return nil, fmt.Errorf("open video %s: %w", path, err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	var out []gocv.Mat
	for i := 0; len(out) < n; i++ {
		if !vc.Read(&img) || img.Empty() {
			if len(out) == 0 {
				closeFrames(out)
				return nil, fmt.Errorf("video %s: no frame could be decoded", path)
			}
			break // a short video: cycle through what it has
		}
		if i%step == 0 {
			out = append(out, img.Clone())
		}
	}
	return out, nil
}

func closeFrames(fs []gocv.Mat) {
	for _, f := range fs {
		f.Close()
	}
}

// productionOptions are the detector options `storesight run` would use
// with the default configuration (score and NMS thresholds, person class
// only): decode and NMS cost depend on them, so the latency is the one a
// deployment sees.
func productionOptions(m models.Manifest, threads int, provider string, log *slog.Logger) (detectors.Options, error) {
	def := config.Default().Model
	opts := detectors.Options{
		Threads: threads, Provider: provider, Log: log,
		ScoreThreshold: float32(def.ScoreThreshold), NMSThreshold: float32(def.NMSThreshold),
	}
	cs, err := m.ClassIndices(def.Classes)
	opts.Classes = cs
	return opts, err
}
