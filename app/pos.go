package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pos"
)

// catchUpTimeout bounds how long a run over recorded video waits, after
// the video ended, for the messages already in Kafka to be handled.
const catchUpTimeout = 30 * time.Second

// posSide is the register side of a store: POS transactions from Kafka
// (and HTTP) checked against each register's customer zone.
type posSide struct {
	presence   *pos.Presence
	dlq        *pos.DeadLetters
	skew       *pos.Skew
	consumer   *pos.Consumer
	progress   *events.Progress
	correlator *pos.Correlator
	ingest     *pos.Ingest
}

// POSStats is what the register side did in a run.
type POSStats struct {
	Consumer pos.ConsumerStats   `json:"consumer"`
	Checks   pos.CorrelatorStats `json:"checks"`
	// Skew is the POS clocks' arrival skew (received - POS timestamp);
	// Offset is the clock offset that best lines sales up with customers
	// in view.
	Skew   pos.SkewReport   `json:"arrival_skew"`
	Offset pos.OffsetReport `json:"video_offset"`
}

func polygon(pts []config.Point) geom.Polygon {
	pg := make(geom.Polygon, len(pts))
	for i, p := range pts {
		pg[i] = geom.Point{X: p[0], Y: p[1]}
	}
	return pg
}

// openPOS builds the register side; nil when pos.enabled is off. Alerts
// go to raiser (nil: checks are published, nothing is raised).
func (a *App) openPOS(brokers []string, pub alerts.Publisher, raiser *alerts.Manager) (*posSide, error) {
	c := a.cfg.POS
	if !c.Enabled {
		return nil, nil
	}
	if a.opts.Offline {
		a.log.Warn("pos: not checked by analyze (no Kafka); use storesight run")
		return nil, nil
	}
	regs := make([]pos.Register, 0, len(c.Registers))
	for _, r := range c.Registers {
		regs = append(regs, pos.Register{
			ID: r.ID, Camera: r.Camera, CustomerZone: polygon(r.CustomerZone), StaffZone: polygon(r.StaffZone),
			ClockOffset: r.ClockOffset.D(),
		})
	}
	ps := &posSide{skew: pos.NewSkew(1000)}
	var err error
	ps.presence, err = pos.NewPresence(pos.PresenceConfig{
		Registers: regs, PersonClass: a.personClass, History: c.History.D(), SnapshotEvery: c.SnapshotEvery.D(),
	})
	if err != nil {
		return nil, fmt.Errorf("pos.registers: %w", err)
	}
	var checked []pos.Type
	for _, t := range c.Check {
		checked = append(checked, pos.Type(t))
	}
	var tenders []pos.Tender
	for _, t := range c.RefundTenders {
		tenders = append(tenders, pos.Tender(t))
	}
	cc := pos.CorrelatorConfig{
		Store: events.Store{ID: a.cfg.Store.ID, Region: a.cfg.Store.Region}, Presence: ps.presence, Registers: regs,
		ClockOffset: c.ClockOffset.D(), Before: c.Before.D(), After: c.After.D(), MaxGap: c.MaxGap.D(),
		MaxWait: c.MaxWait.D(), Checked: checked, RefundTenders: tenders, Level: alerts.Level(c.Level),
		Pub: pub, Log: a.log,
	}
	if raiser != nil {
		cc.Alerts = raiser
	}
	if ps.correlator, err = pos.NewCorrelator(cc); err != nil {
		return nil, fmt.Errorf("pos: %w", err)
	}
	ps.dlq = pos.NewDeadLetters(brokers, c.DeadLetterTopic, a.log)
	group := c.GroupID
	if group == "" {
		group = "storesight-pos-" + a.cfg.Store.ID
	}
	ps.progress = &events.Progress{Brokers: brokers, Topic: c.Topic}
	ps.consumer, err = pos.NewConsumer(pos.ConsumerConfig{
		Brokers: brokers, Topic: c.Topic, GroupID: group, Store: a.cfg.Store.ID,
		DeadLetters: ps.dlq, Skew: ps.skew, Progress: ps.progress, Log: a.log,
	}, ps.correlator.Handle)
	if err != nil {
		ps.dlq.Close()
		return nil, fmt.Errorf("pos: %w", err)
	}
	if c.HTTP && a.cfg.Metrics.Listen != "" {
		ps.ingest, err = pos.NewIngest(pos.IngestConfig{
			Brokers: brokers, Topic: c.Topic, DeadLetters: ps.dlq,
			APIToken: os.Getenv("STORESIGHT_API_TOKEN"), Log: a.log,
		})
		if err != nil {
			ps.dlq.Close()
			return nil, fmt.Errorf("pos: %w", err)
		}
	} else if c.HTTP {
		a.log.Warn("pos: POST /pos/transactions needs metrics.listen; not served")
	}
	return ps, nil
}

// mount serves the POS ingest endpoint and the register side's status.
func (ps *posSide) mount(mux *http.ServeMux) {
	if ps.ingest != nil {
		mux.Handle("/pos/transactions", ps.ingest.Handler())
	}
	mux.HandleFunc("GET /pos/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ps.stats())
	})
}

// start runs the correlator and the consumer; the returned stop waits, when
// the video ended by itself (files), until what was in the POS topic has
// been checked, then stops the consumer and lets the correlator decide
// what is pending, so that its alerts reach the manager before it stops.
func (ps *posSide) start(ctx context.Context, log func(string, ...any)) (stop func(videoEnded bool)) {
	bg := context.WithoutCancel(ctx)
	cctx, stopConsumer := context.WithCancel(bg)
	kctx, stopCorrelator := context.WithCancel(bg)
	var cwg, kwg sync.WaitGroup
	kwg.Go(func() {
		if err := ps.correlator.Run(kctx); err != nil {
			log("pos correlator stopped", "err", err)
		}
	})
	cwg.Go(func() {
		if err := ps.consumer.Run(cctx); err != nil {
			log("pos consumer stopped", "err", err)
		}
	})
	return func(videoEnded bool) {
		if videoEnded {
			wctx, cancel := context.WithTimeout(bg, catchUpTimeout)
			if err := ps.progress.WaitCaughtUp(wctx); err != nil {
				log("pos: transactions left unread at shutdown", "err", err)
			}
			cancel()
		}
		stopConsumer()
		cwg.Wait()
		stopCorrelator()
		kwg.Wait()
	}
}

func (ps *posSide) stats() POSStats {
	return POSStats{
		Consumer: ps.consumer.Stats(), Checks: ps.correlator.Stats(),
		Skew: ps.skew.Report(), Offset: ps.correlator.Offset(),
	}
}

func (ps *posSide) close() {
	if ps.ingest != nil {
		ps.ingest.Close()
	}
	ps.dlq.Close()
}
