package benchmarks

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
)

const threads = 2

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkAnalyzeVtest runs `storesight analyze` on all 795 frames of
// vtest.avi (decode, YOLOX-Nano, ByteTrack, two counting lines, JSON and MOT
// writers off) and, in the same benchmark, 795 runs of a bare ONNX Runtime
// session of the same model on a pre-filled input. It reports analysed
// frames/s, bare session runs/s, and their ratio (the share of the bare
// model's speed the whole pipeline keeps).
func BenchmarkAnalyzeVtest(b *testing.B) {
	cfg, err := config.Load("../configs/vtest.yml")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Cameras[0].Realtime = false
	cfg.Model.Dir = filepath.Join("..", ".deps", "models")
	cfg.Model.Threads = threads
	cfg.Outputs = config.Outputs{}
	m, err := models.Lookup(cfg.Model.Name)
	if err != nil {
		b.Fatal(err)
	}
	bare := newBareSession(b, m, filepath.Join(cfg.Model.Dir, m.File))
	defer bare.Destroy()

	var pipeFrames, bareRuns int64
	var pipeTime, bareTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := app.New(context.Background(), cfg, app.Options{Offline: true, Log: quiet})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		sum, err := a.Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		pipeTime += time.Since(t0)
		n := sum.Cameras[0].Stats.Analysed
		pipeFrames += n

		t0 = time.Now()
		for j := int64(0); j < n; j++ {
			if err := bare.Run(); err != nil {
				b.Fatal(err)
			}
			if j%100 == 99 { // with -v: shows whether the machine was steady
				b.Logf("bare %d: %.1f fps", j, float64(j+1)/time.Since(t0).Seconds())
			}
		}
		bareTime += time.Since(t0)
		bareRuns += n
	}
	pfps := float64(pipeFrames) / pipeTime.Seconds()
	bfps := float64(bareRuns) / bareTime.Seconds()
	b.ReportMetric(pfps, "analysed-fps")
	b.ReportMetric(bfps, "bare-ort-fps")
	b.ReportMetric(pfps/bfps, "pipeline/bare")
}

// newBareSession opens the model with nothing of storesight around it: the
// same thread settings, a pre-filled input, no pre- or post-processing.
func newBareSession(b *testing.B, m models.Manifest, path string) *ort.AdvancedSession {
	b.Helper()
	if err := detectors.InitRuntime(""); err != nil {
		b.Fatal(err)
	}
	inInfo, outInfo, err := ort.GetInputOutputInfo(path)
	if err != nil {
		b.Fatal(err)
	}
	if len(inInfo) != 1 || len(outInfo) != 1 {
		b.Fatalf("model %s: bare session supports one input and one output, got %d and %d", m.Name, len(inInfo), len(outInfo))
	}
	in, err := ort.NewEmptyTensor[float32](inInfo[0].Dimensions)
	if err != nil {
		b.Fatal(err)
	}
	// Image-like values: an all-zero input drives activations into
	// denormal floats, which are much slower on x86 and would flatter the
	// pipeline.
	rng := rand.New(rand.NewPCG(1, 2))
	for i, data := 0, in.GetData(); i < len(data); i++ {
		data[i] = float32(rng.IntN(256))
	}
	out, err := ort.NewEmptyTensor[float32](outInfo[0].Dimensions)
	if err != nil {
		b.Fatal(err)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		b.Fatal(err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		b.Fatal(err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		b.Fatal(err)
	}
	s, err := ort.NewAdvancedSession(path, []string{inInfo[0].Name}, []string{outInfo[0].Name},
		[]ort.Value{in}, []ort.Value{out}, so)
	if err != nil {
		b.Fatal(err)
	}
	// Warm up before anything is timed: the first runs allocate and plan.
	for i := 0; i < 10; i++ {
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
	}
	return s
}
