package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
)

const (
	// DefaultUpdateEvery is the least time between two updated steps of one
	// alert.
	DefaultUpdateEvery = 10 * time.Second
	// stepQueue bounds the steps waiting between the engine and the
	// manager. Alerts are rare; a full queue makes the camera worker wait
	// rather than lose one.
	stepQueue = 256
	// keepFinished is how many resolved alerts the manager remembers for
	// late acknowledgements (an SMS reply after the person left).
	keepFinished = 1024
)

// Publisher takes finished events: the Kafka sink.
type Publisher interface {
	Publish(e events.Envelope) error
}

// Notifier tells people about alerts (SMS). Notify must not block: it gets
// every step of the alerts whose Level is at least ManagerConfig.NotifyLevel,
// from the manager's goroutine.
type Notifier interface {
	Notify(a Alert)
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	Store events.Store
	// PublicURL is the base of snapshot links, e.g. "http://10.0.0.5:9100";
	// links are PublicURL + "/snapshots/<alert id>.jpg".
	PublicURL string
	// Snapshots stores the best frames; nil disables snapshots (the engine
	// then never copies a frame).
	Snapshots *evidence.Snapshots
	// Pub receives every step as an alert event. Required.
	Pub Publisher
	// NotifyLevel gates Notifier only: every step is published whatever
	// its level.
	NotifyLevel Level
	// Notifier may be nil.
	Notifier Notifier
	// UpdateEvery is the least event time between two updated steps of one
	// alert; 0 means DefaultUpdateEvery.
	UpdateEvery time.Duration
	// APIToken guards the alert API's POSTs (acknowledge, false alarm):
	// when set they need "Authorization: Bearer <APIToken>"; when empty
	// they are accepted only from a loopback address, so that a store's
	// network cannot close alerts nobody looked at. GET /alerts is open.
	APIToken string
	Log      *slog.Logger
}

// Manager owns every alert's state in one goroutine (Run): it numbers the
// steps, applies the lifecycle (see lifecycle), saves the best frame's
// snapshot before publishing the step that links to it, publishes, and
// notifies people.
type Manager struct {
	cfg      ManagerConfig
	log      *slog.Logger
	snapBase string

	steps    chan step
	acks     chan ackRequest
	stopping chan struct{} // closed when Run's context is done
	running  atomic.Bool
	// mu orders submit against the end of Run: senders hold it shared,
	// Run takes it exclusively to mark closed, after which nothing can
	// enter the queue it drains.
	mu     sync.RWMutex
	closed bool

	active atomic.Pointer[[]Alert]

	// Owned by Run's goroutine.
	alerts   map[string]*record
	finished []string // ids of resolved alerts, oldest first, bounded
}

// step is one machine step from the engine.
type step struct {
	a     Alert    // Message is the plain sentence, without state prefix
	img   gocv.Mat // cloned best frame owned by the step, or zero
	marks []evidence.Mark
}

// record is the manager's state of one alert.
type record struct {
	a    Alert  // as of the last published step
	base string // the engine's sentence, before a state prefix
	life lifecycle
}

type ackRequest struct {
	id, by     string
	falseAlarm bool
	reply      chan ackReply
}

type ackReply struct {
	a   Alert
	err error
}

// NewManager checks cfg and applies the defaults.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Store.ID == "" {
		return nil, errors.New("alerts: new manager: empty store id")
	}
	if cfg.Pub == nil {
		return nil, errors.New("alerts: new manager: nil publisher")
	}
	if !cfg.NotifyLevel.Valid() {
		return nil, fmt.Errorf("alerts: new manager: notify level %d out of range 0-4", int(cfg.NotifyLevel))
	}
	if cfg.UpdateEvery < 0 {
		return nil, fmt.Errorf("alerts: new manager: update every %s is negative", cfg.UpdateEvery)
	}
	if cfg.UpdateEvery == 0 {
		cfg.UpdateEvery = DefaultUpdateEvery
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := &Manager{
		cfg:      cfg,
		log:      cfg.Log,
		snapBase: strings.TrimRight(cfg.PublicURL, "/") + "/snapshots/",
		steps:    make(chan step, stepQueue),
		acks:     make(chan ackRequest),
		stopping: make(chan struct{}),
		alerts:   make(map[string]*record),
	}
	m.active.Store(&[]Alert{})
	return m, nil
}

