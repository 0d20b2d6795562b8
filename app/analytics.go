package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/storesight/storesight/analytics"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/internal/apiauth"
	"github.com/storesight/storesight/pos"
)

// analyticsSide is the exception analytics and conversion service. It has
// its own Kafka sink: it reads what the store side (and every other store)
// wrote, so at shutdown it runs after the store's sink has delivered
// everything, and publishes last.
type analyticsSide struct {
	store    *analytics.Store
	service  *analytics.Service
	sink     *events.KafkaSink
	dlq      *pos.DeadLetters
	progress []*events.Progress
}

// AnalyticsStats is what the analytics service did in a run.
type AnalyticsStats = analytics.ServiceStats

func (a *App) openAnalytics(brokers []string) (*analyticsSide, error) {
	c := a.cfg.Analytics
	if !c.Enabled {
		return nil, nil
	}
	if a.opts.Offline {
		a.log.Warn("analytics: not run by analyze (no Kafka); use storesight run")
		return nil, nil
	}
	if err := os.MkdirAll(c.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("analytics.state_dir: %w", err)
	}
	as := &analyticsSide{}
	var err error
	as.store, err = analytics.Open(filepath.Join(c.StateDir, "analytics.db"), analytics.StoreOptions{
		DedupWindow: c.DedupWindow.D(), Log: a.log,
	})
	if err != nil {
		return nil, fmt.Errorf("analytics.state_dir: %w", err)
	}
	k := a.cfg.Kafka
	as.sink, err = events.NewKafkaSink(events.Config{
		Brokers: brokers, ClientID: k.ClientID + "-analytics", Topics: a.topics(),
		QueueSize: k.QueueSize, SpillDir: filepath.Join(c.StateDir, "spill"), Logger: a.log,
	})
	if err != nil {
		as.store.Close()
		return nil, fmt.Errorf("analytics: %w", err)
	}
	as.dlq = pos.NewDeadLetters(brokers, a.cfg.POS.DeadLetterTopic, a.log)
	regions := map[string]string{}
	for _, r := range c.Regions {
		for _, s := range r.Stores {
			regions[s] = r.Name
		}
	}
	w := c.Weights
	as.service, err = analytics.NewService(analytics.ServiceConfig{
		Brokers: brokers, GroupID: c.GroupID,
		POSTopic: a.cfg.POS.Topic, ChecksTopic: k.Topics.POSChecks, CountsTopic: k.Topics.Counts,
		DeadLetters: as.dlq, Store: as.store, Regions: regions,
		Risk: analytics.RiskConfig{
			MinTransactions: int64(c.MinTransactions),
			Weights: map[string]float64{
				"no_customer": w.NoCustomer, "cash_refunds": w.CashRefunds, "voids": w.Voids,
				"partial_cancels": w.PartialCancels, "no_sales": w.NoSales, "refunds": w.Refunds,
			},
		},
		Pub: as.sink, PublishEvery: c.PublishEvery.D(), Log: a.log,
	})
	if err != nil {
		as.close(context.Background())
		return nil, fmt.Errorf("analytics: %w", err)
	}
	return as, nil
}

// mount serves the figures; cashier risk scores are personal data, so
// they are guarded like the alert API (token, or this host only).
func (as *analyticsSide) mount(mux *http.ServeMux, token string) {
	mux.Handle("/analytics/", apiauth.Guard(token, "storesight analytics", as.service.Handler()))
}

// start runs the service; stop waits (video ended by itself) until what is
// in its topics now was counted, then stops it, which publishes once more.
func (as *analyticsSide) start(ctx context.Context, log func(string, ...any)) (stop func(videoEnded bool)) {
	bg := context.WithoutCancel(ctx)
	sctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := as.service.Run(sctx); err != nil {
			log("analytics service stopped", "err", err)
		}
	})
	return func(videoEnded bool) {
		if videoEnded {
			wctx, stopWait := context.WithTimeout(bg, catchUpTimeout)
			if err := as.service.WaitCaughtUp(wctx); err != nil {
				log("analytics: messages left unread at shutdown", "err", err)
			}
			stopWait()
		}
		cancel()
		wg.Wait()
	}
}

func (as *analyticsSide) close(ctx context.Context) error {
	var err error
	if as.sink != nil {
		err = as.sink.Close(ctx)
	}
	as.dlq.Close()
	if cerr := as.store.Close(); err == nil {
		err = cerr
	}
	return err
}
