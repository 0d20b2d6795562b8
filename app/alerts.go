package app

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/schedule"
	"github.com/storesight/storesight/sms"
)

// alerting is the alert side of the app: rules on every camera's results,
// the manager that owns alert state, snapshots, and SMS.
type alerting struct {
	steps    *stepCounter
	snaps    *evidence.Snapshots
	manager  *alerts.Manager
	engine   *alerts.Engine
	notifier *sms.Notifier
	dryRun   bool
	// publicURL is what snapshot links start with.
	publicURL string
}

// AlertStats is what the alert side did in a run.
type AlertStats struct {
	// Steps counts the alert events published, by state (raised,
	// resolved, ...).
	Steps map[string]int64
	// Active are the alerts still open when the run ended.
	Active []alerts.Alert
	SMS    *sms.Stats
	// DryRun is true when texts were logged, not sent.
	DryRun bool
}

// openAlerts builds the alerting from the config; nil when nothing can
// raise an alert (no rule, no register check). pub receives the alert
// events.
func (a *App) openAlerts(m models.Manifest, pub alerts.Publisher) (*alerting, error) {
	cfg := a.cfg
	registers := cfg.POS.Enabled && len(cfg.POS.Registers) > 0 && !a.opts.Offline
	if len(cfg.Alerts.Rules) == 0 && !registers {
		return nil, nil
	}
	loc, err := cfg.Store.Location()
	if err != nil {
		return nil, err
	}
	hours, err := storeHours(cfg.Store, loc)
	if err != nil {
		return nil, err
	}
	person := m.ClassIndex("person")
	var rules []alerts.Rule
	for i, r := range cfg.Alerts.Rules {
		ar := alerts.Rule{
			Name: r.Name, Kind: alerts.Kind(r.Kind), Level: alerts.Level(r.Level), Cameras: r.Cameras, Zone: r.Zone,
			Dwell: r.Dwell.D(), Max: r.Max, For: r.For.D(), MinScore: float32(r.MinScore),
			Frames: r.Frames, Window: r.Window, Near: r.Near, Clear: r.Clear.D(),
		}
		if ar.Kind == alerts.KindWeapon {
			cs, err := m.ClassIndices(r.Classes)
			if err != nil {
				return nil, fmt.Errorf("alerts.rules[%d].classes: %w", i, err)
			}
			ar.Classes = cs
		}
		if ar.Kind == alerts.KindAfterHours {
			ar.Schedule = hours
		}
		rules = append(rules, ar)
	}
	al := &alerting{publicURL: cfg.Alerts.PublicURL, steps: &stepCounter{next: pub, n: map[string]int64{}}}
	pub = al.steps
	if al.publicURL == "" && cfg.Metrics.Listen != "" {
		al.publicURL = "http://" + cfg.Metrics.Listen
	}
	s := cfg.Alerts.Snapshots
	al.snaps, err = evidence.OpenSnapshots(evidence.SnapshotConfig{
		Dir: s.Dir, MaxAge: s.MaxAge.D(), MaxBytes: int64(s.MaxMB) << 20, Quality: s.Quality, Log: a.log,
	})
	if err != nil {
		return nil, fmt.Errorf("alerts.snapshots.dir: %w", err)
	}
	var notifier alerts.Notifier
	if len(cfg.SMS.Escalation) > 0 && !a.opts.Offline {
		al.notifier, al.dryRun, err = a.openSMS(loc, func(ctx context.Context, id, by string, falseAlarm bool) error {
			return al.manager.Acknowledge(ctx, id, by, falseAlarm)
		})
		if err != nil {
			return nil, err
		}
		notifier = al.notifier
	}
	al.manager, err = alerts.NewManager(alerts.ManagerConfig{
		Store:     events.Store{ID: cfg.Store.ID, Region: cfg.Store.Region},
		PublicURL: al.publicURL, Snapshots: al.snaps, Pub: pub,
		NotifyLevel: alerts.Level(cfg.Alerts.NotifyLevel), Notifier: notifier,
		UpdateEvery: cfg.Alerts.UpdateEvery.D(), Log: a.log,
		// A secret, so the environment rather than the config file.
		APIToken: os.Getenv("STORESIGHT_API_TOKEN"),
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if len(rules) == 0 {
		return al, nil // register checks only
	}
	al.engine, err = alerts.NewEngine(alerts.EngineConfig{
		Store: cfg.Store.ID, Rules: rules, PersonClass: person, ClassNames: m.Classes, Log: a.log,
	}, al.manager)
	if err != nil {
		return nil, fmt.Errorf("alerts.rules: %w", err)
	}
	return al, nil
}

// openSMS builds the Twilio notifier. Credentials come from the config or
// the environment; without them it runs dry.
func (a *App) openSMS(loc *time.Location, ack func(context.Context, string, string, bool) error) (*sms.Notifier, bool, error) {
	c := a.cfg.SMS
	sid, token := c.AccountSID, c.AuthToken
	if sid == "" {
		sid = os.Getenv("TWILIO_ACCOUNT_SID")
	}
	if token == "" {
		token = os.Getenv("TWILIO_AUTH_TOKEN")
	}
	var chain []sms.Tier
	for _, t := range c.Escalation {
		chain = append(chain, sms.Tier{Name: t.Name, Numbers: t.Numbers, After: t.After.D()})
	}
	var quiet interface{ Open(time.Time) bool }
	if len(c.QuietHours) > 0 {
		var rs []schedule.Range
		for i, s := range c.QuietHours {
			r, err := schedule.ParseRange(s)
			if err != nil {
				return nil, false, fmt.Errorf("sms.quiet_hours[%d]: %w", i, err)
			}
			rs = append(rs, r)
		}
		quiet = schedule.Daily(loc, rs...)
	}
	dry := c.DryRun || sid == "" || token == ""
	n, err := sms.New(sms.Config{
		AccountSID: sid, AuthToken: token, DryRun: dry, From: c.From, Chain: chain,
		Cooldown: c.Cooldown.D(), Quiet: quiet, QuietMinLevel: alerts.Level(c.QuietMinLevel),
		RatePerHour: c.RatePerHour, MaxAttempts: c.MaxAttempts,
		BackoffMin: c.BackoffMin.D(), BackoffMax: c.BackoffMax.D(), RequestTimeout: c.RequestTimeout.D(),
		StateDir: c.StateDir, WebhookURL: c.WebhookURL,
		StoreName: storeName(a.cfg.Store), Location: loc,
		HTTPClient: a.opts.TwilioClient, Ack: ack, Log: a.log,
	})
	if err != nil {
		return nil, false, fmt.Errorf("sms: %w", err)
	}
	if dry {
		a.log.Warn("sms: dry run, texts are logged, not sent (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to send)")
	}
	return n, dry, nil
}

func storeName(s config.Store) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// storeHours turns store.hours and store.holidays into a schedule; nil
// when no hours are set (always open).
func storeHours(s config.Store, loc *time.Location) (*schedule.Schedule, error) {
	if !s.Hours.HasHours() {
		return nil, nil
	}
	sch := &schedule.Schedule{Loc: loc}
	days := []struct {
		wd  time.Weekday
		key string
		rs  []string
	}{{time.Monday, "mon", s.Hours.Mon}, {time.Tuesday, "tue", s.Hours.Tue}, {time.Wednesday, "wed", s.Hours.Wed},
		{time.Thursday, "thu", s.Hours.Thu}, {time.Friday, "fri", s.Hours.Fri}, {time.Saturday, "sat", s.Hours.Sat},
		{time.Sunday, "sun", s.Hours.Sun}}
	for _, d := range days {
		for i, str := range d.rs {
			r, err := schedule.ParseRange(str)
			if err != nil {
				return nil, fmt.Errorf("store.hours.%s[%d]: %w", d.key, i, err)
			}
			sch.Week[d.wd] = append(sch.Week[d.wd], r)
		}
	}
	for i, str := range s.Holidays {
		d, err := schedule.ParseDate(str)
		if err != nil {
			return nil, fmt.Errorf("store.holidays[%d]: %w", i, err)
		}
		sch.Holidays = append(sch.Holidays, d)
	}
	return sch, nil
}

// mount serves snapshots, the alert API and the SMS reply webhook next to
// the metrics.
func (al *alerting) mount(mux *http.ServeMux, webhookURL string) error {
	mux.Handle("/snapshots/", http.StripPrefix("/snapshots/", al.snaps.Handler()))
	mux.Handle("/alerts", al.manager.Handler())
	mux.Handle("/alerts/", al.manager.Handler())
	if al.notifier != nil && webhookURL != "" {
		u, err := url.Parse(webhookURL)
		if err != nil {
			return fmt.Errorf("sms.webhook_url: %w", err)
		}
		if slices.Contains([]string{"/metrics", "/healthz", "/readyz"}, u.Path) || u.Path == "/alerts" {
			return fmt.Errorf("sms.webhook_url: path %s is taken", u.Path)
		}
		mux.Handle(u.Path, al.notifier.Handler())
	}
	return nil
}

// start runs the manager, the notifier and the snapshot sweeper; the
// returned stop drains them in order (manager, then texts due now, then
// notifier) once the pipeline has finished, so that the last steps are
// published and texted.
func (al *alerting) start(ctx context.Context, flush time.Duration, log func(string, ...any)) (stop func()) {
	bg := context.WithoutCancel(ctx)
	mctx, stopManager := context.WithCancel(bg)
	nctx, stopNotifier := context.WithCancel(bg)
	sctx, stopSweep := context.WithCancel(bg)
	var mwg, nwg, swg sync.WaitGroup
	mwg.Go(func() {
		if err := al.manager.Run(mctx); err != nil {
			log("alert manager stopped", "err", err)
		}
	})
	if al.notifier != nil {
		nwg.Go(func() {
			if err := al.notifier.Run(nctx); err != nil {
				log("sms notifier stopped", "err", err)
			}
		})
	}
	swg.Go(func() { al.snaps.Run(sctx, time.Hour) })
	return func() {
		stopManager()
		mwg.Wait()
		if al.notifier != nil {
			fctx, cancel := context.WithTimeout(bg, flush)
			if err := al.notifier.Flush(fctx); err != nil {
				log("sms: texts still pending at shutdown are kept for the next start", "err", err)
			}
			cancel()
			stopNotifier()
			nwg.Wait()
		}
		stopSweep()
		swg.Wait()
	}
}

// stats reports the alert side after stop.
func (al *alerting) stats() *AlertStats {
	s := &AlertStats{Active: al.manager.Active(), Steps: al.steps.counts()}
	if al.notifier != nil {
		st := al.notifier.Stats()
		s.SMS = &st
		s.DryRun = al.dryRun
	}
	return s
}

var _ pipeline.Output = (*alerts.Engine)(nil)

// stepCounter counts the alert steps on their way to the publisher.
type stepCounter struct {
	next alerts.Publisher
	mu   sync.Mutex
	n    map[string]int64
}

func (c *stepCounter) Publish(e events.Envelope) error {
	var d struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(e.Data, &d); err == nil {
		c.mu.Lock()
		c.n[d.State]++
		c.mu.Unlock()
	}
	return c.next.Publish(e)
}

func (c *stepCounter) counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// alertLog is where alert events go without Kafka (`analyze`): the log.
type alertLog struct {
	log interface{ Info(string, ...any) }
}

func (l *alertLog) Publish(e events.Envelope) error {
	l.log.Info("alert", "id", e.ID, "camera", e.Camera, "time", e.Time, "data", string(e.Data))
	return nil
}
