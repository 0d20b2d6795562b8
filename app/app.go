package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/metrics"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

// Options are what differs between `run`, `analyze` and tests.
type Options struct {
	Log *slog.Logger
	// Offline reads files as fast as analysis goes, drops nothing, and
	// publishes to no broker: `storesight analyze`.
	Offline bool
	// Console receives crossings as they happen when outputs.stdout is set.
	Console io.Writer
	// ModelSource is the directory models are installed from; empty means
	// models.DefaultDir().
	ModelSource string
	// FlushTimeout bounds how long Close waits for Kafka to take what is
	// queued. Default 30s.
	FlushTimeout time.Duration
	// KeepBroker leaves the embedded broker running after Run, so a caller
	// can still consume what was published; Close stops it.
	KeepBroker bool
	// TwilioClient carries SMS requests to Twilio; nil uses the default
	// transport. Tests point it at a local server.
	TwilioClient *http.Client
}

// App is one store's running process.
type App struct {
	cfg   *config.Config
	opts  Options
	log   *slog.Logger
	cams  []*pipeline.Camera
	infos []video.Info
	live  map[string]video.LiveSource // by camera id
	// recorders keep the main streams of cameras with main_source.
	recorders map[string]*evidence.Recorder
	pool      *pipeline.DetectorPool
	status    *statusPublisher
	metrics   *metrics.Server
	pipe      *pipeline.Pipeline
	embed     *events.Embedded
	sink      *events.KafkaSink
	evout     *pipeline.EventOutput
	alerts    *alerting
	pos       *posSide
	analytics *analyticsSide
	// stopAnalytics is set while the analytics service runs;
	// analyticsStats is what it did, once stopped.
	stopAnalytics  func(videoEnded bool)
	analyticsStats *AnalyticsStats
	// personClass is the model's class of people (-1: none); only people
	// are counted.
	personClass int
	files       []flusher
	closers     []io.Closer
}

type flusher interface{ Flush() error }

// CameraSummary is what one camera did.
type CameraSummary struct {
	ID     string
	Lines  []config.Line
	Totals map[string]map[string]int // line -> direction -> count
	Stats  pipeline.StatsSnapshot
	// Live holds the live source's counters; nil for files.
	Live *video.LiveStats
}

// Summary is what a run did.
type Summary struct {
	Cameras          []CameraSummary
	EventsPublished  int64
	EventsFailed     int64
	Kafka            *events.Stats
	EmbeddedBrokers  []string
	AnalysisDuration time.Duration
	// Detector says how busy the detector sessions were.
	Detector pipeline.PoolStats
	// StatusEvents counts camera_status changes published, and those lost
	// because the status queue was full.
	StatusEvents, StatusDropped int64
	// Alerts is nil when no alert rule is configured.
	Alerts *AlertStats
	// POS and Analytics are nil when off.
	POS       *POSStats
	Analytics *AnalyticsStats
}

// New builds everything the configuration describes and checks it; on error
// nothing is left running.
func New(ctx context.Context, cfg *config.Config, opts Options) (a *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 30 * time.Second
	}
	a = &App{cfg: cfg, opts: opts, log: opts.Log}
	defer func() {
		if err != nil {
			a.abort()
			a = nil
		}
	}()

	// Without cameras (the chain's analytics service) no model is needed.
	var manifest models.Manifest
	if len(cfg.Cameras) > 0 {
		dets, m, err := openDetectors(ctx, cfg, opts.ModelSource, a.log)
		if err != nil {
			return a, err
		}
		manifest = m
		a.personClass = manifest.ClassIndex("person")
		pool, err := pipeline.NewDetectorPool(dets...)
		if err != nil {
			return a, err
		}
		a.pool = pool
		a.closers = append(a.closers, closerFunc(pool.Close))
	}

	a.status = newStatusPublisher(events.Store{ID: cfg.Store.ID, Region: cfg.Store.Region}, a.log)
	for _, c := range cfg.Cameras {
		cam, info, err := a.openCamera(ctx, c)
		if err != nil {
			return a, err
		}
		a.cams = append(a.cams, cam)
		a.infos = append(a.infos, info)
		a.log.Info("camera ready", "camera", c.ID, "source", c.RedactedSource(),
			"size", fmt.Sprintf("%dx%d", info.Width, info.Height), "fps", info.FPS, "analysis_fps", c.FPS,
			"motion_gating", c.Motion.Enabled)
	}

	var outs pipeline.Outputs
	if cfg.Outputs.Stdout && opts.Console != nil {
		outs = append(outs, &pipeline.Console{W: opts.Console})
	}
	if err := a.fileOutputs(&outs); err != nil {
		return a, err
	}
	if !opts.Offline {
		if err := a.startKafka(); err != nil {
			return a, err
		}
		a.evout = &pipeline.EventOutput{Store: events.Store{ID: cfg.Store.ID, Region: cfg.Store.Region}, Pub: a.sink, Log: a.log}
		outs = append(outs, a.evout)
		a.status.pub = a.sink
	}
	var alertPub alerts.Publisher = &alertLog{log: a.log}
	if a.sink != nil {
		alertPub = a.sink
	}
	if a.alerts, err = a.openAlerts(manifest, alertPub); err != nil {
		return a, err
	}
	if a.alerts != nil && a.alerts.engine != nil {
		outs = append(outs, a.alerts.engine)
	}
	if a.sink != nil {
		var raiser *alerts.Manager
		if a.alerts != nil {
			raiser = a.alerts.manager
		}
		if a.pos, err = a.openPOS(a.KafkaBrokers(), a.sink, raiser); err != nil {
			return a, err
		}
		if a.pos != nil {
			outs = append(outs, a.pos.presence)
		}
		if a.analytics, err = a.openAnalytics(a.KafkaBrokers()); err != nil {
			return a, err
		}
	}
	if cfg.Metrics.Listen != "" {
		out, err := a.startMetrics()
		if err != nil {
			return a, err
		}
		outs = append(outs, out)
	}
	a.pipe = &pipeline.Pipeline{Cameras: a.cams, Pool: a.pool, Output: outs, Log: a.log}
	return a, nil
}

