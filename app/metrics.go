package app

import (
	"fmt"
	"net/http"
	"os"

	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/metrics"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

// startMetrics registers every camera, the Kafka sink and the detector pool
// with a Prometheus registry and binds metrics.listen now, so a port in use
// fails start-up instead of going unnoticed. Serving starts in Run.
func (a *App) startMetrics() (pipeline.Output, error) {
	m := metrics.New(a.cfg.Store.ID)
	live := map[string]func() (video.LiveStats, bool){}
	for _, c := range a.cams {
		ls := a.live[c.ID]
		fn := func() (video.LiveStats, bool) {
			if ls == nil {
				return video.LiveStats{}, false
			}
			return ls.LiveStats(), true
		}
		m.AddCamera(c.ID, c.Stats.Snapshot, fn)
		live[c.ID] = fn
	}
	if a.sink != nil {
		m.AddKafka(a.sink.Stats)
	}
	if a.pool != nil {
		m.AddDetector(a.pool.Stats)
	}
	m.AddReadiness("cameras", metrics.CamerasOnline(live))
	mux := http.NewServeMux()
	mux.Handle("/", m.Handler())
	if len(a.recorders) > 0 {
		mux.Handle("/cameras/", evidence.Handler(a.recorders))
	}
	if a.alerts != nil {
		if err := a.alerts.mount(mux, a.cfg.SMS.WebhookURL); err != nil {
			return nil, err
		}
	}
	if a.pos != nil {
		a.pos.mount(mux)
	}
	if a.analytics != nil {
		a.analytics.mount(mux, os.Getenv("STORESIGHT_API_TOKEN"))
	}
	srv, err := metrics.Listen(a.cfg.Metrics.Listen, mux, a.log)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w", a.cfg.Metrics.Listen, err)
	}
	a.metrics = srv
	a.log.Info("metrics endpoint", "addr", "http://"+srv.Addr()+"/metrics")
	return m.Output(), nil
}

// MetricsAddr is the address the metrics endpoint listens on, "" when off.
func (a *App) MetricsAddr() string {
	if a.metrics == nil {
		return ""
	}
	return a.metrics.Addr()
}
