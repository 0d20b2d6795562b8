package pos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
)

// Defaults for CorrelatorConfig.
const (
	DefaultBefore  = 20 * time.Second
	DefaultAfter   = 5 * time.Second
	DefaultMaxGap  = 2 * time.Second
	DefaultMaxWait = 2 * time.Minute
	DefaultQueue   = 1024
)

const (
	// RuleNoCustomer is the rule name of the alerts the correlator raises.
	RuleNoCustomer = "no_customer"

	// The correlator de-duplicates transactions it saw within
	// dedupWindow (transaction time), remembering at most dedupMax: a POS
	// retry or a Kafka re-delivery comes within minutes, not days.
	dedupWindow = 48 * time.Hour
	dedupMax    = 100_000
	// pollEvery is how often waiting transactions look at the video again.
	pollEvery = 100 * time.Millisecond
	// pendingPerQueue bounds the waiting transactions at this many times
	// Queue; beyond it the oldest is decided at once (usually no_video).
	pendingPerQueue = 16
)

// ErrCorrelatorStopped is returned by Handle once Run has returned.
var ErrCorrelatorStopped = errors.New("pos: correlator stopped")

// AlertRaiser takes alerts decided outside the rules engine:
// *alerts.Manager.
type AlertRaiser interface {
	Raise(a alerts.Alert, img gocv.Mat, marks []evidence.Mark)
}

// EventPublisher takes finished events: the Kafka sink.
type EventPublisher interface {
	Publish(e events.Envelope) error
}

// CorrelatorConfig configures a Correlator.
type CorrelatorConfig struct {
	// Store is the store the registers are in; transactions of other
	// stores are ignored (counted in OtherStore).
	Store events.Store
	// Presence is the registers' video history. Required.
	Presence *Presence
	// Registers are the registers to check; each must be known to
	// Presence with the same camera. Empty means all of Presence's.
	Registers []Register
	// ClockOffset is added to POS time to get camera time, for registers
	// without their own.
	ClockOffset time.Duration
	// Before and After bound the window of video checked around the
	// transaction's camera time; 0 means DefaultBefore, DefaultAfter.
	Before, After time.Duration
	// MaxGap is the longest time between analysed frames (and between the
	// window's ends and its first and last frame) for the video to count
	// as covering the window; 0 means DefaultMaxGap. With motion gating
	// it must exceed the camera's still refresh.
	MaxGap time.Duration
	// MaxWait is the wall time a transaction waits for its video before
	// being decided with what there is (usually no_video); 0 means
	// DefaultMaxWait.
	MaxWait time.Duration
	// Checked are the transaction types checked; nil means refund, void
	// and no_sale.
	Checked []Type
	// RefundTenders are the tenders with which refunds are checked; nil
	// means cash only (a card refund goes back to the card, not into a
	// pocket).
	RefundTenders []Tender
	// Level is the level of no_customer alerts; 0 means
	// alerts.LevelProperty.
	Level alerts.Level
	// Alerts receives no_customer alerts; nil publishes checks only.
	Alerts AlertRaiser
	// Pub receives the pos_check events. Required.
	Pub EventPublisher
	// Queue bounds the transactions waiting between Handle and Run; 0
	// means DefaultQueue.
	Queue int
	Log   *slog.Logger
}

// CorrelatorStats counts what a Correlator did since it was made.
type CorrelatorStats struct {
	Received        int64 `json:"received"`         // transactions given to Handle
	OtherStore      int64 `json:"other_store"`      // ignored: another store's
	Duplicates      int64 `json:"duplicates"`       // ignored: seen before
	UnknownRegister int64 `json:"unknown_register"` // ignored: no camera watches the register
	Checked         int64 `json:"checked"`          // checks decided (one pos_check event each)
	NoCustomer      int64 `json:"no_customer"`
	CustomerPresent int64 `json:"customer_present"`
	NoVideo         int64 `json:"no_video"`
	Pending         int64 `json:"pending"`      // checks waiting for their video
	OffsetSales     int64 `json:"offset_sales"` // sales that fed the offset estimate
}