// Cameras are the cameras' analysis chains, for progress and stats.
func (a *App) Cameras() []*pipeline.Camera { return a.cams }

// Infos describe the cameras' streams, in the order of Cameras.
func (a *App) Infos() []video.Info { return a.infos }

// KafkaBrokers are the broker addresses events go to (the embedded broker's
// when none is configured); nil when offline.
func (a *App) KafkaBrokers() []string {
	if a.embed != nil {
		return a.embed.Addrs()
	}
	if a.sink != nil {
		return a.cfg.Kafka.Brokers
	}
	return nil
}

// topics maps every event type to its configured topic.
func (a *App) topics() map[string]string {
	t := a.cfg.Kafka.Topics
	return map[string]string{
		events.TypeCrossing:      t.Crossings,
		events.TypeLineCount:     t.Counts,
		events.TypeZoneOccupancy: t.Counts,
		events.TypeCameraStatus:  t.Status,
		events.TypeAlert:         t.Alerts,
		events.TypePOSCheck:      t.POSChecks,
		events.TypeRisk:          t.Risk,
		events.TypeConversion:    t.Conversion,
	}
}

func (a *App) startKafka() error {
	k := a.cfg.Kafka
	topics := a.topics()
	brokers := k.Brokers
	if len(brokers) == 0 {
		// Created up front so consumers (POS, analytics) can join their
		// groups before anything is written.
		emb, err := events.StartEmbedded(k.EmbeddedAddr, k.Topics.Crossings, k.Topics.Counts, k.Topics.Status,
			k.Topics.Alerts, k.Topics.POSChecks, k.Topics.Risk, k.Topics.Conversion, a.cfg.POS.Topic, a.cfg.POS.DeadLetterTopic)
		if err != nil {
			return fmt.Errorf("kafka.embedded_addr %s: %w", k.EmbeddedAddr, err)
		}
		a.embed = emb
		brokers = emb.Addrs()
		a.log.Info("embedded Kafka broker started", "addr", strings.Join(brokers, ","))
	}
	sink, err := events.NewKafkaSink(events.Config{
		Brokers: brokers, ClientID: k.ClientID, Topics: topics,
		QueueSize: k.QueueSize, SpillDir: k.SpillDir, Logger: a.log,
	})
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	a.sink = sink
	return nil
}

// fileOutputs opens the JSON-lines events file and the MOT tracks file(s).
// With several cameras, each gets its own tracks file (camera id before the
// extension), since MOT files describe one video.
func (a *App) fileOutputs(outs *pipeline.Outputs) error {
	o := a.cfg.Outputs
	if o.EventsFile != "" {
		f, err := create(o.EventsFile)
		if err != nil {
			return fmt.Errorf("outputs.events_file: %w", err)
		}
		a.closers = append(a.closers, f)
		j := pipeline.NewJSONLines(f, events.TypeCrossing)
		a.files = append(a.files, j)
		*outs = append(*outs, &pipeline.EventOutput{Store: events.Store{ID: a.cfg.Store.ID, Region: a.cfg.Store.Region}, Pub: j, Log: a.log})
	}
	if o.TracksFile != "" {
		for _, c := range a.cams {
			path := o.TracksFile
			if len(a.cams) > 1 {
				ext := filepath.Ext(path)
				path = strings.TrimSuffix(path, ext) + "." + c.ID + ext
			}
			f, err := create(path)
			if err != nil {
				return fmt.Errorf("outputs.tracks_file: %w", err)
			}
			a.closers = append(a.closers, f)
			m := pipeline.NewMOTWriter(f, c.ID)
			a.files = append(a.files, m)
			*outs = append(*outs, m)
		}
	}
	return nil
}

