package benchmarks

import (
	"math"
	"runtime"
	"testing"
	"time"
)

// liveResult is one row of the live benchmark, from counter deltas over
// the measurement window.
type liveResult struct {
	Row    liveRow
	Window time.Duration // measured, between the two samples

	AnalysedMin, AnalysedMean float64 // analysed frames per second per camera
	// HandledMin counts gated frames as handled too: with motion gating a
	// frame the gate skipped was looked at in time, not lost.
	HandledMin  float64
	DecodedMean float64 // pictures decoded per second per camera

	DecodeMs          float64 // per picture, decode plus conversion to BGR
	DecodeCores       float64 // all cameras
	DetUtil           float64 // detector busy time / (window * sessions)
	DetRunsPerSec     float64
	DetMsPerRun       float64
	SrcDropped        int64 // decoded pictures the source dropped (consumer late)
	QueueDropped      int64 // sampled frames the analysis queue dropped (detector late)
	Gated, DecodeErrs int64
	Analysed          int64 // all cameras
	Reconnects        int64

	FrameP50, FrameP99   time.Duration // decoder -> result, from the Prometheus histogram
	FrameOK              bool
	DetectP50, DetectP99 time.Duration // waiting for and running the detector
	Kafka                latencyStats
	// ClockOffset is the median of arrival minus RTCP wall time of camera
	// 1's pictures, over ClockN pictures (see clockProbe).
	ClockOffset time.Duration
	ClockN      int

	RSS, HWM int64

	CPU, FFmpegCPU float64 // cores: this process; the ffmpeg publishers
	MachineCPU     float64 // cores busy on the whole machine
	Load           string
}

func newLiveResult(row liveRow, start, end liveSample) *liveResult {
	r := &liveResult{Row: row, Window: end.at.Sub(start.at), Load: start.proc.load}
	w := r.Window.Seconds()
	r.AnalysedMin, r.HandledMin = math.Inf(1), math.Inf(1)
	var decodeTime time.Duration
	var decoded int64
	for i := range end.cams {
		s0, s1 := start.cams[i], end.cams[i]
		analysed := float64(s1.stats.Analysed - s0.stats.Analysed)
		gated := float64(s1.stats.Gated - s0.stats.Gated)
		r.AnalysedMin = min(r.AnalysedMin, analysed/w)
		r.HandledMin = min(r.HandledMin, (analysed+gated)/w)
		r.AnalysedMean += analysed / w / float64(len(end.cams))
		n := s1.live.Decoded - s0.live.Decoded
		decoded += n
		r.DecodedMean += float64(n) / w / float64(len(end.cams))
		r.SrcDropped += s1.live.Dropped - s0.live.Dropped
		r.QueueDropped += s1.stats.Dropped - s0.stats.Dropped
		r.Gated += int64(gated)
		r.Analysed += int64(analysed)
		r.DecodeErrs += s1.live.DecodeErrors - s0.live.DecodeErrors
		r.Reconnects += s1.live.Reconnects - s0.live.Reconnects
		decodeTime += s1.live.DecodeTime - s0.live.DecodeTime
	}
	if decoded > 0 {
		r.DecodeMs = decodeTime.Seconds() * 1e3 / float64(decoded)
		r.DecodeCores = decodeTime.Seconds() / w
	}

	m0, m1 := start.metrics, end.metrics
	busy := m1.values["storesight_detector_busy_seconds_total"] - m0.values["storesight_detector_busy_seconds_total"]
	runs := m1.values["storesight_detector_runs_total"] - m0.values["storesight_detector_runs_total"]
	r.DetUtil = busy / (w * float64(row.Sessions))
	r.DetRunsPerSec = runs / w
	if runs > 0 {
		r.DetMsPerRun = busy * 1e3 / runs
	}
	lat := histDelta(m1, m0, "storesight_frame_latency_seconds")
	r.FrameP50, r.FrameOK = histQuantile(0.5, lat)
	r.FrameP99, _ = histQuantile(0.99, lat)
	det := histDelta(m1, m0, "storesight_detect_seconds")
	r.DetectP50, _ = histQuantile(0.5, det)
	r.DetectP99, _ = histQuantile(0.99, det)

	p0, p1 := start.proc, end.proc
	r.CPU = (p1.self - p0.self).Seconds() / w
	for pid, t1 := range p1.ffmpeg {
		if t0, ok := p0.ffmpeg[pid]; ok {
			r.FFmpegCPU += (t1 - t0).Seconds() / w
		}
	}
	if total := p1.total - p0.total; total > 0 {
		r.MachineCPU = float64(p1.busy-p0.busy) / float64(total) * float64(runtime.NumCPU())
	}
	return r
}

// meetsTarget is the target: every camera analysed (or, with
// motion gating, looked at) at 5 fps, and in real time.
func (r *liveResult) meetsTarget() bool {
	return r.HandledMin >= liveTargetFPS && r.FrameOK && r.FrameP99 <= liveMaxLatency
}

func (r *liveResult) report(b *testing.B) {
	b.ReportMetric(r.AnalysedMin, "analysed-fps-min")
	b.ReportMetric(r.AnalysedMean, "analysed-fps-mean")
	b.ReportMetric(100*r.DetUtil, "detector-util-%")
	b.ReportMetric(r.DecodeMs, "decode-ms/picture")
	b.ReportMetric(float64(r.SrcDropped+r.QueueDropped), "dropped")
	b.ReportMetric(ms(r.FrameP99), "frame-p99-ms")
	b.ReportMetric(ms(r.Kafka.P99), "kafka-p99-ms")
	b.ReportMetric(float64(r.RSS)/(1<<20), "rss-MiB")
	b.ReportMetric(r.CPU, "cpu-cores")
	meets := 0.0
	if r.meetsTarget() {
		meets = 1
	}
	b.ReportMetric(meets, "meets-target")
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }
