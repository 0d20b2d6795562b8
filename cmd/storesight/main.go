// Command storesight turns shop cameras into people counts on Kafka.
//
//	storesight run -config storesight.yml      long-running, from the config
//	storesight analyze VIDEO [flags]           offline, as fast as possible
//	storesight models list|info|verify|install model manifests and files
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const usage = `storesight turns shop cameras into people counts and events.

Usage:
  storesight run -config FILE          run the cameras of one store (Ctrl-C stops, flushing Kafka);
                                       a config without cameras and with analytics.enabled runs
                                       the chain's analytics service
  storesight analyze VIDEO [flags]     analyse a video file offline; "storesight analyze -h" lists flags
  storesight models list|info|verify|install [flags]
                                       model manifests; install copies and checks model files
  storesight bench [flags]             model latency next to bare ONNX Runtime, tracker speed, accuracy
                                       and end-to-end fps; writes benchmarks/results/bench.{md,json} + plots
  storesight eval [flags] SEQDIR...    accuracy on labelled sequences (tracking, detection, counting)

See storesight.example.yml for every configuration option.
`

// exitError carries the process exit code for errors already explained.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "analyze", "analyse":
		err = cmdAnalyze(args[1:], stdout, stderr)
	case "models":
		err = cmdModels(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "eval":
		err = cmdEval(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "storesight: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "storesight: %v\n", err)
		return 1
	}
}
