package benchmarks

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

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
	bare, err := OpenBare(m, filepath.Join(cfg.Model.Dir, m.File), threads, detectors.ProviderCPU)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	// Warm up before anything is timed: the first runs allocate and plan.
	for range 10 {
		if err := bare.Run(); err != nil {
			b.Fatal(err)
		}
	}

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
