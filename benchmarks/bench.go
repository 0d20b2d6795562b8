package benchmarks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/storesight/storesight/accuracy"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
)

// VtestPath is the OpenCV sample clip the latency frames come from.
const VtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// Config says what Run measures. Zero values take the defaults noted.
type Config struct {
	Models   []string // manifest names; empty = every manifest
	Threads  []int    // ONNX Runtime intra-op threads to try; empty = 1, 2
	Runs     int      // timed samples per (model, threads) of each of Detect and bare; 0 = 100
	Warmup   int      // untimed runs of each first; 0 = 5
	Frames   int      // distinct video frames Detect cycles through; 0 = 20
	Video    string   // latency frames; "" = VtestPath
	ModelDir string   // "" = .deps/models when it exists, else models.DefaultDir()
	Provider string   // execution provider (detectors.Options.Provider); "" = auto
	// Sequence is the labelled sample accuracy and end-to-end speed are
	// measured on. "" or a directory that does not exist skips them and
	// the report says so; a sequence that exists but does not load is an
	// error.
	Sequence       string
	TrackerPeople  int // 0 = 50
	TrackerUpdates int // 0 = 3000
	// Progress gets one line per finished step; nil discards them.
	Progress io.Writer
	// Log receives the detectors' and pipeline's own logs; nil discards.
	Log *slog.Logger
}

// installedModels is config.Default().Model.Dir, relative to the repository.
const installedModels = ".deps/models"

