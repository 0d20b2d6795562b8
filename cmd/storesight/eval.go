package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/storesight/storesight/accuracy"
	"github.com/storesight/storesight/config"
)

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: storesight eval [flags] SEQDIR...

Runs the analysis storesight analyze runs on each labelled sequence
(seqinfo.ini, gt/gt.txt, sequence.yml; see testdata/mot) and prints its
tracking (CLEAR, Identity), detection and counting accuracy. The tracks and
ground truth are written in TrackEval's layout under -out, to check the
numbers with TrackEval.

`)
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", "", "evaluate this configuration's model and tracker sections (thresholds, min_hits, lost_buffer...)")
	model := fs.String("model", "", "model manifest name (default: the configuration's, else yolox_nano_416_coco)")
	threads := fs.Int("threads", 0, "ONNX Runtime threads (default: the configuration default, 2)")
	provider := fs.String("provider", "", "execution provider: auto, cpu, cuda or tensorrt (default auto)")
	out := fs.String("out", filepath.Join("out", "eval"), "directory for the TrackEval layout")
	trackerName := fs.String("tracker", "", "tracker name in the TrackEval layout (default: the model name)")
	jsonPath := fs.String("json", "", "also write every sequence's metrics to this JSON file")
	// Go's flag package stops at the first positional argument; accept
	// sequences between flags too.
	var dirs []string
	for {
		if err := fs.Parse(args); err != nil {
			return exitError{2}
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dirs) == 0 {
		fs.Usage()
		return exitError{2}
	}

	log := newLogger(config.Default().Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Every sequence is checked before the first is analysed: a typo in the
	// last one should not surface after minutes of analysis.
	var seqs []*accuracy.Sequence
	var errs []error
	for _, d := range dirs {
		s, err := accuracy.LoadSequence(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seqs = append(seqs, s)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	opts := accuracy.RunOptions{Model: *model, Threads: *threads, Provider: *provider, Log: log}
	if *cfgPath != "" {
		c, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		opts.Config = c
	}
	var reports []runJSON
	name := *trackerName
	for _, s := range seqs {
		run, err := accuracy.Evaluate(ctx, s, opts)
		if err != nil {
			return err
		}
		if name == "" {
			name = run.Model
		}
		printRun(stdout, run)
		if err := run.WriteTrackEval(*out, name); err != nil {
			return err
		}
		reports = append(reports, newRunJSON(run))
	}
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, reports); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "TrackEval layout written to %s; to check the tracking numbers, from a TrackEval checkout run:\n  %s\n",
		*out, accuracy.TrackEvalCommand(absPath(*out), name))
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

func printRun(w io.Writer, r *accuracy.Run) {
	s := r.Seq
	fmt.Fprintf(w, "\nsequence %s: %d frames of %s from frame %d, model %s (%s), analysed in %.1fs (%.1f frames/s)\n",
		s.Name, r.Frames, s.Video, s.StartFrame, r.Model, r.Provider, r.Elapsed.Seconds(), float64(r.Frames)/r.Elapsed.Seconds())
	t := r.Tracking
	fmt.Fprintf(w, "tracking   MOTA %s  IDF1 %s  MOTP %s  IDSW %d  FP %d  FN %d  (gt boxes %d, gt ids %d, tracker ids %d)\n",
		pct(t.MOTA), pct(t.IDF1), pct(t.MOTP), t.IDSW, t.FP, t.FN, t.GTDets, t.GTIDs, t.TrackerIDs)
	d := r.Detection
	fmt.Fprintf(w, "detection  recall %s  precision %s  AP50 %s  (TP %d FP %d FN %d at score >= %.2f; AP over scores >= %.2f)\n",
		pct(d.Recall), pct(d.Precision), pct(d.AP50), d.TP, d.FP, d.FN, r.ScoreThreshold, accuracy.APScoreFloor)
	c := r.Counting
	fmt.Fprintf(w, "counting   truth %s, tolerance ±%d frames\n", s.CrossingsSource, c.Tolerance)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "line\tdirection\tGT\tpred\tTP\tFP\tFN\tprecision\trecall\tF1\t")
	row := func(l accuracy.CountScore) {
		if l.GT+l.Pred == 0 {
			// Nothing to be right or wrong about: no ratio to show.
			fmt.Fprintf(tw, "%s\t%s\t0\t0\t0\t0\t0\t-\t-\t-\t\n", l.Line, l.Direction)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n",
			l.Line, l.Direction, l.GT, l.Pred, l.TP, l.FP, l.FN, pct(l.Precision), pct(l.Recall), pct(l.F1))
	}
	// Every direction of every line, those nobody crossed included.
	for _, l := range s.Lines {
		for _, dir := range []string{l.Forward, l.Backward} {
			score := accuracy.CountScore{Line: l.Name, Direction: dir}
			for _, p := range c.PerLine {
				if p.Line == l.Name && p.Direction == dir {
					score = p
				}
			}
			row(score)
		}
	}
	row(c.Total)
	tw.Flush()
}

// runJSON is one sequence's result in the -json file.
type runJSON struct {
	Sequence        string                    `json:"sequence"`
	Video           string                    `json:"video"`
	StartFrame      int                       `json:"start_frame"`
	Frames          int                       `json:"frames"`
	Model           string                    `json:"model"`
	Provider        string                    `json:"provider"`
	ScoreThreshold  float64                   `json:"score_threshold"`
	ElapsedSeconds  float64                   `json:"elapsed_seconds"`
	Tracking        accuracy.TrackingMetrics  `json:"tracking"`
	Detection       accuracy.DetectionMetrics `json:"detection"`
	Counting        accuracy.CountingMetrics  `json:"counting"`
	CrossingsSource string                    `json:"crossings_source"`
}

func newRunJSON(r *accuracy.Run) runJSON {
	return runJSON{
		Sequence: r.Seq.Name, Video: r.Seq.Video, StartFrame: r.Seq.StartFrame, Frames: r.Frames,
		Model: r.Model, Provider: r.Provider, ScoreThreshold: r.ScoreThreshold, ElapsedSeconds: r.Elapsed.Seconds(),
		Tracking: r.Tracking, Detection: r.Detection, Counting: r.Counting, CrossingsSource: r.Seq.CrossingsSource,
	}
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("-json %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("-json %s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("-json %s: %w", path, err)
	}
	return nil
}
