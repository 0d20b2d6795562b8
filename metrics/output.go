package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storesight/storesight/pipeline"
)

// latencyBuckets cover 5 ms (a small model on a fast box) to 10 s (a
// detector queue that has fallen far behind), densest around the tens to
// hundreds of milliseconds a CPU detector takes.
var latencyBuckets = []float64{
	0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10,
}

// resultMetrics are observed per analysed frame.
type resultMetrics struct {
	detect    *prometheus.HistogramVec
	latency   *prometheus.HistogramVec
	crossings *prometheus.CounterVec
}

func newResultMetrics() *resultMetrics {
	return &resultMetrics{
		detect: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storesight_detect_seconds",
			Help:    "Time the person detector took per analysed frame, waiting for a free detector included.",
			Buckets: latencyBuckets,
		}, []string{"camera"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storesight_frame_latency_seconds",
			Help:    "Time from a frame leaving the decoder to its analysis result (queueing, detection, tracking, counting): how far behind real time counts are.",
			Buckets: latencyBuckets,
		}, []string{"camera"}),
		crossings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storesight_crossings_total",
			Help: "People counted crossing a counting line, by camera, line and direction.",
		}, []string{"camera", "line", "direction"}),
	}
}

func (m *resultMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.detect, m.latency, m.crossings}
}

// init makes a camera's histograms appear, empty, before its first frame,
// so dashboards and alerts see the camera from the start.
func (m *resultMetrics) init(camera string) {
	m.detect.WithLabelValues(camera)
	m.latency.WithLabelValues(camera)
}

// Result observes one result. It only updates in-memory metrics, so it
// never holds up the camera's worker.
func (m *resultMetrics) Result(r *pipeline.Result) {
	detect, latency, detectOK, latencyOK := resultTimes(r)
	if detectOK {
		m.detect.WithLabelValues(r.Camera).Observe(detect.Seconds())
	}
	if latencyOK {
		m.latency.WithLabelValues(r.Camera).Observe(latency.Seconds())
	}
	for _, c := range r.Crossings {
		m.crossings.WithLabelValues(r.Camera, c.Line, c.Direction).Inc()
	}
}
