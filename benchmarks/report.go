package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/storesight/storesight/accuracy"
)

// Report is everything one `storesight bench` run measured; bench.json is
// this struct. Field names are stable: add fields, never rename them.
// Times are milliseconds (suffix _ms), rates per second (fps, _per_s),
// accuracy metrics fractions in [0,1] (MOTA may be negative).
type Report struct {
	Version     int       `json:"version"` // 1
	Started     time.Time `json:"started"`
	WallSeconds float64   `json:"wall_seconds"` // the whole run, model loading included
	Machine     Machine   `json:"machine"`
	Settings    Settings  `json:"settings"`
	Latency     []Latency `json:"latency"` // one row per (model, threads), in the order measured
	// InputSizesFixed is true when every model's export fixes its input
	// side, so the size axis is the models themselves (NanoDet 320/416,
	// DEIMv2 atto 320/femto 416) rather than a sweep.
	InputSizesFixed bool         `json:"input_sizes_fixed"`
	Tracker         TrackerSpeed `json:"tracker"`
	// Accuracy has one row per model when the labelled sequence was found;
	// otherwise it is empty and AccuracyNote says why.
	Accuracy     []Accuracy `json:"accuracy"`
	AccuracyNote string     `json:"accuracy_note,omitempty"`
	Plots        []string   `json:"plots"` // PNG file names next to bench.json
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPU        string `json:"cpu"` // model name from /proc/cpuinfo
	Cores      int    `json:"cores"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GoVersion  string `json:"go_version"`
	ORTVersion string `json:"ort_version"`
	// LoadStart and LoadEnd are the 1-minute load averages when the run
	// began and ended: above 0 before it starts, something else competes
	// for the CPU and absolute times are inflated.
	LoadStart float64 `json:"load_avg_start"`
	LoadEnd   float64 `json:"load_avg_end"`
}

// Settings are the knobs of the run, defaults filled in.
type Settings struct {
	Models          []string `json:"models"`
	Threads         []int    `json:"threads"`
	Runs            int      `json:"runs"`       // timed samples per (model, threads), each of Detect and bare
	Warmup          int      `json:"warmup"`     // untimed runs of each before sampling
	BlockRuns       int      `json:"block_runs"` // timed runs of one session before the other takes over
	Frames          int      `json:"frames"`     // distinct video frames Detect cycles through
	Video           string   `json:"video"`
	Provider        string   `json:"provider_requested"`
	Sequence        string   `json:"sequence"`         // labelled sample directory for accuracy
	AccuracyThreads int      `json:"accuracy_threads"` // threads of the accuracy and end-to-end runs
	TrackerPeople   int      `json:"tracker_people"`
	TrackerUpdates  int      `json:"tracker_updates"`
}

// Accuracy is one model on the labelled sequence through the real
// pipeline; FPS is the same run's end-to-end analysed frames per second.
type Accuracy struct {
	Model        string  `json:"model"`
	Family       string  `json:"family"`
	Threads      int     `json:"threads"`
	Provider     string  `json:"provider"`
	Threshold    float64 `json:"score_threshold"` // production threshold: what the tracker saw and det recall/precision are at
	Frames       int     `json:"frames"`
	Seconds      float64 `json:"seconds"` // decode + detect + track + count, model loading excluded
	FPS          float64 `json:"e2e_fps"` // Frames / Seconds
	DetRecall    float64 `json:"det_recall"`
	DetPrecision float64 `json:"det_precision"`
	AP50         float64 `json:"ap50"`
	MOTA         float64 `json:"mota"`
	IDF1         float64 `json:"idf1"`
	IDSW         int     `json:"id_switches"`
	CountF1      float64 `json:"count_f1"` // all lines and directions together
	CountGT      int     `json:"count_gt"`
	CountPred    int     `json:"count_pred"`
}

// Write saves the plots, bench.json and bench.md into dir (created if
// missing) and sets r.Plots to the plot files written.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := r.writePlots(dir); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench report: encode JSON: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}

// ReadReport loads a bench.json.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bench report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// WriteMarkdown writes the human report: machine, the latency table, the
// accuracy table, the tracker line, plots and how it was measured.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	p("# storesight bench\n\n")
	p("Run %s, %s wall time. %s, %d cores, %s/%s, ONNX Runtime %s, providers used: %s. %s. Load average %.2f at the start, %.2f at the end.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), time.Duration(r.WallSeconds*float64(time.Second)).Round(time.Second).String(),
		m.CPU, m.Cores, m.OS, m.Arch, m.ORTVersion, strings.Join(r.providers(), ", "), m.GoVersion, m.LoadStart, m.LoadEnd)

	p("## Latency\n\n")
	p("Per model and ONNX Runtime thread count: a full `Detect` (letterbox, tensor fill, inference, decode, NMS) on real vtest.avi frames, and a bare ONNX Runtime session on the same file with the same threads and a pre-filled input, %d samples each, taken in alternating blocks. Detect uses the default configuration's settings: each model's own score and NMS thresholds from its manifest, person class. Times in ms; fps = 1000 / mean Detect time (one detector, one frame at a time); overhead = Detect p50 / bare p50.\n\n", r.Settings.Runs)
	p("| model | family | input | threads | provider | p50 | p99 | fps | bare p50 | bare p99 | overhead |\n")
	p("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range r.Latency {
		p("| %s | %s | %dx%d | %d | %s | %.2f | %.2f | %.1f | %.2f | %.2f | %.3f |\n",
			l.Model, l.Family, l.Input, l.Input, l.Threads, l.Provider, l.P50Ms, l.P99Ms, l.FPS, l.BareP50Ms, l.BareP99Ms, l.Overhead)
	}
	p("\n")

	p("## Accuracy and end-to-end speed\n\n")
	if len(r.Accuracy) == 0 {
		p("Accuracy and end-to-end speed were not measured: %s\n\n", r.AccuracyNote)
	} else {
		p("Each model runs the real pipeline (decode, detector, tracker, counting lines; what `storesight analyze` does) over the labelled sample `%s` with %d threads. Detection recall/precision are at the model's default score threshold, AP50 over all scores (IoU 0.5); MOTA, IDF1 and ID switches as TrackEval computes them; count F1 matches crossings per line and direction within the sequence's frame tolerance. e2e fps is that same run's analysed frames per second (model loading excluded).\n\n",
			r.Settings.Sequence, r.Settings.AccuracyThreads)
		if r.AccuracyNote != "" {
			p("%s\n\n", r.AccuracyNote)
		}
		p("| model | frames | det recall | det precision | AP50 | MOTA | IDF1 | ID sw | count F1 (gt/pred) | e2e fps |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, a := range r.Accuracy {
			p("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %.3f (%d/%d) | %.1f |\n",
				a.Model, a.Frames, a.DetRecall, a.DetPrecision, a.AP50, a.MOTA, a.IDF1, a.IDSW, a.CountF1, a.CountGT, a.CountPred, a.FPS)
		}
		p("\n")
	}

	t := r.Tracker
	p("## Tracker\n\n")
	p("`tracker.Update` (default config) with %d simulated people walking in view: %.1f µs per update, %.0f updates/s, %.1f confirmed tracks reported per update (%d updates).\n\n",
		t.People, t.MicrosPerUpdate, t.UpdatesPerSec, t.TracksPerFrame, t.Updates)

	if len(r.Plots) > 0 {
		p("## Plots\n\n")
		for _, f := range r.Plots {
			p("![%s](%s)\n", strings.TrimSuffix(f, ".png"), f)
		}
		p("\n")
	}

	p("## Method\n\n")
	if r.InputSizesFixed {
		p("- Input size: every model's export fixes its input side (storesight's detectors require [N,3,S,S] with a fixed S), so sizes are not swept; the two NanoDet (320, 416) and DEIMv2 (atto 320, femto 416) variants are the size axis.\n")
	}
	p("- Latency samples: %d untimed warm-up runs of each, then blocks of %d timed runs of one and then the other (which goes first alternates per pair of blocks), the first run of every block untimed; Detect cycles through %d frames of %s spread over the video. Percentiles are nearest-rank, so with %d samples p99 is the %s sample.\n",
		r.Settings.Warmup, r.Settings.BlockRuns, r.Settings.Frames, r.Settings.Video, r.Settings.Runs, nth(r.Settings.Runs))
	p("- Why blocks: each session has its own ONNX Runtime thread pool, which spins for a while after a run; alternating run by run, that spinning took the cores from the other session and measured 2-thread runs ~50%% slower than a lone session does (YOLOX-Nano 21.4 ms against 14.3 ms).\n")
	p("- The bare session fills its image input once with random pixels normalised as the model's manifest says (all zeros would run on denormals and flatter the detector); outputs the export fixes are preallocated, as the detector does.\n")
	p("- End-to-end fps comes from the accuracy run, not a separate one: it is decode + detect + track + count over the sample's frames, so speed and accuracy describe the same run. That run's detector keeps boxes down to score %.2f for AP50 (the tracker still sees only those above the production threshold), so its decode and NMS do slightly more work than production's: the fps is a small underestimate.\n", accuracy.APScoreFloor)
	p("- Overhead is a ratio of two numbers taken in the same alternating blocks, so it holds on a loaded machine; the absolute times do not. On a shared CPU, compare rows of one report, not reports.\n")
	p("- `bench.json` carries the same data; its field names are documented on `benchmarks.Report`.\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("bench report: write Markdown: %w", err)
	}
	return nil
}

// providers lists the execution providers the latency rows used.
func (r *Report) providers() []string {
	var ps []string
	for _, l := range r.Latency {
		if !slices.Contains(ps, l.Provider) {
			ps = append(ps, l.Provider)
		}
	}
	if len(ps) == 0 {
		return []string{"none"}
	}
	return ps
}

// nth says which sample nearest-rank p99 picks out of n, in words.
func nth(n int) string {
	k := n - (99*n+99)/100 // samples above p99: n - ceil(0.99 n)
	switch k {
	case 0:
		return "slowest"
	case 1:
		return "second slowest"
	default:
		n := k + 1
		suffix := "th"
		if n%100 < 11 || n%100 > 13 {
			suffix = map[int]string{1: "st", 2: "nd", 3: "rd"}[n%10]
			if suffix == "" {
				suffix = "th"
			}
		}
		return fmt.Sprintf("%d%s slowest", n, suffix)
	}
}
