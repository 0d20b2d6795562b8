package pos

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/tracker"
)

// posZone is the POS's own UTC offset: pos_time must keep it.
var posZone = time.FixedZone("CET", 3600)

// correlatorRig runs a real alerts.Manager (snapshots in a temp dir) and a
// Correlator over a Presence fed with synthetic frames; every event goes
// to one pubRecorder.
type correlatorRig struct {
	t       *testing.T
	p       *Presence
	c       *Correlator
	m       *alerts.Manager
	pub     *pubRecorder
	snapDir string
	stop    func() // stops the correlator, then the manager
	runErr  error
}

func newCorrelatorRig(t *testing.T, edit func(*CorrelatorConfig)) *correlatorRig {
	t.Helper()
	r := &correlatorRig{t: t, p: newTestPresence(t, 0, time.Second), pub: newPubRecorder(), snapDir: t.TempDir()}
	snaps, err := evidence.OpenSnapshots(evidence.SnapshotConfig{Dir: r.snapDir, Log: silentLog()})
	if err != nil {
		t.Fatal(err)
	}
	r.m, err = alerts.NewManager(alerts.ManagerConfig{Store: events.Store{ID: camStore, Region: "north"},
		PublicURL: "http://10.0.0.5:9100", Snapshots: snaps, Pub: r.pub, Log: silentLog()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := CorrelatorConfig{Store: events.Store{ID: camStore, Region: "north"}, Presence: r.p,
		Alerts: r.m, Pub: r.pub, Log: silentLog()}
	if edit != nil {
		edit(&cfg)
	}
	r.c, err = NewCorrelator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithCancel(context.Background())
	cctx, ccancel := context.WithCancel(context.Background())
	mdone, cdone := make(chan error, 1), make(chan error, 1)
	go func() { mdone <- r.m.Run(mctx) }()
	go func() { cdone <- r.c.Run(cctx) }()
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		ccancel()
		r.runErr = <-cdone
		mcancel()
		if err := <-mdone; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	t.Cleanup(r.stop)
	return r
}

func (r *correlatorRig) handle(txs ...Transaction) {
	r.t.Helper()
	for _, tx := range txs {
		if err := r.c.Handle(context.Background(), tx, Meta{Source: "kafka"}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// checks waits for n pos_check events and returns them decoded, by
// transaction id.
func (r *correlatorRig) checks(n int) map[string]Check {
	r.t.Helper()
	waitUntil(r.t, "pos_check events", func() bool { return len(r.pub.events(events.TypePOSCheck)) >= n })
	out := map[string]Check{}
	for _, e := range r.pub.events(events.TypePOSCheck) {
		raw, err := json.Marshal(e)
		if err != nil {
			r.t.Fatal(err)
		}
		if err := events.CheckSchemas(raw); err != nil {
			r.t.Errorf("pos_check event violates its schema: %v\n%s", err, raw)
		}
		var c Check
		if err := json.Unmarshal(e.Data, &c); err != nil {
			r.t.Fatal(err)
		}
		if e.ID != CheckID(camStore, c.Register, c.TransactionID, c.Type) || e.Camera == "" || !e.Time.Equal(c.CameraTime) {
			r.t.Errorf("check envelope %s camera %q time %v does not match its data %+v", e.ID, e.Camera, e.Time, c)
		}
		if _, dup := out[c.TransactionID]; dup {
			r.t.Errorf("transaction %s checked twice", c.TransactionID)
		}
		out[c.TransactionID] = c
	}
	if len(out) != n {
		r.t.Errorf("%d transactions checked, want %d", len(out), n)
	}
	return out
}

// alertSteps returns the alert events, schema-checked.
func (r *correlatorRig) alertSteps() []alerts.Alert {
	r.t.Helper()
	var out []alerts.Alert
	for _, e := range r.pub.events(events.TypeAlert) {
		raw, _ := json.Marshal(e)
		if err := events.CheckSchemas(raw); err != nil {
			r.t.Errorf("alert event violates its schema: %v\n%s", err, raw)
		}
		var a alerts.Alert
		if err := json.Unmarshal(e.Data, &a); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func posTx(id string, typ Type, tender Tender, amount string, posTime time.Time) Transaction {
	m, err := ParseMoney(amount)
	if err != nil {
		panic(err)
	}
	return Transaction{Store: camStore, Region: "north", Register: "r1", Cashier: "c7", ID: id, Type: typ,
		Amount: m, Currency: "EUR", Tender: tender, Timestamp: posTime.In(posZone)}
}

func onRegister(t Transaction, reg string) Transaction { t.Register = reg; return t }

// counterVideo is cam-1 from 0 to 120 s at 10 fps: the cashier (track 2)
// always at r1's staff side, a customer (track 1) at r1's counter from
// 30 s to 50 s, a customer (track 3) always at r2's, and no frames from 90
// to 95 s (the camera froze).
func counterVideo(t *testing.T, p *Presence) {
	v := &synthVideo{p: p, cam: "cam-1", img: frameImage(t)}
	people := func(at time.Time) []tracker.Track {
		tr := []tracker.Track{atR1Staff(2), atR2Customer(3)}
		if d := at.Sub(vt0); d >= 30*time.Second && d < 50*time.Second {
			tr = append(tr, atR1Customer(1))
		}
		return tr
	}
	v.play(vt0, vt0.Add(90*time.Second), 100*time.Millisecond, people)
	v.play(vt0.Add(95*time.Second), vt0.Add(120*time.Second), 100*time.Millisecond, people)
}

// A cash refund with nobody at the counter: a pos_check with verdict
// no_customer and a no_customer alert, raised then resolved, carrying the
// POS reference and a snapshot. The refund arrives before its video:
// it waits for it.
func TestCorrelatorNoCustomerRefundRaisesAlert(t *testing.T) {
	r := newCorrelatorRig(t, nil)
	refund := posTx("T-1001", TypeRefund, TenderCash, "49.90", vt0.Add(20*time.Second))
	r.handle(refund)
	waitUntil(t, "the refund to wait for its video", func() bool { return r.c.Stats().Pending == 1 })
	if n := len(r.pub.events(events.TypePOSCheck)); n != 0 {
		t.Fatalf("checked before the video came: %d events", n)
	}
	counterVideo(t, r.p)
	c := r.checks(1)["T-1001"]

	ct := vt0.Add(20 * time.Second)
	alertID := events.ID("alert", camStore, "no_customer", "r1", "T-1001", "refund")
	if c.Verdict != VerdictNoCustomer || c.AlertID != alertID || c.Frames != 251 || c.CustomerFrames != 0 || c.CustomerMax != 0 ||
		len(c.CustomerTracks) != 0 || c.StaffMax != 1 || c.Cashier != "c7" || c.Amount.String() != "49.9" || c.Tender != TenderCash ||
		!c.CameraTime.Equal(ct) || !c.WindowStart.Equal(vt0) || !c.WindowEnd.Equal(ct.Add(5*time.Second)) || c.ClockOffsetSeconds != 0 {
		t.Errorf("check = %+v", c)
	}
	e := r.pub.events(events.TypePOSCheck)[0]
	if e.Camera != "cam-1" || e.Store.Region != "north" || !strings.Contains(string(e.Data), `"pos_time":"2026-11-16T10:00:20+01:00"`) {
		t.Errorf("envelope camera %q store %+v, data %s: want cam-1, region north, pos_time with the POS's offset", e.Camera, e.Store, e.Data)
	}

	waitUntil(t, "the alert's two steps", func() bool { return len(r.pub.events(events.TypeAlert)) >= 2 })
	steps := r.alertSteps()
	if len(steps) != 2 || steps[0].State != alerts.StateRaised || steps[1].State != alerts.StateResolved {
		t.Fatalf("alert steps %+v, want raised then resolved", steps)
	}
	raised, resolved := steps[0], steps[1]
	wantPOS := alerts.POSRef{TransactionID: "T-1001", Register: "r1", Cashier: "c7", Type: "refund", Tender: "cash",
		Amount: "49.9", Currency: "EUR", POSTime: ct}
	if raised.ID != alertID || raised.Kind != alerts.KindNoCustomer || raised.Rule != "no_customer" || raised.Camera != "cam-1" ||
		raised.Zone != "register:r1" || raised.Level != alerts.LevelProperty || !raised.Started.Equal(ct) || !raised.Time.Equal(ct) ||
		raised.POS == nil || !posRefEqual(*raised.POS, wantPOS) || raised.Value != 25 ||
		raised.Message != "Cash refund 49.90 EUR at register r1 (cashier c7) with no customer at the counter" {
		t.Errorf("raised step = %+v (POS %+v)", raised, raised.POS)
	}
	if raised.Snapshot != "http://10.0.0.5:9100/snapshots/"+alertID+".jpg" {
		t.Errorf("snapshot link %q", raised.Snapshot)
	}
	if fi, err := os.Stat(filepath.Join(r.snapDir, alertID+".jpg")); err != nil || fi.Size() == 0 {
		t.Errorf("snapshot file: %v", err)
	}
	if resolved.ID != alertID || !resolved.Ended.Equal(ct) || resolved.Snapshot != raised.Snapshot || resolved.POS == nil {
		t.Errorf("resolved step = %+v", resolved)
	}
	if len(r.m.Active()) != 0 {
		t.Error("the alert about one moment is still active")
	}
	st := r.c.Stats()
	if st.Received != 1 || st.Checked != 1 || st.NoCustomer != 1 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func posRefEqual(a, b alerts.POSRef) bool {
	ta, tb := a.POSTime, b.POSTime
	a.POSTime, b.POSTime = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb)
}

// Transactions that arrive after their video went by are checked from the
// history; each kind of transaction gets the treatment it should.
func TestCorrelatorVerdictsFromHistory(t *testing.T) {
	r := newCorrelatorRig(t, func(c *CorrelatorConfig) {
		c.ClockOffset = 2 * time.Second
		c.Registers = testRegisters()
		c.Registers[1].ClockOffset = -3 * time.Second // r2's own clock
	})
	counterVideo(t, r.p)
	at := func(s float64, off time.Duration) time.Time { // POS time of camera time s
		return vt0.Add(time.Duration(s*float64(time.Second)) - off)
	}
	const off = 2 * time.Second
	noCustomer := posTx("T-1", TypeRefund, TenderCash, "12.50", at(20, off))
	r.handle(
		noCustomer,
		posTx("T-2", TypeVoid, "", "30", at(45, off)),                               // customer 1 there: present
		posTx("T-3", TypeRefund, TenderCash, "5", at(100, off)),                     // the camera froze 90-95 s: no video
		posTx("T-4", TypeNoSale, "", "0", at(-3600, off)),                           // an hour before the video: no video
		onRegister(posTx("T-5", TypeNoSale, "", "0", at(20, -3*time.Second)), "r2"), // r2's customer: present
		posTx("T-6", TypeRefund, TenderCard, "80", at(20, off)),                     // card refunds are not checked
		posTx("T-7", TypeSale, TenderCash, "80", at(20, off)),                       // sales are not checked
		posTx("T-8", TypePartialCancel, "", "3", at(20, off)),                       // not checked by default
		noCustomer, // re-delivered: once
		onRegister(posTx("T-9", TypeRefund, TenderCash, "1", at(20, off)), "r9"), // no camera on r9
		func() Transaction { o := noCustomer; o.Store = "store-8"; o.ID = "T-10"; return o }(),
	)
	got := r.checks(5)
	want := map[string]struct {
		v      Verdict
		tracks []uint64
	}{
		"T-1": {VerdictNoCustomer, nil}, "T-2": {VerdictCustomerPresent, []uint64{1}}, "T-3": {VerdictNoVideo, nil},
		"T-4": {VerdictNoVideo, nil}, "T-5": {VerdictCustomerPresent, []uint64{3}},
	}
	for id, w := range want {
		c, ok := got[id]
		if !ok {
			t.Errorf("%s not checked", id)
			continue
		}
		if c.Verdict != w.v || !slices.Equal(c.CustomerTracks, w.tracks) {
			t.Errorf("%s: verdict %s tracks %v, want %s %v", id, c.Verdict, c.CustomerTracks, w.v, w.tracks)
		}
		if (c.AlertID != "") != (w.v == VerdictNoCustomer) {
			t.Errorf("%s: alert id %q with verdict %s", id, c.AlertID, c.Verdict)
		}
	}
	if c := got["T-5"]; c.ClockOffsetSeconds != -3 || !c.CameraTime.Equal(vt0.Add(20*time.Second)) || c.StaffMax != 0 {
		t.Errorf("r2's own offset: %+v", c)
	}
	if c := got["T-1"]; c.ClockOffsetSeconds != 2 || !c.CameraTime.Equal(vt0.Add(20*time.Second)) {
		t.Errorf("default offset: %+v", c)
	}
	if c := got["T-4"]; c.Frames != 0 {
		t.Errorf("T-4 had %d frames", c.Frames)
	}
	if c := got["T-3"]; c.Frames == 0 {
		t.Error("T-3 had no frames at all; the test wants a window with a hole")
	}
	waitUntil(t, "the alert's two steps", func() bool { return len(r.pub.events(events.TypeAlert)) >= 2 })
	r.stop()
	if n := len(r.alertSteps()); n != 2 {
		t.Errorf("%d alert steps, want 2 (one alert, raised and resolved)", n)
	}
	st := r.c.Stats()
	want2 := CorrelatorStats{Received: 11, OtherStore: 1, Duplicates: 1, UnknownRegister: 1, Checked: 5, NoCustomer: 1,
		CustomerPresent: 2, NoVideo: 2, OffsetSales: 0}
	if st != want2 {
		t.Errorf("stats\n got %+v\nwant %+v", st, want2)
	}
}

// Video that never comes: after MaxWait the check is decided no_video,
// and never alerts.
func TestCorrelatorNoVideoAfterMaxWait(t *testing.T) {
	r := newCorrelatorRig(t, func(c *CorrelatorConfig) { c.MaxWait = 50 * time.Millisecond })
	r.handle(onRegister(posTx("T-1", TypeRefund, TenderCash, "9.99", vt0), "r3"))
	c := r.checks(1)["T-1"]
	if c.Verdict != VerdictNoVideo || c.Frames != 0 || c.AlertID != "" {
		t.Errorf("check = %+v", c)
	}
	if n := len(r.pub.events(events.TypeAlert)); n != 0 {
		t.Errorf("%d alert events without video", n)
	}
}

// A stream that ended (a file) shortly after the transaction: decided at
// once from what there is.
func TestCorrelatorCameraEnded(t *testing.T) {
	r := newCorrelatorRig(t, nil)
	v := &synthVideo{p: r.p, cam: "cam-1", img: frameImage(t)}
	v.play(vt0, vt0.Add(22*time.Second), 100*time.Millisecond, func(time.Time) []tracker.Track {
		return []tracker.Track{atR1Staff(2)}
	})
	r.handle(posTx("T-1", TypeVoid, "", "15", vt0.Add(20*time.Second)), posTx("T-2", TypeVoid, "", "15", vt0.Add(60*time.Second)))
	waitUntil(t, "both voids to wait", func() bool { return r.c.Stats().Pending == 2 })
	v.end()
	got := r.checks(2)
	if c := got["T-1"]; c.Verdict != VerdictNoCustomer || c.Frames != 220 {
		t.Errorf("void shortly before the end: %+v", c)
	}
	if c := got["T-2"]; c.Verdict != VerdictNoVideo {
		t.Errorf("void after the end: %+v", c)
	}
}

// On shutdown every waiting check is decided with the video there is.
func TestCorrelatorShutdownDecidesPending(t *testing.T) {
	r := newCorrelatorRig(t, nil)
	counterVideo(t, r.p)
	r.handle(posTx("T-1", TypeRefund, TenderCash, "5", vt0.Add(118*time.Second)), posTx("T-2", TypeVoid, "", "15", vt0.Add(40*time.Second)))
	r.checks(1) // T-2, from history
	waitUntil(t, "T-1 to wait", func() bool { return r.c.Stats().Pending == 1 })
	r.stop()
	if r.runErr != nil {
		t.Errorf("Run: %v", r.runErr)
	}
	got := r.checks(2)
	if got["T-1"].Verdict != VerdictNoVideo || got["T-2"].Verdict != VerdictCustomerPresent {
		t.Errorf("verdicts: T-1 %s, T-2 %s", got["T-1"].Verdict, got["T-2"].Verdict)
	}
	if err := r.c.Handle(context.Background(), posTx("T-3", TypeVoid, "", "1", vt0), Meta{}); !errors.Is(err, ErrCorrelatorStopped) {
		t.Errorf("Handle after Run: %v, want ErrCorrelatorStopped", err)
	}
}

// Handle waits while the queue is full and gives up with its context.
func TestCorrelatorHandleWaitsWhileFull(t *testing.T) {
	p := newTestPresence(t, 0, 0)
	c, err := NewCorrelator(CorrelatorConfig{Store: events.Store{ID: camStore}, Presence: p, Pub: newPubRecorder(), Queue: 1, Log: silentLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Handle(context.Background(), posTx("T-1", TypeVoid, "", "1", vt0), Meta{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Handle(ctx, posTx("T-2", TypeVoid, "", "1", vt0), Meta{}) }()
	select {
	case err := <-done:
		t.Fatalf("Handle on a full queue returned %v instead of waiting", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Handle after cancel: %v", err)
	}
	if st := c.Stats(); st.Received != 1 {
		t.Errorf("received %d, want 1", st.Received)
	}
}

func TestNewCorrelatorRejectsBadConfig(t *testing.T) {
	p := newTestPresence(t, 0, 0)
	base := func() CorrelatorConfig {
		return CorrelatorConfig{Store: events.Store{ID: camStore}, Presence: p, Pub: newPubRecorder()}
	}
	cases := map[string]struct {
		edit func(*CorrelatorConfig)
		want string
	}{
		"no store":     {func(c *CorrelatorConfig) { c.Store.ID = "" }, "store"},
		"no presence":  {func(c *CorrelatorConfig) { c.Presence = nil }, "presence"},
		"no publisher": {func(c *CorrelatorConfig) { c.Pub = nil }, "publisher"},
		"negative":     {func(c *CorrelatorConfig) { c.MaxGap = -time.Second }, "negative"},
		"bad level":    {func(c *CorrelatorConfig) { c.Level = 9 }, "level"},
		"unwatched": {func(c *CorrelatorConfig) {
			c.Registers = []Register{{ID: "r9", Camera: "cam-1", CustomerZone: zoneRect(0, 0, 1, 1)}}
		}, "not watched"},
		"another camera": {func(c *CorrelatorConfig) {
			c.Registers = []Register{{ID: "r1", Camera: "cam-2", CustomerZone: zoneRect(0, 0, 1, 1)}}
		}, "camera"},
	}
	for name, tc := range cases {
		cfg := base()
		tc.edit(&cfg)
		if _, err := NewCorrelator(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, tc.want)
		}
	}
	if _, err := NewCorrelator(base()); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestNoCustomerMessage(t *testing.T) {
	for _, c := range []struct {
		t    Transaction
		want string
	}{
		{posTx("1", TypeRefund, TenderCash, "49.9", vt0), "Cash refund 49.90 EUR at register r1 (cashier c7) with no customer at the counter"},
		{posTx("1", TypeRefund, TenderVoucher, "5", vt0), "Voucher refund 5.00 EUR at register r1 (cashier c7) with no customer at the counter"},
		{posTx("1", TypeVoid, "", "1234.567", vt0), "Void of 1234.567 EUR at register r1 (cashier c7) with no customer at the counter"},
		{posTx("1", TypeNoSale, "", "0", vt0), "Drawer opened without a sale at register r1 (cashier c7) with no customer at the counter"},
		{posTx("1", TypePartialCancel, "", "2.5", vt0), "Partial cancel of 2.50 EUR at register r1 (cashier c7) with no customer at the counter"},
	} {
		if got := noCustomerMessage(c.t); got != c.want {
			t.Errorf("message %q, want %q", got, c.want)
		}
	}
}