// Run processes steps and acknowledgements until ctx is done, then
// publishes the steps already queued and returns nil. Steps submitted after
// that are dropped (logged), so the app stops the pipeline first. Run may
// be called once.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("alerts: manager already running")
	}
	for {
		select {
		case s := <-m.steps:
			m.apply(s)
		case q := <-m.acks:
			a, err := m.person(q)
			q.reply <- ackReply{a: a, err: err}
		case <-ctx.Done():
			close(m.stopping)
			m.mu.Lock()
			m.closed = true
			m.mu.Unlock()
			for {
				select {
				case s := <-m.steps:
					m.apply(s)
				default:
					return nil
				}
			}
		}
	}
}

// Raise hands the manager an alert that a source outside the engine
// decided on (package pos): a raised step, usually followed at once by a
// resolved one for alerts about a single moment. It waits while the queue
// is full; img (a clone the caller gives away, or a zero Mat) becomes the
// manager's, and is saved as the snapshot of the raised step.
func (m *Manager) Raise(a Alert, img gocv.Mat, marks []evidence.Mark) {
	m.submit(a, img, marks)
}

// submit queues one of the engine's steps, waiting while the queue is
// full. The step's image belongs to the manager from here on.
func (m *Manager) submit(a Alert, img gocv.Mat, marks []evidence.Mark) {
	a.TrackIDs = slices.Clone(a.TrackIDs)
	s := step{a: a, img: img, marks: marks}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.closed {
		select {
		case m.steps <- s:
			return
		case <-m.stopping:
		}
	}
	closeImage(&s.img)
	m.log.Error("alert step lost: manager stopped", "alert", a.ID, "rule", a.Rule, "camera", a.Camera, "state", a.State)
}

// apply runs one machine step through the lifecycle.
func (m *Manager) apply(s step) {
	defer closeImage(&s.img)
	id := s.a.ID
	rec := m.alerts[id]
	if rec == nil {
		if s.a.State != StateRaised {
			m.log.Warn("alert step for an unknown alert dropped", "alert", id, "state", s.a.State)
			return
		}
		rec = &record{}
		m.alerts[id] = rec
	}
	publish, err := rec.life.machine(s.a.State)
	if err != nil {
		m.log.Error("alert step out of order dropped", "alert", id, "state", s.a.State, "err", err)
		return
	}
	if publish {
		seq, snap := rec.a.Seq, rec.a.Snapshot
		rec.a, rec.base = s.a, s.a.Message
		rec.a.Seq, rec.a.Snapshot = seq, snap
		if url := m.save(rec.a, s.img, s.marks); url != "" {
			rec.a.Snapshot = url
		}
		m.emit(rec)
	}
	if rec.life.finished() {
		m.finish(id)
	}
	m.refresh()
}

// save writes the best frame's snapshot and returns its link, "" if there
// is none (no image, snapshots off, or the write failed).
func (m *Manager) save(a Alert, img gocv.Mat, marks []evidence.Mark) string {
	if m.cfg.Snapshots == nil || img.Ptr() == nil || img.Empty() {
		return ""
	}
	caption := a.Time.Format("2006-01-02 15:04:05 MST") + "  " + a.Message
	if _, err := m.cfg.Snapshots.Save(a.ID, img, marks, caption); err != nil {
		m.log.Error("save alert snapshot", "alert", a.ID, "err", err)
		return ""
	}
	return m.snapBase + a.ID + ".jpg"
}

// person applies an acknowledgement or false-alarm mark.
func (m *Manager) person(q ackRequest) (Alert, error) {
	rec := m.alerts[q.id]
	if rec == nil {
		return Alert{}, ErrUnknownAlert
	}
	if err := rec.life.person(); err != nil {
		return Alert{}, err
	}
	rec.a.State = StateAcknowledged
	if q.falseAlarm {
		rec.a.State = StateFalseAlarm
	}
	rec.a.Time, rec.a.By = time.Now().UTC(), q.by
	a := m.emit(rec)
	m.refresh()
	return a, nil
}

// emit numbers rec's current step, publishes it and notifies.
func (m *Manager) emit(rec *record) Alert {
	rec.a.Seq++
	rec.a.Message = stepMessage(rec.a.State, rec.base, rec.a.By)
	a := rec.a
	a.TrackIDs = slices.Clone(a.TrackIDs) // the receivers may keep it
	log := m.log.With("alert", a.ID, "rule", a.Rule, "camera", a.Camera, "state", a.State, "seq", a.Seq, "level", int(a.Level))
	e, err := AlertEvent(m.cfg.Store, a)
	if err == nil {
		err = m.cfg.Pub.Publish(e)
	}
	if err != nil {
		log.Error("publish alert step", "err", err)
	} else {
		log.Info("alert step", "message", a.Message)
	}
	if m.cfg.Notifier != nil && a.Level >= m.cfg.NotifyLevel {
		m.cfg.Notifier.Notify(a)
	}
	return a
}