func create(path string) (*os.File, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return os.Create(path)
}

// Run analyses until every source ends or ctx is cancelled, then flushes
// files and Kafka and stops the embedded broker. It can be called once.
func (a *App) Run(ctx context.Context) (*Summary, error) {
	start := time.Now()
	bg, stopBG := context.WithCancel(ctx)
	var bgDone sync.WaitGroup
	bgDone.Add(1)
	go func() {
		defer bgDone.Done()
		a.status.run(bg, a.live, a.recorders)
	}()
	if a.metrics != nil {
		bgDone.Add(1)
		go func() {
			defer bgDone.Done()
			if err := a.metrics.Serve(bg); err != nil {
				a.log.Error("metrics endpoint stopped", "err", err)
			}
		}()
	}
	stopAlerts := func() {}
	if a.alerts != nil {
		stopAlerts = a.alerts.start(ctx, a.opts.FlushTimeout, a.log.Error)
	}
	stopPOS := func(bool) {}
	if a.pos != nil {
		stopPOS = a.pos.start(ctx, a.log.Error)
	}
	if a.analytics != nil {
		a.stopAnalytics = a.analytics.start(ctx, a.log.Error)
	}
	var runErr error
	if len(a.cams) > 0 {
		runErr = a.pipe.Run(ctx)
	} else {
		<-ctx.Done() // the analytics service alone: runs until stopped
	}
	videoEnded := ctx.Err() == nil
	// Register checks still pending raise their alerts now; then the
	// pipeline's last results and those alerts are published and texted
	// before Kafka is flushed.
	stopPOS(videoEnded)
	stopAlerts()
	stopBG()
	bgDone.Wait()
	s := &Summary{AnalysisDuration: time.Since(start)}
	if a.pool != nil {
		s.Detector = a.pool.Stats()
	}
	for i, c := range a.cams {
		cs := CameraSummary{
			ID: c.ID, Lines: a.cfg.Cameras[i].Lines, Totals: c.Counter.Totals(), Stats: c.Stats.Snapshot(),
		}
		if ls := a.live[c.ID]; ls != nil {
			st := ls.LiveStats()
			cs.Live = &st
		}
		s.Cameras = append(s.Cameras, cs)
	}
	sink := a.sink
	closeErr := a.shutdown(videoEnded)
	if a.evout != nil {
		s.EventsPublished, s.EventsFailed = a.evout.Counts()
	}
	s.StatusEvents, s.StatusDropped = a.status.counts()
	if a.alerts != nil {
		s.Alerts = a.alerts.stats()
	}
	if a.pos != nil {
		st := a.pos.stats()
		s.POS = &st
	}
	s.Analytics = a.analyticsStats
	if sink != nil {
		st := sink.Stats()
		s.Kafka = &st
	}
	return s, errors.Join(runErr, closeErr)
}

// shutdown flushes outputs, then Kafka, then lets the analytics service
// count what reached Kafka and publish, then stops the broker: in that
// order, so nothing queued is lost.
func (a *App) shutdown(videoEnded bool) error {
	var errs []error
	for _, f := range a.files {
		errs = append(errs, f.Flush())
	}
	if a.sink != nil {
		ctx, cancel := context.WithTimeout(context.Background(), a.opts.FlushTimeout)
		if err := a.sink.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush kafka: %w", err))
		}
		cancel()
		a.sink = nil
	}
	if a.pos != nil {
		a.pos.close()
	}
	if a.analytics != nil {
		if a.stopAnalytics != nil {
			a.stopAnalytics(videoEnded)
			a.stopAnalytics = nil
			st := a.analytics.service.Stats()
			a.analyticsStats = &st
		}
		ctx, cancel := context.WithTimeout(context.Background(), a.opts.FlushTimeout)
		if err := a.analytics.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("analytics: %w", err))
		}
		cancel()
		a.analytics = nil
	}
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	a.closers = nil
	if !a.opts.KeepBroker {
		a.Close()
	}
	return errors.Join(errs...)
}

// Close stops what Run left running: the embedded broker when
// Options.KeepBroker was set. It is safe to call more than once.
func (a *App) Close() {
	if a.embed != nil {
		a.embed.Close()
		a.embed = nil
	}
}

func (a *App) abort() {
	for _, c := range a.cams {
		c.Source.Close()
	}
	if a.metrics != nil {
		a.metrics.Close()
	}
	a.shutdown(false)
	a.Close()
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