func (c Config) withDefaults() Config {
	if len(c.Models) == 0 {
		for _, m := range models.All() {
			c.Models = append(c.Models, m.Name)
		}
	}
	if len(c.Threads) == 0 {
		c.Threads = []int{1, 2}
	}
	c.Runs = orDefault(c.Runs, 100)
	c.Warmup = orDefault(c.Warmup, 5)
	c.Frames = orDefault(c.Frames, 20)
	c.TrackerPeople = orDefault(c.TrackerPeople, 50)
	c.TrackerUpdates = orDefault(c.TrackerUpdates, 3000)
	if c.Video == "" {
		c.Video = VtestPath
	}
	if c.ModelDir == "" {
		// Where `storesight models install` (and make) put the files, else
		// the install source.
		c.ModelDir = models.DefaultDir()
		if _, err := os.Stat(installedModels); err == nil {
			c.ModelDir = installedModels
		}
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Run measures every model at every thread count, the tracker, and (when
// the sequence is there) each model's accuracy and end-to-end speed. It
// writes nothing; Report.Write does.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	start := time.Now()
	ms, err := pickModels(cfg.Models, cfg.ModelDir)
	if err != nil {
		return nil, err
	}
	for _, t := range cfg.Threads {
		if t < 1 {
			return nil, fmt.Errorf("threads %d: must be at least 1", t)
		}
	}
	if err := detectors.InitRuntime(""); err != nil {
		return nil, err
	}
	r := &Report{
		Version: 1, Started: start, Machine: machine(),
		Settings: Settings{
			Models: cfg.Models, Threads: cfg.Threads, Runs: cfg.Runs, Warmup: cfg.Warmup, BlockRuns: blockRuns, Frames: cfg.Frames,
			Video: cfg.Video, Provider: cfg.Provider, Sequence: cfg.Sequence, AccuracyThreads: slices.Max(cfg.Threads),
			TrackerPeople: cfg.TrackerPeople, TrackerUpdates: cfg.TrackerUpdates,
		},
		Latency: []Latency{}, Accuracy: []Accuracy{}, Plots: []string{},
	}
	progress := func(format string, args ...any) {
		fmt.Fprintf(cfg.Progress, "bench: "+format+"\n", args...)
	}

	// Inputs first: a bad sequence or video fails before minutes of timing.
	seq, note, err := openSequence(cfg.Sequence)
	if err != nil {
		return nil, err
	}
	r.AccuracyNote = note
	// Every 40th frame: 20 of them span the clip's 795, from a near-empty
	// plaza to the crowded middle.
	frames, err := loadFrames(cfg.Video, cfg.Frames, 40)
	if err != nil {
		return nil, err
	}
	defer closeFrames(frames)
	// A short video gives fewer than asked for; report what was used.
	r.Settings.Frames = len(frames)

	if r.Tracker, err = measureTracker(ctx, cfg.TrackerPeople, cfg.TrackerUpdates); err != nil {
		return nil, err
	}
	progress("tracker, %d people: %.1f µs/update", r.Tracker.People, r.Tracker.MicrosPerUpdate)

	r.InputSizesFixed = true
	for _, m := range ms {
		fixed, err := fixedInput(m, filepath.Join(cfg.ModelDir, m.File))
		if err != nil {
			return nil, err
		}
		r.InputSizesFixed = r.InputSizesFixed && fixed
		for _, t := range cfg.Threads {
			l, err := measureLatency(ctx, m, latencyRun{
				path: filepath.Join(cfg.ModelDir, m.File), threads: t, provider: cfg.Provider,
				frames: frames, runs: cfg.Runs, warmup: cfg.Warmup, log: cfg.Log,
			})
			if err != nil {
				return nil, err
			}
			r.Latency = append(r.Latency, l)
			progress("%s threads=%d: detect p50 %.2f ms p99 %.2f ms, bare p50 %.2f ms, overhead %.3f",
				m.Name, t, l.P50Ms, l.P99Ms, l.BareP50Ms, l.Overhead)
		}
	}

	if seq != nil {
		for _, m := range ms {
			a, err := measureAccuracy(ctx, seq, m, cfg.ModelDir, r.Settings.AccuracyThreads, cfg.Provider, cfg.Log)
			if err != nil {
				return nil, err
			}
			r.Accuracy = append(r.Accuracy, a)
			progress("%s on %s: AP50 %.3f, MOTA %.3f, IDF1 %.3f, count F1 %.3f, %.1f fps end to end",
				m.Name, seq.Name, a.AP50, a.MOTA, a.IDF1, a.CountF1, a.FPS)
		}
	}
	r.Machine.LoadEnd = loadAvg()
	r.WallSeconds = time.Since(start).Seconds()
	return r, nil
}

// pickModels resolves names to manifests and checks every file is there
// before anything is timed, so a missing one fails in a second rather
// than minutes in.
func pickModels(names []string, dir string) ([]models.Manifest, error) {
	var ms []models.Manifest
	var errs []error
	for _, n := range names {
		m, err := models.Lookup(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, m.File)); err != nil {
			errs = append(errs, fmt.Errorf("model %s: %w (run `storesight models install` or pass -model-dir)", n, err))
			continue
		}
		ms = append(ms, m)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ms, nil
}

// fixedInput reports whether the export fixes the image input's spatial
// size. detectors.NewONNX refuses any other, so a model with dynamic
// sides cannot be benchmarked at all; the check is here so the report's
// claim that sizes are fixed is measured, not assumed.
func fixedInput(m models.Manifest, path string) (bool, error) {
	ins, _, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return false, fmt.Errorf("model %s: read %s: %w", m.Name, path, err)
	}
	if len(ins) == 0 || len(ins[0].Dimensions) != 4 {
		return false, fmt.Errorf("model %s: %s: first input is not an image [N,3,H,W]", m.Name, path)
	}
	d := ins[0].Dimensions
	return d[2] > 0 && d[3] > 0, nil
}

// openSequence loads the labelled sample, or says why accuracy is skipped.
func openSequence(dir string) (*accuracy.Sequence, string, error) {
	if dir == "" {
		return nil, "no labelled sequence was given.", nil
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("the labelled sequence %s does not exist.", dir), nil
	}
	seq, err := accuracy.LoadSequence(dir)
	if err != nil {
		return nil, "", err
	}
	return seq, "", nil
}

// machine describes this computer for the report.
func machine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		GoVersion: runtime.Version(), ORTVersion: ort.GetVersion(), LoadStart: loadAvg()}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			m.CPU = strings.TrimSpace(v)
			break
		}
	}
	return m
}

// loadAvg is the 1-minute load average, or -1 where /proc/loadavg is not.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(b) + " x")[0], 64)
	if err != nil {
		return -1
	}
	return f
}
