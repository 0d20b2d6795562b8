package detectors

import (
	"fmt"
	"testing"
	"time"

	"github.com/storesight/storesight/models"
	"gocv.io/x/gocv"
)

// benchThreads matches the 2-core target machine.
const benchThreads = 2

// BenchmarkDetect is the full per-frame cost: preprocessing, inference,
// decoding and NMS on a real 768x576 frame.
func BenchmarkDetect(b *testing.B) {
	for _, m := range models.All() {
		b.Run(m.Name, func(b *testing.B) {
			d := openModel(b, m.Name, Options{Threads: benchThreads})
			img := frame(b, 300)
			// The first runs size ONNX Runtime's arenas; keep them out.
			for i := 0; i < 2; i++ {
				if _, err := d.Detect(img); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Detect(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPreprocess is letterbox + HWC->NCHW conversion alone.
func BenchmarkPreprocess(b *testing.B) {
	for _, m := range models.All() {
		b.Run(m.Name, func(b *testing.B) {
			d := openModel(b, m.Name, Options{Threads: benchThreads})
			img := frame(b, 300)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.pre.run(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBareSession is ONNX Runtime's Run on the same session with the
// input tensor already filled: the floor Detect is compared against.
func BenchmarkBareSession(b *testing.B) {
	for _, m := range models.All() {
		b.Run(m.Name, func(b *testing.B) {
			d := openModel(b, m.Name, Options{Threads: benchThreads})
			g, err := d.pre.run(frame(b, 300))
			if err != nil {
				b.Fatal(err)
			}
			d.head.prepare(0, g)
			for i := 0; i < 2; i++ { // warm-up, as in BenchmarkDetect
				if err := d.session.Run(d.inputs, d.outputs); err != nil {
					b.Fatal(err)
				}
				d.releaseDynamic()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.session.Run(d.inputs, d.outputs); err != nil {
					b.Fatal(err)
				}
				d.releaseDynamic()
			}
		})
	}
}

// BenchmarkDecode is the post-processing alone on real outputs.
func BenchmarkDecode(b *testing.B) {
	for _, m := range models.All() {
		if m.Family == models.FamilyDEIMv2 {
			continue // its outputs are freed after each run; decode is a short loop over 300 queries
		}
		b.Run(m.Name, func(b *testing.B) {
			d := openModel(b, m.Name, Options{Threads: benchThreads})
			g, err := d.pre.run(frame(b, 300))
			if err != nil {
				b.Fatal(err)
			}
			if err := d.session.Run(d.inputs, d.outputs); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := d.head.decode(d.outputs, 0, 1, g, &d.filter, d.cands[:0])
				if err != nil {
					b.Fatal(err)
				}
				d.cands = NMS(c, float64(d.nms))[:0]
			}
		})
	}
}

// BenchmarkOverhead alternates a bare session Run and a full Detect on the
// same detector, so both see the same machine load (the CPU is shared) and
// their ratio is the pipeline's own cost: preprocessing, decoding and NMS.
func BenchmarkOverhead(b *testing.B) {
	for _, m := range models.All() {
		b.Run(m.Name, func(b *testing.B) {
			d := openModel(b, m.Name, Options{Threads: benchThreads})
			img := frame(b, 300)
			g, err := d.pre.run(img)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if _, err := d.Detect(img); err != nil {
					b.Fatal(err)
				}
			}
			var bare, full time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				d.head.prepare(0, g)
				if err := d.session.Run(d.inputs, d.outputs); err != nil {
					b.Fatal(err)
				}
				d.releaseDynamic()
				t1 := time.Now()
				if _, err := d.Detect(img); err != nil {
					b.Fatal(err)
				}
				bare += t1.Sub(t0)
				full += time.Since(t1)
			}
			b.ReportMetric(float64(bare.Microseconds())/1e3/float64(b.N), "bare-ms/op")
			b.ReportMetric(float64(full.Microseconds())/1e3/float64(b.N), "detect-ms/op")
			b.ReportMetric(float64(full)/float64(bare), "detect/bare")
		})
	}
}

// BenchmarkDetectBatch compares one DetectBatch call over n frames of
// different cameras (768x576, 1280x720, 640x360) with n Detect calls on
// the same frames. The two alternate inside each iteration so both see the
// same load on the shared CPU; ms/frame is the batched cost per frame,
// detect-ms/frame the one-by-one cost and batch/detect their ratio (below 1
// means batching pays).
func BenchmarkDetectBatch(b *testing.B) {
	for _, name := range []string{"deimv2_hgnetv2_atto_320_coco", "deimv2_hgnetv2_femto_416_coco"} {
		b.Run(name, func(b *testing.B) {
			d := openModel(b, name, Options{Threads: benchThreads})
			cams := cameraFrames(b)
			for _, n := range []int{1, 2, 4} {
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					imgs := make([]gocv.Mat, n)
					for i := range imgs {
						imgs[i] = cams[i%len(cams)]
					}
					// Warm-up: ONNX Runtime sizes its arena for each new shape.
					for i := 0; i < 2; i++ {
						if _, err := d.DetectBatch(imgs); err != nil {
							b.Fatal(err)
						}
					}
					var batched, single time.Duration
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						t0 := time.Now()
						if _, err := d.DetectBatch(imgs); err != nil {
							b.Fatal(err)
						}
						t1 := time.Now()
						for _, img := range imgs {
							if _, err := d.Detect(img); err != nil {
								b.Fatal(err)
							}
						}
						batched += t1.Sub(t0)
						single += time.Since(t1)
					}
					frames := float64(b.N * n)
					b.ReportMetric(float64(batched.Microseconds())/1e3/frames, "ms/frame")
					b.ReportMetric(float64(single.Microseconds())/1e3/frames, "detect-ms/frame")
					b.ReportMetric(float64(batched)/float64(single), "batch/detect")
				})
			}
		})
	}
}
