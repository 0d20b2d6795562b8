package benchmarks

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// smallModel is the quickest shipped model: a real run of it takes seconds.
const smallModel = "person_lite_yolox_192"

const sampleSeq = "../testdata/mot/vtest-s01"

var (
	smallOnce sync.Once
	smallRep  *Report
	smallErr  error
)

// smallRun is one real bench run (one model, one thread, five samples,
// accuracy on the labelled sample) shared by the tests of this package.
func smallRun(t *testing.T) *Report {
	t.Helper()
	if _, err := os.Stat(sampleSeq); err != nil {
		t.Fatalf("labelled sample missing: %v", err)
	}
	smallOnce.Do(func() {
		smallRep, smallErr = Run(context.Background(), Config{
			Models: []string{smallModel}, Threads: []int{1}, Runs: 5, Warmup: 2, Frames: 4,
			Sequence: sampleSeq, TrackerUpdates: 500,
		})
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	return smallRep
}

func TestRunMeasuresLatencyTrackerAndAccuracy(t *testing.T) {
	r := smallRun(t)
	if len(r.Latency) != 1 {
		t.Fatalf("latency rows = %d, want 1", len(r.Latency))
	}
	l := r.Latency[0]
	if l.Model != smallModel || l.Family != "yolox" || l.Input != 192 || l.Threads != 1 || l.Samples != 5 || l.Provider != "cpu" {
		t.Errorf("latency row identity = %+v", l)
	}
	if !(l.P50Ms > 0 && l.P99Ms >= l.P50Ms && l.BareP50Ms > 0 && l.BareP99Ms >= l.BareP50Ms && l.MeanMs > 0) {
		t.Errorf("latency times inconsistent: %+v", l)
	}
	if math.Abs(l.Overhead-l.P50Ms/l.BareP50Ms) > 1e-9 || math.Abs(l.FPS-1000/l.MeanMs) > 1e-9 {
		t.Errorf("overhead %v or fps %v not derived from p50s and mean: %+v", l.Overhead, l.FPS, l)
	}
	if !r.InputSizesFixed {
		t.Error("person_lite_yolox_192 has a fixed 192x192 input, report says sizes are not fixed")
	}

	tr := r.Tracker
	if tr.People != 50 || tr.Updates != 500 || tr.MicrosPerUpdate <= 0 || tr.UpdatesPerSec <= 0 {
		t.Errorf("tracker = %+v", tr)
	}
	// 50 people, 3% misses, 3 hits to confirm: a tracker that follows them
	// reports most of them on every frame.
	if tr.TracksPerFrame < 40 || tr.TracksPerFrame > 50 {
		t.Errorf("tracker reports %.1f tracks per frame for 50 people", tr.TracksPerFrame)
	}

	if len(r.Accuracy) != 1 {
		t.Fatalf("accuracy rows = %d (note %q), want 1", len(r.Accuracy), r.AccuracyNote)
	}
	a := r.Accuracy[0]
	if a.Model != smallModel || a.Threads != 1 || a.Frames != 150 || a.Provider != "cpu" {
		t.Errorf("accuracy row identity = %+v", a)
	}
	if a.Seconds <= 0 || math.Abs(a.FPS-float64(a.Frames)/a.Seconds) > 1e-9 {
		t.Errorf("end-to-end fps %v is not frames/seconds (%d/%v)", a.FPS, a.Frames, a.Seconds)
	}
	// A person detector on a plaza full of people finds some of them and
	// follows some: zero would mean the run scored nothing.
	if a.AP50 <= 0 || a.AP50 > 1 || a.DetRecall <= 0 || a.IDF1 <= 0 || a.IDF1 > 1 || a.CountGT == 0 {
		t.Errorf("accuracy metrics implausible: %+v", a)
	}
	if r.Settings.AccuracyThreads != 1 || r.WallSeconds <= 0 || r.Machine.ORTVersion == "" || r.Machine.Cores < 1 {
		t.Errorf("settings/machine = %+v / %+v, wall %v", r.Settings, r.Machine, r.WallSeconds)
	}
}

func TestRunWithoutSequenceSaysAccuracyWasNotMeasured(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-seq")
	r, err := Run(context.Background(), Config{
		Models: []string{smallModel}, Threads: []int{1, 2}, Runs: 2, Warmup: 1, Frames: 2,
		Sequence: missing, TrackerUpdates: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accuracy) != 0 || !strings.Contains(r.AccuracyNote, missing) {
		t.Errorf("accuracy = %v, note %q; want none and a note naming %s", r.Accuracy, r.AccuracyNote, missing)
	}
	if len(r.Latency) != 2 || r.Latency[0].Threads != 1 || r.Latency[1].Threads != 2 {
		t.Errorf("latency rows = %+v, want threads 1 then 2", r.Latency)
	}
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	if len(r.Plots) != 1 || r.Plots[0] != "latency_vs_fps.png" {
		t.Errorf("plots = %v, want the latency against throughput plot only", r.Plots)
	}
	checkPNG(t, filepath.Join(dir, "latency_vs_fps.png"))
	md, err := os.ReadFile(filepath.Join(dir, "bench.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Accuracy and end-to-end speed were not measured: the labelled sequence "+missing) {
		t.Errorf("bench.md does not say accuracy was not measured:\n%s", md)
	}
}

func TestRunRejectsBadInputBeforeMeasuring(t *testing.T) {
	for name, cfg := range map[string]Config{
		"unknown model":   {Models: []string{"no_such_model"}},
		"missing file":    {Models: []string{smallModel}, ModelDir: t.TempDir()},
		"zero threads":    {Models: []string{smallModel}, Threads: []int{0}},
		"missing video":   {Models: []string{smallModel}, Video: filepath.Join(t.TempDir(), "x.avi")},
		"broken sequence": {Models: []string{smallModel}, Runs: 1, Frames: 1, Sequence: t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			if _, err := Run(context.Background(), cfg); err == nil {
				t.Fatalf("Run(%+v) succeeded", cfg)
			} else {
				t.Logf("%v (after %v)", err, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}