// Correlator checks register transactions against the video of the
// register's customer zone: a cash refund, void or drawer opening with
// nobody at the counter raises a no_customer alert. Every checked
// transaction gets one pos_check event, whatever the verdict. Sales are
// not checked; they feed the clock offset estimate (Offset).
//
// Handle (a Handler for the POS consumer) only queues; one goroutine
// (Run) owns everything else. A transaction waits until the video has
// passed its window (or the camera ended, or MaxWait), so a POS message
// that arrives before its video is checked as well as one that arrives
// minutes late, as long as Presence still has the history.
type Correlator struct {
	cfg     CorrelatorConfig
	log     *slog.Logger
	regs    map[string]*Register
	checked map[Type]bool
	tenders map[Tender]bool

	in       chan Transaction
	stopping chan struct{} // closed when Run stops taking transactions
	running  atomic.Bool
	// mu orders Handle against the end of Run, as in alerts.Manager:
	// senders hold it shared; Run takes it to mark closed, after which
	// nothing can enter the queue it drains.
	mu     sync.RWMutex
	closed bool

	offset offsetEstimate
	stats  struct {
		received, otherStore, duplicates, unknown, checked atomic.Int64
		noCustomer, present, noVideo, pending, sales       atomic.Int64
	}

	// Owned by Run's goroutine.
	dedup   *Dedup
	unknown map[string]bool // unknown registers already logged
	checks  []*pendingCheck
	sales   []*pendingSale
}

// pendingCheck is a checked transaction waiting for its video.
type pendingCheck struct {
	t        Transaction
	reg      *Register
	offset   time.Duration
	ct       time.Time // camera time
	from, to time.Time
	arrived  time.Time // wall
}

// pendingSale is a sale waiting for the video around it.
type pendingSale struct {
	t        Transaction
	reg      *Register
	offset   time.Duration
	from, to time.Time
	arrived  time.Time
}

// NewCorrelator checks cfg and applies the defaults.
func NewCorrelator(cfg CorrelatorConfig) (*Correlator, error) {
	switch {
	case cfg.Store.ID == "":
		return nil, errors.New("pos: new correlator: empty store id")
	case cfg.Presence == nil:
		return nil, errors.New("pos: new correlator: nil presence")
	case cfg.Pub == nil:
		return nil, errors.New("pos: new correlator: nil publisher")
	case cfg.Before < 0 || cfg.After < 0 || cfg.MaxGap < 0 || cfg.MaxWait < 0 || cfg.Queue < 0:
		return nil, errors.New("pos: new correlator: negative before, after, max gap, max wait or queue")
	case !cfg.Level.Valid():
		return nil, fmt.Errorf("pos: new correlator: alert level %d out of range 0-4", int(cfg.Level))
	}
	if cfg.Registers == nil {
		for _, ref := range cfg.Presence.regs {
			cfg.Registers = append(cfg.Registers, ref.reg)
		}
		slices.SortFunc(cfg.Registers, func(a, b Register) int { return strings.Compare(a.ID, b.ID) })
	}
	if err := validateRegisters(cfg.Registers); err != nil {
		return nil, fmt.Errorf("pos: new correlator: %w", err)
	}
	cfg.Before = cmpOr(cfg.Before, DefaultBefore)
	cfg.After = cmpOr(cfg.After, DefaultAfter)
	cfg.MaxGap = cmpOr(cfg.MaxGap, DefaultMaxGap)
	cfg.MaxWait = cmpOr(cfg.MaxWait, DefaultMaxWait)
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Level == 0 {
		cfg.Level = alerts.LevelProperty
	}
	if cfg.Checked == nil {
		cfg.Checked = []Type{TypeRefund, TypeVoid, TypeNoSale}
	}
	if cfg.RefundTenders == nil {
		cfg.RefundTenders = []Tender{TenderCash}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Correlator{
		cfg:      cfg,
		log:      cfg.Log,
		regs:     make(map[string]*Register, len(cfg.Registers)),
		checked:  make(map[Type]bool),
		tenders:  make(map[Tender]bool),
		in:       make(chan Transaction, cfg.Queue),
		stopping: make(chan struct{}),
		dedup:    NewDedup(dedupWindow, dedupMax),
		unknown:  make(map[string]bool),
	}
	for i := range cfg.Registers {
		r := cfg.Registers[i]
		known, ok := cfg.Presence.register(r.ID)
		if !ok {
			return nil, fmt.Errorf("pos: new correlator: register %q is not watched by the presence", r.ID)
		}
		if known.Camera != r.Camera {
			return nil, fmt.Errorf("pos: new correlator: register %q: camera %q, but the presence watches it on %q", r.ID, r.Camera, known.Camera)
		}
		c.regs[r.ID] = &r
	}
	for _, t := range cfg.Checked {
		c.checked[t] = true
	}
	for _, t := range cfg.RefundTenders {
		c.tenders[t] = true
	}
	return c, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Handle queues t for Run. It waits while the queue is full; it returns
// ctx's error if ctx ends first, and ErrCorrelatorStopped once Run has
// returned (the consumer then retries and does not commit).
func (c *Correlator) Handle(ctx context.Context, t Transaction, _ Meta) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrCorrelatorStopped
	}
	select {
	case c.in <- t:
		c.stats.received.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stopping:
		return ErrCorrelatorStopped
	}
}

