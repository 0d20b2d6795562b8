package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/storesight/storesight/benchmarks"
	"github.com/storesight/storesight/config"
)

func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: storesight bench [flags]\n\nLatency and throughput of every model next to a bare ONNX Runtime session, tracker speed,\nand each model's accuracy and end-to-end fps on a labelled sample. Writes bench.md,\nbench.json and PNG plots to -out and prints the Markdown.\n\n")
		fs.PrintDefaults()
	}
	modelList := fs.String("models", "", "comma-separated manifest names (default: every model)")
	threadList := fs.String("threads", "1,2", "comma-separated ONNX Runtime thread counts")
	runs := fs.Int("runs", 100, "timed samples per model and thread count, each of Detect and the bare session")
	frames := fs.Int("frames", 20, "distinct vtest.avi frames Detect cycles through")
	seq := fs.String("seq", "testdata/mot/vtest-s01", "labelled sequence for accuracy and end-to-end fps (\"\" skips them)")
	out := fs.String("out", "benchmarks/results", "directory for bench.md, bench.json and the plots")
	modelDir := fs.String("model-dir", "", "directory of the model files (default .deps/models when it exists, else $STORESIGHT_MODEL_DIR or ../shared/models)")
	provider := fs.String("provider", "auto", "execution provider: auto, cpu, cuda or tensorrt")
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{2}
	}
	threads, err := parseInts(*threadList)
	if err != nil {
		return fmt.Errorf("-threads: %w", err)
	}
	var names []string
	for _, n := range strings.Split(*modelList, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if *runs < 1 || *frames < 1 {
		return fmt.Errorf("-runs and -frames must be at least 1")
	}

	// The pipeline's and detectors' own lines (provider chosen, camera
	// started) would bury the progress; warnings still show. Default too,
	// for the parts that log through slog's default.
	log := newLogger(config.Log{Level: "warn"}, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := benchmarks.Run(ctx, benchmarks.Config{
		Models: names, Threads: threads, Runs: *runs, Frames: *frames,
		ModelDir: *modelDir, Provider: *provider, Sequence: *seq,
		Progress: stderr, Log: log,
	})
	if err != nil {
		return err
	}
	if err := rep.Write(*out); err != nil {
		return err
	}
	if err := rep.WriteMarkdown(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: wrote %s, %s and %d plots in %.0f s\n",
		filepath.Join(*out, "bench.md"), filepath.Join(*out, "bench.json"), len(rep.Plots), rep.WallSeconds)
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}
