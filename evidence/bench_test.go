package evidence

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storesight/storesight/internal/rtsptest"
	"github.com/storesight/storesight/video"
)

// BenchmarkRecord720p15 measures what keeping a 1280x720 15 fps H.264 main
// stream costs, as CPU time of this process per second of stream, against
// decoding the same stream as a detect stream would be:
//
//	relay   the in-process relay receiving the stream, nobody reading
//	record  relay + Recorder (RTSPStream + Buffer)
//	decode  relay + RTSPSource decoding to BGR, frames taken and released
//
// Each iteration is one second of stream; run with -benchtime=10x. The
// ffmpeg publisher is another process and not counted. Subtract relay
// from the others for the reader's own cost.
func BenchmarkRecord720p15(b *testing.B) {
	file := media(b, "h264", 1280, 720, 15, 15)
	run := func(b *testing.B, start func(url string) (stop func())) {
		srv, err := rtsptest.Start(rtsptest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		pub, err := rtsptest.Publish(context.Background(), rtsptest.PublishOptions{File: file, URL: srv.URL("main"), Loop: true})
		if err != nil {
			b.Fatal(err)
		}
		defer pub.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.WaitPublished(ctx, "main"); err != nil {
			b.Fatal(err)
		}
		if start != nil {
			defer start(srv.URL("main"))()
		}
		time.Sleep(time.Second) // past connecting and the first GOP
		b.ResetTimer()
		c0, t0 := cpuTime(b), time.Now()
		time.Sleep(time.Duration(b.N) * time.Second)
		cpu, wall := cpuTime(b)-c0, time.Since(t0)
		b.StopTimer()
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
	}
	b.Run("relay", func(b *testing.B) { run(b, nil) })
	b.Run("record", func(b *testing.B) {
		var rec *Recorder
		run(b, func(url string) func() {
			rec = NewRecorder(video.Spec{Camera: "bench", URL: url, Transport: "tcp"}, Options{})
			if err := rec.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			return func() { rec.Close() }
		})
		st := rec.Stats()
		if st.Span() > 0 {
			b.ReportMetric(float64(st.Bytes)/st.Span().Seconds()*30/(1<<20), "MiB/30s")
		}
	})
	b.Run("decode", func(b *testing.B) {
		run(b, func(url string) func() {
			src, err := video.OpenRTSP(context.Background(), video.Spec{Camera: "bench", URL: url, Transport: "tcp"})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					f, err := src.Next(ctx)
					if err != nil {
						return
					}
					f.Release()
				}
			}()
			return func() {
				cancel()
				wg.Wait()
				src.Close()
			}
		})
	})
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSnapshot720p15 measures a JPEG snapshot of a 1280x720 H.264
// stream with a 1 s GOP (15 pictures): "keyframe" decodes one picture,
// "gop-end" the whole GOP, the worst case.
func BenchmarkSnapshot720p15(b *testing.B) {
	const gop = 15
	aus := captureGOPs(b, media(b, "h264", 1280, 720, 15, gop), gop, 2)
	buf := NewBuffer(Options{})
	for _, au := range aus {
		buf.Add(au)
	}
	for _, c := range []struct {
		name string
		at   time.Time
	}{{"keyframe", aus[gop].Time}, {"gop-end", aus[2*gop-1].Time}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := buf.SnapshotJPEG(context.Background(), c.at, 85); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