// Run takes the queued transactions and decides each check once its
// video is in (or the camera ended, or MaxWait passed), until ctx is done.
// Then it takes what is still queued, decides every waiting check with
// the video there is (no_video where it does not cover the window) and
// returns nil. Run may be called once.
func (c *Correlator) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("pos: correlator already running")
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case t := <-c.in:
			c.take(t, time.Now())
		case <-tick.C:
			c.poll(time.Now(), false)
		case <-ctx.Done():
			close(c.stopping)
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
			for drained := false; !drained; {
				select {
				case t := <-c.in:
					c.take(t, time.Now())
				default:
					drained = true
				}
			}
			c.poll(time.Now(), true)
			return nil
		}
	}
}

// take sorts one transaction: ignored, waiting for a check, or waiting to
// feed the offset estimate.
func (c *Correlator) take(t Transaction, now time.Time) {
	if t.Store != c.cfg.Store.ID {
		c.stats.otherStore.Add(1)
		return
	}
	if c.dedup.Seen(t.Key(), t.Timestamp) {
		c.stats.duplicates.Add(1)
		c.log.Debug("pos: duplicate transaction ignored", "transaction", t.ID, "type", t.Type)
		return
	}
	reg := c.regs[t.Register]
	if reg == nil {
		c.stats.unknown.Add(1)
		if !c.unknown[t.Register] && len(c.unknown) < dedupMax {
			c.unknown[t.Register] = true
			c.log.Warn("pos: transactions of a register no camera watches are not checked", "register", t.Register)
		}
		return
	}
	off := c.offsetOf(reg)
	switch {
	case c.isChecked(t):
		ct := t.Timestamp.Add(off).UTC()
		pc := &pendingCheck{t: t, reg: reg, offset: off, ct: ct, from: ct.Add(-c.cfg.Before), to: ct.Add(c.cfg.After), arrived: now}
		if c.videoPassed(reg.Camera, pc.to) {
			c.decide(pc) // a late transaction: its video is in the history already
			return
		}
		if len(c.checks) >= pendingPerQueue*c.cfg.Queue {
			c.decide(c.checks[0])
			c.checks[0] = nil
			c.checks = c.checks[1:]
		}
		c.checks = append(c.checks, pc)
		c.stats.pending.Store(int64(len(c.checks)))
	case t.Type == TypeSale:
		ts := t.Timestamp.UTC()
		ps := &pendingSale{t: t, reg: reg, offset: off,
			from:    ts.Add(min(-offsetRange, off) - offsetTolerance),
			to:      ts.Add(max(offsetRange, off) + offsetTolerance),
			arrived: now}
		if c.videoPassed(reg.Camera, ps.to) {
			c.sample(ps)
			return
		}
		if len(c.sales) >= pendingPerQueue*c.cfg.Queue {
			c.sales[0] = nil
			c.sales = c.sales[1:]
		}
		c.sales = append(c.sales, ps)
	}
}

func (c *Correlator) offsetOf(r *Register) time.Duration {
	if r.ClockOffset != 0 {
		return r.ClockOffset
	}
	return c.cfg.ClockOffset
}