// finish remembers a resolved alert for late acknowledgements, forgetting
// the oldest beyond keepFinished.
func (m *Manager) finish(id string) {
	m.finished = append(m.finished, id)
	if len(m.finished) > keepFinished {
		delete(m.alerts, m.finished[0])
		m.finished = slices.Delete(m.finished, 0, 1)
	}
}

// refresh publishes the active list for Active.
func (m *Manager) refresh() {
	as := []Alert{}
	for _, rec := range m.alerts {
		if rec.life.active() {
			a := rec.a
			a.TrackIDs = slices.Clone(a.TrackIDs)
			as = append(as, a)
		}
	}
	slices.SortFunc(as, func(a, b Alert) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
	})
	m.active.Store(&as)
}

// Active returns the open alerts (raised, neither resolved nor closed by a
// person), oldest first, as of their last published step.
func (m *Manager) Active() []Alert {
	as := *m.active.Load()
	out := make([]Alert, len(as))
	for i, a := range as {
		a.TrackIDs = slices.Clone(a.TrackIDs)
		out[i] = a
	}
	return out
}

// Acknowledge records that by (a masked phone number or an API caller)
// took responsibility for the alert, or with falseAlarm, that it was a
// false alarm. Open and resolved alerts can be closed once; it returns
// ErrUnknownAlert, ErrClosed, ErrStopped or ctx's error. Something that
// looks like a phone number in by is masked to its last 4 digits.
func (m *Manager) Acknowledge(ctx context.Context, alertID, by string, falseAlarm bool) error {
	_, err := m.acknowledge(ctx, alertID, by, falseAlarm)
	return err
}

func (m *Manager) acknowledge(ctx context.Context, alertID, by string, falseAlarm bool) (Alert, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return Alert{}, errors.New("alerts: acknowledge: who acknowledges is required")
	}
	q := ackRequest{id: alertID, by: MaskPhone(by), falseAlarm: falseAlarm, reply: make(chan ackReply, 1)}
	select {
	case m.acks <- q:
	case <-m.stopping:
		return Alert{}, ErrStopped
	case <-ctx.Done():
		return Alert{}, fmt.Errorf("alerts: acknowledge %s: %w", alertID, ctx.Err())
	}
	// Run answers every request it took, at once.
	r := <-q.reply
	if r.err != nil {
		return Alert{}, fmt.Errorf("alerts: acknowledge %s: %w", alertID, r.err)
	}
	return r.a, nil
}

// stepMessage is the step's sentence: the engine's, prefixed by what
// happened to it.
func stepMessage(s State, base, by string) string {
	switch s {
	case StateResolved:
		return "Resolved: " + base
	case StateAcknowledged:
		return "Acknowledged by " + by + ": " + base
	case StateFalseAlarm:
		return "False alarm per " + by + ": " + base
	}
	return base
}

// phoneRun is a phone-number-like run: an optional "+", then digits that
// may be broken up by spaces, dashes, dots and parentheses, as people
// write numbers ("+1 (555) 123-4567"). It ends on a digit, so a full stop
// or bracket after a number stays.
var phoneRun = regexp.MustCompile(`\+?[(\d][\d ().\-]*\d`)

// MaskPhone masks every phone-number-like run of 7 or more digits in s to
// its last 4 digits ("John +1 555 123 4567" -> "John +*******4567"): a
// "+" is kept, the separators go, one "*" stands for each other digit.
// Shorter runs (a camera number, an already masked "+*******4567") and
// the rest of s are unchanged.
func MaskPhone(s string) string {
	return phoneRun.ReplaceAllStringFunc(s, func(run string) string {
		var digits []byte
		for i := 0; i < len(run); i++ {
			if c := run[i]; c >= '0' && c <= '9' {
				digits = append(digits, c)
			}
		}
		if len(digits) < 7 {
			return run
		}
		plus := ""
		if run[0] == '+' {
			plus = "+"
		}
		return plus + strings.Repeat("*", len(digits)-4) + string(digits[len(digits)-4:])
	})
}

func closeImage(img *gocv.Mat) {
	if img.Ptr() != nil {
		img.Close()
		*img = gocv.Mat{}
	}
}
