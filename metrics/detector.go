package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storesight/storesight/pipeline"
)

// AddDetector exports the shared detector pool's work: runs, frames and
// busy time. Utilisation is rate(storesight_detector_busy_seconds_total)
// divided by storesight_detector_sessions; the average batch is
// rate(frames) / rate(runs).
func (m *Metrics) AddDetector(stats func() pipeline.PoolStats) {
	m.wrapped.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "storesight_detector_runs_total",
			Help: "Detector session runs; a batch of frames counts once.",
		}, func() float64 { return float64(stats().Runs) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "storesight_detector_frames_total",
			Help: "Frames run through the detector, all cameras.",
		}, func() float64 { return float64(stats().Frames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "storesight_detector_busy_seconds_total",
			Help: "Time detector sessions spent running, summed over sessions.",
		}, func() float64 { return stats().Busy.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "storesight_detector_sessions",
			Help: "Detector sessions shared by the cameras.",
		}, func() float64 { return float64(stats().Sessions) }),
	)
}