func (c *Correlator) isChecked(t Transaction) bool {
	if !c.checked[t.Type] {
		return false
	}
	return t.Type != TypeRefund || c.tenders[t.Tender]
}

// videoPassed reports whether the camera's video is in up to to, or will
// not come any more.
func (c *Correlator) videoPassed(camera string, to time.Time) bool {
	latest, ended := c.cfg.Presence.Latest(camera)
	return ended || !latest.Before(to)
}

// poll decides the waiting checks whose video is in, or that waited
// MaxWait; with final, all of them.
func (c *Correlator) poll(now time.Time, final bool) {
	type seen struct {
		latest time.Time
		ended  bool
	}
	cams := map[string]seen{}
	ready := func(camera string, to, arrived time.Time) bool {
		s, ok := cams[camera]
		if !ok {
			s.latest, s.ended = c.cfg.Presence.Latest(camera)
			cams[camera] = s
		}
		return final || s.ended || !s.latest.Before(to) || now.Sub(arrived) >= c.cfg.MaxWait
	}
	keep := c.checks[:0]
	for _, pc := range c.checks {
		if ready(pc.reg.Camera, pc.to, pc.arrived) {
			c.decide(pc)
		} else {
			keep = append(keep, pc)
		}
	}
	clear(c.checks[len(keep):])
	c.checks = keep
	c.stats.pending.Store(int64(len(c.checks)))

	keepSales := c.sales[:0]
	for _, ps := range c.sales {
		if ready(ps.reg.Camera, ps.to, ps.arrived) {
			c.sample(ps)
		} else {
			keepSales = append(keepSales, ps)
		}
	}
	clear(c.sales[len(keepSales):])
	c.sales = keepSales
}

// covers reports whether w's frames cover its span: frames exist, the
// first within maxGap of the start, the last within maxGap of the end (or,
// when the stream ended, at least up to must), and no gap between frames
// longer than maxGap.
func covers(w Window, maxGap time.Duration, must time.Time) bool {
	if w.Frames == 0 || w.MaxGap > maxGap || w.First.After(w.From.Add(maxGap)) {
		return false
	}
	if !w.Last.Before(w.To.Add(-maxGap)) {
		return true
	}
	// A stream that ended (a file) shortly after the transaction still
	// shows the transaction itself, which is what matters.
	return w.Ended && !w.Last.Before(must.Add(-maxGap))
}

// decide checks one transaction against its window, raises the alert if
// nobody was at the counter and publishes the check.
func (c *Correlator) decide(pc *pendingCheck) {
	t, reg := pc.t, pc.reg
	w, err := c.cfg.Presence.Window(reg.ID, pc.from, pc.to)
	if err != nil { // registers were checked against the presence in NewCorrelator
		c.log.Error("pos: check transaction", "transaction", t.ID, "err", err)
		return
	}
	chk := Check{
		TransactionID:      t.ID,
		Register:           reg.ID,
		Cashier:            t.Cashier,
		Type:               t.Type,
		Tender:             t.Tender,
		Amount:             t.Amount,
		Currency:           t.Currency,
		POSTime:            t.Timestamp,
		CameraTime:         pc.ct,
		ClockOffsetSeconds: pc.offset.Seconds(),
		WindowStart:        pc.from,
		WindowEnd:          pc.to,
		Frames:             w.Frames,
		CustomerMax:        w.CustomerMax,
		CustomerFrames:     w.CustomerFrames,
		CustomerTracks:     w.CustomerTracks,
		StaffMax:           w.StaffMax,
	}
	switch {
	case !covers(w, c.cfg.MaxGap, pc.ct):
		chk.Verdict = VerdictNoVideo
		c.stats.noVideo.Add(1)
	case w.CustomerFrames == 0:
		chk.Verdict = VerdictNoCustomer
		c.stats.noCustomer.Add(1)
		if c.cfg.Alerts != nil {
			chk.AlertID = c.raise(t, reg, pc.ct, w)
		}
	default:
		chk.Verdict = VerdictCustomerPresent
		c.stats.present.Add(1)
	}
	c.stats.checked.Add(1)
	log := c.log.With("transaction", t.ID, "type", t.Type, "register", reg.ID, "camera_time", pc.ct, "verdict", chk.Verdict)
	e, err := CheckEvent(c.cfg.Store, reg.Camera, chk)
	if err == nil {
		err = c.cfg.Pub.Publish(e)
	}
	if err != nil {
		log.Error("pos: publish check", "err", err)
		return
	}
	log.Debug("pos: transaction checked", "frames", w.Frames, "first", w.First, "last", w.Last, "max_gap", w.MaxGap, "customer_frames", w.CustomerFrames)
}

