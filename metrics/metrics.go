package metrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

// Metrics is a store process's metrics registry and health state. Its
// methods are safe for concurrent use, also while being scraped.
type Metrics struct {
	reg     *prometheus.Registry
	wrapped prometheus.Registerer
	cameras *cameraCollector
	kafka   *kafkaCollector
	results *resultMetrics
	ready   readiness
}

// New returns the metrics of the store with the given id, on a registry of
// their own holding the Go runtime and process collectors. Every series
// carries store="<store>" (none when store is empty).
func New(store string) *Metrics {
	m := &Metrics{
		reg:     prometheus.NewRegistry(),
		cameras: newCameraCollector(),
		kafka:   newKafkaCollector(),
		results: newResultMetrics(),
	}
	m.wrapped = m.reg
	if store != "" {
		m.wrapped = prometheus.WrapRegistererWith(prometheus.Labels{"store": store}, m.reg)
	}
	m.wrapped.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.cameras, m.kafka,
	)
	m.wrapped.MustRegister(m.results.collectors()...)
	return m
}

// Registerer is where other parts of the process register metrics of
// their own; they get the store label too.
func (m *Metrics) Registerer() prometheus.Registerer { return m.wrapped }

// Gatherer reads the registry, e.g. for tests or a push gateway.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// AddCamera exports a camera's counters, read at scrape time: stats is
// usually the camera's Stats.Snapshot; live, when not nil, returns the
// source's video.LiveStats and true if the source is a video.LiveSource
// (see LiveStatsOf). Adding an id again replaces the earlier camera.
func (m *Metrics) AddCamera(id string, stats func() pipeline.StatsSnapshot, live func() (video.LiveStats, bool)) {
	m.cameras.add(id, cameraSource{stats: stats, live: live})
	m.results.init(id)
}

// LiveStatsOf returns a live-stats func for AddCamera: it reports the
// source's LiveStats when it is a video.LiveSource, and false otherwise.
func LiveStatsOf(src video.Source) func() (video.LiveStats, bool) {
	ls, ok := src.(video.LiveSource)
	return func() (video.LiveStats, bool) {
		if !ok {
			return video.LiveStats{}, false
		}
		return ls.LiveStats(), true
	}
}

// AddKafka exports the Kafka sink's counters, read at scrape time (usually
// KafkaSink.Stats). Adding again replaces the earlier sink.
func (m *Metrics) AddKafka(stats func() events.Stats) { m.kafka.set(stats) }

// Output returns the pipeline output that observes detector time, frame
// latency and crossings per camera. Combine it with the process's other
// outputs; it never blocks.
func (m *Metrics) Output() pipeline.Output { return m.results }

// AddReadiness adds a check to /readyz. The check runs on every probe, so
// it must be quick and must not block (read state, do not dial); its error
// is shown as "name: error".
func (m *Metrics) AddReadiness(name string, check func() error) {
	if check == nil {
		panic(fmt.Sprintf("metrics: readiness check %q is nil", name))
	}
	m.ready.add(name, check)
}

// Handler serves /metrics (Prometheus text or OpenMetrics), /healthz (200
// "ok" while the process serves HTTP at all) and /readyz (200 "ready" when
// every readiness check passes, else 503 with a line per failing check).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(m.wrapped,
		promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
			// A failing collector should cost its own series, not the
			// whole scrape.
			ErrorHandling:     promhttp.ContinueOnError,
			EnableOpenMetrics: true,
			Registry:          m.wrapped, // counts the handler's own errors
		})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		textHeaders(w)
		fmt.Fprint(w, "ok\n")
	})
	mux.Handle("GET /readyz", &m.ready)
	return mux
}