// raise hands the manager a no_customer alert about one moment: raised
// with the picture nearest the transaction, then resolved at once.
func (c *Correlator) raise(t Transaction, reg *Register, ct time.Time, w Window) string {
	id := events.ID("alert", c.cfg.Store.ID, RuleNoCustomer, reg.ID, t.ID, string(t.Type))
	img, _, frame, marks, _ := c.cfg.Presence.snapshot(reg.ID, ct)
	ref := t.Ref()
	a := alerts.Alert{
		ID:      id,
		Rule:    RuleNoCustomer,
		Kind:    alerts.KindNoCustomer,
		Camera:  reg.Camera,
		Zone:    "register:" + reg.ID,
		Level:   c.cfg.Level,
		State:   alerts.StateRaised,
		Started: ct,
		Time:    ct,
		Class:   "person",
		Frame:   frame,
		Value:   w.Last.Sub(w.First).Seconds(),
		Message: noCustomerMessage(t),
		POS:     &ref,
	}
	c.cfg.Alerts.Raise(a, img, marks)
	a.State, a.Ended = alerts.StateResolved, ct
	c.cfg.Alerts.Raise(a, gocv.Mat{}, nil)
	return id
}

// noCustomerMessage is the alert's sentence, e.g. "Cash refund 49.90 EUR
// at register r1 (cashier c7) with no customer at the counter".
func noCustomerMessage(t Transaction) string {
	amount := moneyText(t.Amount) + " " + t.Currency
	var what string
	switch t.Type {
	case TypeRefund:
		what = "Refund " + amount
		if t.Tender != "" {
			what = capitalise(string(t.Tender)) + " refund " + amount
		}
	case TypeVoid:
		what = "Void of " + amount
	case TypeNoSale:
		what = "Drawer opened without a sale"
	case TypePartialCancel:
		what = "Partial cancel of " + amount
	default:
		what = capitalise(strings.ReplaceAll(string(t.Type), "_", " ")) + " " + amount
	}
	return fmt.Sprintf("%s at register %s (cashier %s) with no customer at the counter", what, t.Register, t.Cashier)
}

// moneyText writes an amount with at least two decimals, as receipts do.
func moneyText(m Money) string {
	s := m.String()
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sample feeds one sale's video to the offset estimate, if the video
// covers the whole span of candidate offsets.
func (c *Correlator) sample(ps *pendingSale) {
	w, err := c.cfg.Presence.Window(ps.reg.ID, ps.from, ps.to)
	if err != nil || !covers(w, c.cfg.MaxGap, ps.to) {
		return
	}
	var s offsetSample
	ts := ps.t.Timestamp.UnixNano()
	err = c.cfg.Presence.customerFrames(ps.reg.ID, ps.from, ps.to, func(ft int64) {
		s.mark(time.Duration(ft-ts), ps.offset)
	})
	if err != nil {
		return
	}
	c.offset.add(s)
	c.stats.sales.Add(1)
}

// Stats returns the counters.
func (c *Correlator) Stats() CorrelatorStats {
	return CorrelatorStats{
		Received:        c.stats.received.Load(),
		OtherStore:      c.stats.otherStore.Load(),
		Duplicates:      c.stats.duplicates.Load(),
		UnknownRegister: c.stats.unknown.Load(),
		Checked:         c.stats.checked.Load(),
		NoCustomer:      c.stats.noCustomer.Load(),
		CustomerPresent: c.stats.present.Load(),
		NoVideo:         c.stats.noVideo.Load(),
		Pending:         c.stats.pending.Load(),
		OffsetSales:     c.stats.sales.Load(),
	}
}

// Offset returns the video-based estimate of the POS clock offset.
func (c *Correlator) Offset() OffsetReport { return c.offset.report() }
