package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/analytics"
	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/pos"
)

// posStart is the clip's start_time: 10:00 UTC on Friday 2026-11-20, which
// is 11:00 in the store (Europe/Paris, UTC+01:00 in November).
var posStart = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// storeClock is the offset a POS that sends local time writes.
var storeClock = time.FixedZone("CET", 3600)

// posToken is the ingest's bearer token (STORESIGHT_API_TOKEN).
const posToken = "e2e-pos-ingest-token-0001"

const posStore = "e2e-store"

// vtestPOSConfig is vtest.avi as the camera over two registers of
// testdata/pos/LABELS.md: r1's customer zone is `kerb` (the couple stands
// there f118-275, then nobody until f742) and r2's is `counter_empty`
// (nobody ever). The east line is the store's entrance (leftward is in),
// so conversion has entries. Register checks use the default window (20 s
// before, 5 s after); max_wait is raised from 2 minutes because it is wall
// time and this box analyses the 79.5 s clip at a speed that depends on
// what else runs on it. Alerts (level 3) are texted to one number through
// the local Twilio stand-in; the cooldown is 1ms so that each alert is
// texted (the cooldown has its own tests in sms). Analytics ranks
// cashiers from 10 sales on (default 100) so the two cashiers here are
// ranked.
const vtestPOSConfig = `
store:
  id: ` + posStore + `
  name: Plaza
  region: e2e-region
  timezone: Europe/Paris
model:
  name: yolox_nano_416_coco
  dir: "{{MODELS}}"
cameras:
  - id: plaza
    source: ` + vtestPath + `
    start_time: 2026-11-20T10:00:00Z
    realtime: false
    fps: 0
    lines:
      - name: west
        points: [[300, 150], [300, 340]]
        forward: leftward
        backward: rightward
      - name: east
        points: [[560, 120], [560, 440]]
        forward: leftward
        backward: rightward
        entrance: leftward
kafka:
  embedded_addr: 127.0.0.1:0
  spill_dir: "{{TMP}}/spill"
outputs:
  stdout: false
metrics:
  listen: 127.0.0.1:0
alerts:
  notify_level: 2
  public_url: ` + publicURL + `
  snapshots:
    dir: "{{TMP}}/snapshots"
sms:
  account_sid: ` + fakeSID + `
  auth_token: ` + fakeToken + `
  from: "` + fakeFrom + `"
  cooldown: 1ms
  escalation:
    - name: store manager
      numbers: ["` + fakeMgr1 + `"]
  state_dir: "{{TMP}}/sms"
pos:
  enabled: true
  max_wait: 10m
  registers:
    - id: r1
      camera: plaza
      customer_zone: [[640, 130], [750, 130], [750, 205], [640, 205]]
    - id: r2
      camera: plaza
      customer_zone: [[0, 500], [100, 500], [100, 565], [0, 565]]
analytics:
  enabled: true
  state_dir: "{{TMP}}/analytics"
  min_transactions: 10
  regions:
    - name: e2e-region
      stores: [` + posStore + `]
`

// posCase is one valid transaction of the scenario and what the register
// check must say about it.
type posCase struct {
	tx    pos.Transaction
	raw   []byte // as sent; nil: posJSON(tx)
	frame int    // decode frame at the transaction's (camera) time
	// verdict is the expected pos_check verdict; "" means not checked
	// (sales, card refunds).
	verdict pos.Verdict
	http    bool // posted to /pos/transactions instead of produced
}

// malformedCase is one message the consumers must dead-letter.
type malformedCase struct {
	name     string
	msg      posMsg
	reason   string
	errors   []string // exact; for not_json only errors[0]'s prefix
	store    string
	register string
}

// posScenario is everything sent to the store: what goes to Kafka before
// the run, in order, and the NDJSON body posted over HTTP.
type posScenario struct {
	cases     []posCase
	kafka     []posMsg
	malformed []malformedCase
	httpBody  string
	httpBad   []byte // the one invalid NDJSON line
}

// newPOSScenario builds the transactions. The refund moments are those of
// testdata/pos/LABELS.md: R1 at f250 on r1 (the couple in `kerb`), R2 at
// f584 on r1 (`kerb` empty from f276 to f741), R3 a void at f584 on r2
// (`counter_empty` is never occupied). Cashier c1 rings every exception
// but a card refund, which is c2's; sales alternate between them.
func newPOSScenario(t *testing.T) *posScenario {
	s := &posScenario{}
	at := func(f int, local bool) time.Time {
		ts := videoTime(posStart, f)
		if local {
			ts = ts.In(storeClock) // the same instant, written 11:0x+01:00
		}
		return ts
	}
	tx := func(id, register, cashier string, typ pos.Type, tender pos.Tender, amount string, f int, local bool) pos.Transaction {
		return pos.Transaction{Store: posStore, Register: register, Cashier: cashier, ID: id, Type: typ,
			Amount: money(t, amount), Currency: "EUR", Tender: tender, Timestamp: at(f, local)}
	}
	add := func(c posCase) {
		if c.raw == nil {
			c.raw = posJSON(t, c.tx)
		}
		s.cases = append(s.cases, c)
		if !c.http {
			s.kafka = append(s.kafka, posMsg{c.tx.KafkaKey(), c.raw})
		}
	}

	// 30 sales every 2.5 s from f20 to f745, even ones c1's at r1 in UTC,
	// odd ones c2's at r2 on the local clock.
	for i := range 30 {
		reg, cashier, tender := "r1", "c1", pos.TenderCard
		if i%2 == 1 {
			reg, cashier = "r2", "c2"
		}
		if i%3 == 0 {
			tender = pos.TenderCash
		}
		amount := pos.Money(2_500 + 1_350*int64(i)).String()
		f := 20 + 25*i
		add(posCase{tx: tx(fmt.Sprintf("s%02d", i), reg, cashier, pos.TypeSale, tender, amount, f, i%2 == 1), frame: f})
	}

	// R1, as a POS writes it by hand: a number for the amount, local time,
	// and a field storesight does not know (ignored, forward compatible).
	r1 := tx("r1-refund-f250", "r1", "c1", pos.TypeRefund, pos.TenderCash, "49.90", 250, true)
	r1.OriginalID = "s04"
	add(posCase{tx: r1, frame: 250, verdict: pos.VerdictCustomerPresent,
		raw: []byte(`{"store":"e2e-store","register":"r1","cashier":"c1","transaction_id":"r1-refund-f250","type":"refund",` +
			`"amount":49.90,"currency":"EUR","tender":"cash","timestamp":"2026-11-20T11:00:25+01:00",` +
			`"original_transaction_id":"s04","pos_terminal":"TX-7"}`)})
	// R2, then the same message again (a POS retry): checked once.
	add(posCase{tx: tx("r1-refund-f584", "r1", "c1", pos.TypeRefund, pos.TenderCash, "35.00", 584, true),
		frame: 584, verdict: pos.VerdictNoCustomer})
	s.kafka = append(s.kafka, s.kafka[len(s.kafka)-1])
	// R3: a void at the empty counter.
	void := tx("r2-void-f584", "r2", "c1", pos.TypeVoid, "", "12.50", 584, false)
	void.OriginalID = "s25"
	add(posCase{tx: void, frame: 584, verdict: pos.VerdictNoCustomer})
	// The drawer opened at the empty counter at 40 s.
	add(posCase{tx: tx("r2-nosale-f400", "r2", "c1", pos.TypeNoSale, "", "0", 400, true), frame: 400,
		verdict: pos.VerdictNoCustomer})
	// A card refund goes back to a card: not checked.
	add(posCase{tx: tx("r2-refund-card-f500", "r2", "c2", pos.TypeRefund, pos.TenderCard, "15.00", 500, false), frame: 500})
	// A cash refund at 5 s: its window starts 15 s before the video.
	add(posCase{tx: tx("r1-refund-f050", "r1", "c1", pos.TypeRefund, pos.TenderCash, "20.00", 50, false), frame: 50,
		verdict: pos.VerdictNoVideo})

	s.malformed = []malformedCase{
		{name: "not JSON", msg: posMsg{"e2e-store/r1", []byte("REFUND;e2e-store;r1;c1;49.90;EUR;2026-11-20T11:00:30+01:00")},
			reason: pos.ReasonNotJSON, errors: []string{"message: not JSON"}},
		{name: "bad type", msg: posMsg{"e2e-store/r1", []byte(`{"store":"e2e-store","register":"r1","cashier":"c1",` +
			`"transaction_id":"r1-bad-type","type":"refnd","amount":"10.00","currency":"EUR","tender":"cash",` +
			`"timestamp":"2026-11-20T11:00:40+01:00"}`)},
			reason: pos.ReasonInvalid, errors: []string{`type: "refnd" is not one of sale, void, refund, partial_cancel, no_sale`},
			store: posStore, register: "r1"},
		{name: "missing timestamp", msg: posMsg{"e2e-store/r2", []byte(`{"store":"e2e-store","register":"r2","cashier":"c2",` +
			`"transaction_id":"r2-no-time","type":"sale","amount":"3.20","currency":"EUR","tender":"card"}`)},
			reason: pos.ReasonInvalid, errors: []string{"timestamp: missing"}, store: posStore, register: "r2"},
	}
	// Interleaved with the good ones, as a real stream would have them.
	for i, m := range s.malformed {
		at := 8 + 12*i
		s.kafka = slices.Insert(s.kafka, at, m.msg)
	}

	// Over HTTP: a sale, a cash refund at the empty kerb at 65 s (window
	// f450-700, inside the empty f276-741), and a line with a negative
	// amount.
	hs := posCase{tx: tx("h-sale-f310", "r2", "c2", pos.TypeSale, pos.TenderCard, "8.40", 310, true), frame: 310, http: true}
	hr := posCase{tx: tx("h-refund-f650", "r1", "c1", pos.TypeRefund, pos.TenderCash, "60.00", 650, false), frame: 650,
		verdict: pos.VerdictNoCustomer, http: true}
	add(hs)
	add(hr)
	s.httpBad = []byte(`{"store":"e2e-store","register":"r1","cashier":"c1","transaction_id":"h-bad-amount","type":"sale",` +
		`"amount":"-5.00","currency":"EUR","tender":"cash","timestamp":"2026-11-20T11:00:32+01:00"}`)
	s.httpBody = string(posJSON(t, hs.tx)) + "\n" + string(posJSON(t, hr.tx)) + "\n" + string(s.httpBad) + "\n"
	return s
}

// TestPOSRefundsOnVtest runs `storesight run` in-process (app.New + Run)
// over vtest.avi with POS checks and analytics on: the real model and
// tracker feed the registers' presence history; transactions reach the
// app as raw POS JSON on storesight.pos (produced with kafka-go to the
// embedded broker over TCP before the run) and through POST
// /pos/transactions. It checks, against testdata/pos/LABELS.md, every
// verdict on storesight.pos.checks, the no_customer alerts (raised and
// resolved, with the transaction, a JPEG snapshot on disk and a text),
// the dead letters, the run's POS counters, and what the analytics
// service published: risk rows per cashier, store, region and HQ with the
// numbers sent, and the hour's conversion (sales / entrance-line entries).
func TestPOSRefundsOnVtest(t *testing.T) {
	t.Setenv("STORESIGHT_API_TOKEN", posToken)
	began := time.Now()
	tw := newTwilioServer(t)
	dir := t.TempDir()
	yml := strings.ReplaceAll(vtestPOSConfig, "{{TMP}}", dir)
	yml = strings.ReplaceAll(yml, "{{MODELS}}", models.DefaultDir())
	path := filepath.Join(dir, "storesight.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{cfg.Alerts.Snapshots.Dir, cfg.SMS.StateDir, cfg.Kafka.SpillDir, cfg.Analytics.StateDir} {
		if !strings.HasPrefix(d, dir+string(filepath.Separator)) {
			t.Fatalf("state directory %s is not under the test's temporary directory %s", d, dir)
		}
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, app.Options{Log: log, KeepBroker: true, FlushTimeout: 30 * time.Second, TwilioClient: tw.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	brokers := a.KafkaBrokers()
	sc := newPOSScenario(t)

	// Kafka before the run, as from a POS that was up before storesight.
	produceRaw(t, brokers, cfg.POS.Topic, sc.kafka)
	addr := a.MetricsAddr()
	if addr == "" {
		t.Fatal("metrics.listen is set but the app serves nothing")
	}
	// HTTP during the run: the endpoint's port is bound in New but served
	// from Run on. The video takes far longer than a POST, and the run waits
	// for what is in the POS topic when the video ends.
	var (
		sum    *app.Summary
		runErr error
	)
	runStart := time.Now()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sum, runErr = a.Run(ctx)
	}()
	defer func() { // before a.Close
		cancel()
		<-finished
	}()
	if code, resp := postPOS(t, addr, "not-the-token", sc.httpBody); code != 401 || resp.Accepted != 0 {
		t.Errorf("POST with a wrong token: %d %+v, want 401 and nothing accepted", code, resp)
	}
	code, resp := postPOS(t, addr, posToken, sc.httpBody)
	wantRejected := []pos.Rejected{{Index: 2, Line: 3, TransactionID: "h-bad-amount", Errors: []string{"amount: negative"}}}
	if code != 400 || resp.Accepted != 2 || describe(resp.Rejected) != describe(wantRejected) {
		t.Errorf("POST of 2 good lines and 1 bad: %d %s, want 400, 2 accepted, rejected %s", code, describe(resp), describe(wantRejected))
	}
	t.Logf("POST answered %.1fs into the run, at analysed frame %d of 795", time.Since(runStart).Seconds(), a.Cameras()[0].Stats.Snapshot().Analysed)
	<-finished
	runTime := time.Since(runStart)
	if runErr != nil {
		t.Fatal(runErr)
	}
	t.Logf("run: %.1fs (analysis %.1fs); whole test so far %.1fs", runTime.Seconds(), sum.AnalysisDuration.Seconds(), time.Since(began).Seconds())
	st := sum.Cameras[0].Stats
	if st.Decoded != 795 || st.Analysed != 795 || st.Dropped != 0 {
		t.Fatalf("frames: %+v, want all 795 decoded and analysed", st)
	}
	if sum.Kafka == nil || sum.Kafka.Failed != 0 || sum.Kafka.Dropped != 0 || sum.EventsFailed != 0 {
		t.Fatalf("kafka: %+v, %d events failed", sum.Kafka, sum.EventsFailed)
	}

	// The POS topic holds what was produced plus the two accepted HTTP
	// lines, byte for byte.
	posMsgs := consume(t, brokers, cfg.POS.Topic)
	var got, want []string
	for _, m := range posMsgs {
		got = append(got, string(m.Key)+" "+string(m.Value))
	}
	for _, m := range sc.kafka {
		want = append(want, m.key+" "+string(m.value))
	}
	for _, c := range sc.cases {
		if c.http {
			want = append(want, c.tx.KafkaKey()+" "+string(posJSON(t, c.tx)))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("storesight.pos holds %d messages, want the %d produced and the 2 posted:\n got %q\nwant %q", len(got), len(sc.kafka), got, want)
	}

	checkPOSVerdicts(t, sc, brokers, cfg)
	alertIDs := checkNoCustomerAlerts(t, sc, brokers, cfg, sum, tw)
	checkPOSDeadLetters(t, sc, brokers, cfg, posMsgs)
	checkPOSSummary(t, sum, alertIDs)
	checkAnalytics(t, sc, brokers, cfg, sum)
	t.Logf("whole test: %.1fs", time.Since(began).Seconds())
}

// alertIDOf is the id of the no_customer alert about c (api.md).
func alertIDOf(c posCase) string {
	return events.ID("alert", posStore, pos.RuleNoCustomer, c.tx.Register, c.tx.ID, string(c.tx.Type))
}

// checkPOSVerdicts checks storesight.pos.checks: one pos_check per checked
// transaction (the duplicate of R2 not checked again, sales and the card
// refund not checked), with the verdict LABELS.md gives and the window of
// video it was decided on.
func checkPOSVerdicts(t *testing.T, sc *posScenario, brokers []string, cfg *config.Config) {
	t.Helper()
	checks := map[string]pos.Check{}
	for _, e := range envelopesOf(t, brokers, cfg.Kafka.Topics.POSChecks) {
		var c pos.Check
		dataOf(t, e, &c)
		if e.Type != events.TypePOSCheck || e.Store.ID != posStore || e.Store.Region != "e2e-region" || e.Camera != "plaza" {
			t.Errorf("check %s: type %q store %+v camera %q", e.ID, e.Type, e.Store, e.Camera)
		}
		if want := pos.CheckID(posStore, c.Register, c.TransactionID, c.Type); e.ID != want {
			t.Errorf("check of %s: event id %s, want %s", c.TransactionID, e.ID, want)
		}
		if !e.Time.Equal(c.CameraTime) {
			t.Errorf("check of %s: event time %v, camera time %v", c.TransactionID, e.Time, c.CameraTime)
		}
		if _, dup := checks[c.TransactionID]; dup {
			t.Errorf("transaction %s checked twice", c.TransactionID)
		}
		checks[c.TransactionID] = c
	}
	n := 0
	for _, pc := range sc.cases {
		c, ok := checks[pc.tx.ID]
		if pc.verdict == "" {
			if ok {
				t.Errorf("%s (%s %s) was checked (%s); only cash refunds, voids and no-sales are", pc.tx.ID, pc.tx.Type, pc.tx.Tender, c.Verdict)
			}
			continue
		}
		n++
		if !ok {
			t.Errorf("%s: no pos_check event, want verdict %s", pc.tx.ID, pc.verdict)
			continue
		}
		ct := videoTime(posStart, pc.frame)
		t.Logf("%s %s at f%d on %s: %s, %d frames, customer in %d (max %d, tracks %v), window %s..%s",
			pc.tx.ID, pc.tx.Type, pc.frame, pc.tx.Register, c.Verdict, c.Frames, c.CustomerFrames, c.CustomerMax,
			c.CustomerTracks, c.WindowStart.Format("15:04:05.0"), c.WindowEnd.Format("15:04:05.0"))
		if c.Verdict != pc.verdict {
			t.Errorf("%s at f%d on %s: verdict %s, want %s", pc.tx.ID, pc.frame, pc.tx.Register, c.Verdict, pc.verdict)
		}
		tx := pc.tx
		if c.Register != tx.Register || c.Cashier != tx.Cashier || c.Type != tx.Type || c.Tender != tx.Tender ||
			c.Amount != tx.Amount || c.Currency != tx.Currency || c.ClockOffsetSeconds != 0 {
			t.Errorf("%s: check %s does not carry the transaction %s", tx.ID, describe(c), describe(tx))
		}
		if !c.POSTime.Equal(tx.Timestamp) || zoneOffset(c.POSTime) != zoneOffset(tx.Timestamp) {
			t.Errorf("%s: pos_time %s, want %s as sent (with its offset)", tx.ID, c.POSTime.Format(time.RFC3339), tx.Timestamp.Format(time.RFC3339))
		}
		if !c.CameraTime.Equal(ct) || !c.WindowStart.Equal(ct.Add(-20*time.Second)) || !c.WindowEnd.Equal(ct.Add(5*time.Second)) {
			t.Errorf("%s: camera time %v window %v..%v, want f%d (%v) and [-20s, +5s]", tx.ID, c.CameraTime, c.WindowStart, c.WindowEnd, pc.frame, ct)
		}
		// Every frame is analysed and the bounds are inclusive: 25 s is
		// 251 frames, or f0-f100 for the window that starts before the
		// video.
		wantFrames := 251
		if pc.verdict == pos.VerdictNoVideo {
			wantFrames = pc.frame + 50 + 1
		}
		if c.Frames != wantFrames {
			t.Errorf("%s: %d frames in the window, want %d", tx.ID, c.Frames, wantFrames)
		}
		switch pc.verdict {
		case pos.VerdictNoCustomer:
			if c.CustomerFrames != 0 || c.CustomerMax != 0 || len(c.CustomerTracks) != 0 || c.AlertID != alertIDOf(pc) {
				t.Errorf("%s: no customer, but customer frames %d max %d tracks %v, alert %q (want %s)",
					tx.ID, c.CustomerFrames, c.CustomerMax, c.CustomerTracks, c.AlertID, alertIDOf(pc))
			}
		case pos.VerdictCustomerPresent:
			// LABELS.md: someone is in `kerb` in f118-275, all inside the
			// window f50-300 (158 frames); at f250 the couple, tracks 4
			// and 7.
			if c.CustomerFrames < 153 || c.CustomerFrames > 163 || c.CustomerMax < 2 ||
				!slices.Contains(c.CustomerTracks, 4) || !slices.Contains(c.CustomerTracks, 7) || c.AlertID != "" {
				t.Errorf("%s: customer frames %d (want 158±5), max %d (want >= 2), tracks %v (want 4 and 7), alert %q",
					tx.ID, c.CustomerFrames, c.CustomerMax, c.CustomerTracks, c.AlertID)
			}
		case pos.VerdictNoVideo:
			if c.AlertID != "" {
				t.Errorf("%s: no video, yet alert %s", tx.ID, c.AlertID)
			}
		}
	}
	if len(checks) != n {
		t.Errorf("%d pos_check events, want %d", len(checks), n)
	}
}

// checkNoCustomerAlerts checks storesight.alerts: one no_customer alert per
// no_customer verdict, raised then resolved at the transaction's camera
// time, naming the register and the transaction, with a snapshot of the
// moment on disk and one text. It returns the alert ids.
func checkNoCustomerAlerts(t *testing.T, sc *posScenario, brokers []string, cfg *config.Config, sum *app.Summary, tw *twilioServer) []string {
	t.Helper()
	stories := readAlertStories(t, brokers, cfg)
	r := &alertRun{sum: sum, stories: stories, snaps: cfg.Alerts.Snapshots.Dir, smsDir: cfg.SMS.StateDir, start: posStart}
	var problems []string
	r.posts, r.gets, problems = tw.received()
	for _, p := range problems {
		t.Errorf("twilio protocol: %s", p)
	}
	var ids []string
	for _, pc := range sc.cases {
		if pc.verdict != pos.VerdictNoCustomer {
			continue
		}
		id := alertIDOf(pc)
		ids = append(ids, id)
		s := stories[id]
		if s == nil {
			t.Errorf("%s: no alert %s", pc.tx.ID, id)
			continue
		}
		a, end := s.raised(), s.resolved()
		ct := videoTime(posStart, pc.frame)
		t.Logf("%s: alert %s %q, snapshot frame f%d, %d steps", pc.tx.ID, a.ID, a.Message, a.Frame, len(s.Steps))
		if len(s.Steps) != 2 || a.Kind != alerts.KindNoCustomer || a.Rule != pos.RuleNoCustomer || a.Level != alerts.LevelProperty ||
			a.Camera != "plaza" || a.Zone != "register:"+pc.tx.Register || !a.Started.Equal(ct) || !a.Time.Equal(ct) ||
			!end.Ended.Equal(ct) {
			t.Errorf("%s: alert %s, want 2 steps, a level 3 no_customer alert on plaza zone register:%s started and ended at f%d",
				pc.tx.ID, describe(s.Steps), pc.tx.Register, pc.frame)
		}
		// The snapshot is the stored frame nearest the transaction (one
		// per second is kept).
		if d := a.Frame - int64(pc.frame); d < -10 || d > 10 {
			t.Errorf("%s: snapshot of f%d, want within 1 s of f%d", pc.tx.ID, a.Frame, pc.frame)
		}
		if a.Value < 24.99 || a.Value > 25.01 {
			t.Errorf("%s: %.2f s of video checked, want 25", pc.tx.ID, a.Value)
		}
		ref := a.POS
		tx := pc.tx
		if ref == nil || ref.TransactionID != tx.ID || ref.Register != tx.Register || ref.Cashier != tx.Cashier ||
			ref.Type != string(tx.Type) || ref.Tender != string(tx.Tender) || ref.Amount != tx.Amount.String() ||
			ref.Currency != tx.Currency || !ref.POSTime.Equal(tx.Timestamp) || zoneOffset(ref.POSTime) != zoneOffset(tx.Timestamp) {
			t.Errorf("%s: alert pos %s, want the transaction %s", tx.ID, describe(ref), describe(tx))
		}
		for _, w := range []string{"register " + tx.Register, "cashier " + tx.Cashier, "no customer"} {
			if !strings.Contains(a.Message, w) {
				t.Errorf("%s: message %q lacks %q", tx.ID, a.Message, w)
			}
		}
		if tx.Amount != 0 && !strings.Contains(a.Message, moneyText(tx.Amount)+" EUR") {
			t.Errorf("%s: message %q lacks the amount %s EUR", tx.ID, a.Message, moneyText(tx.Amount))
		}
		r.checkSnapshot(t, a, 768, 576)
		r.checkTexts(t, a, fakeMgr1)
	}
	if len(stories) != len(ids) {
		t.Errorf("%d alerts on %s, want %d (one per no_customer verdict)", len(stories), cfg.Kafka.Topics.Alerts, len(ids))
	}
	if sum.Alerts == nil || sum.Alerts.Steps["raised"] != int64(len(ids)) || sum.Alerts.Steps["resolved"] != int64(len(ids)) ||
		len(sum.Alerts.Active) != 0 {
		t.Errorf("alert stats %+v, want %d raised and resolved, none active", sum.Alerts, len(ids))
	}
	if len(r.posts) != len(ids) || r.gets != 0 {
		t.Errorf("%d texts and %d list requests at Twilio, want %d texts", len(r.posts), r.gets, len(ids))
	}
	r.checkJournal(t)
	return ids
}

// moneyText writes an amount with two decimals at least, as receipts do.
func moneyText(m pos.Money) string {
	whole, frac, _ := strings.Cut(m.String(), ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

// checkPOSDeadLetters checks storesight.pos.dlq: each malformed Kafka
// message with its reason and source offset, and the bad HTTP line.
// storesight.pos has two consumer groups in this process (the register
// checks and analytics), and each dead-letters what it cannot read, with
// the same deterministic id: so each malformed Kafka message is there
// twice, identical but for received_at.
func checkPOSDeadLetters(t *testing.T, sc *posScenario, brokers []string, cfg *config.Config, posMsgs []kafka.Message) {
	t.Helper()
	dls := deadLettersOf(t, brokers, cfg.POS.DeadLetterTopic)
	byID := map[string][]deadLetter{}
	for _, dl := range dls {
		byID[dl.ID] = append(byID[dl.ID], dl)
		wantKey := "unknown"
		if dl.Store != "" {
			wantKey = dl.Store + "/" + dl.Register
		}
		if dl.key != wantKey || dl.header != dl.Reason {
			t.Errorf("dead letter %s: key %q header %q, want key %q and header %q", dl.ID, dl.key, dl.header, wantKey, dl.Reason)
		}
	}
	type want struct {
		name     string
		id       string
		copies   int
		reason   string
		errors   []string
		prefix   bool
		source   pos.DeadLetterSource
		store    string
		register string
		raw      []byte
	}
	var wants []want
	for _, m := range sc.malformed {
		var src *kafka.Message
		for i := range posMsgs {
			if string(posMsgs[i].Value) == string(m.msg.value) {
				src = &posMsgs[i]
			}
		}
		if src == nil {
			t.Errorf("%s: not on %s", m.name, cfg.POS.Topic)
			continue
		}
		s := pos.DeadLetterSource{Kind: pos.SourceKafka, Topic: cfg.POS.Topic, Partition: src.Partition, Offset: src.Offset}
		wants = append(wants, want{name: m.name, copies: 2, reason: m.reason, errors: m.errors, prefix: m.reason == pos.ReasonNotJSON,
			id: events.ID("pos_dlq", s.Topic, strconv.Itoa(s.Partition), strconv.FormatInt(s.Offset, 10)), source: s,
			store: m.store, register: m.register, raw: m.msg.value})
	}
	h := sha256.Sum256(sc.httpBad)
	wants = append(wants, want{name: "HTTP negative amount", copies: 1, reason: pos.ReasonInvalid, errors: []string{"amount: negative"},
		id: events.ID("pos_dlq", "http", hex.EncodeToString(h[:])), source: pos.DeadLetterSource{Kind: pos.SourceHTTP},
		store: posStore, register: "r1", raw: sc.httpBad})
	total := 0
	for _, w := range wants {
		total += w.copies
		got := byID[w.id]
		if len(got) != w.copies {
			t.Errorf("%s: %d dead letters with id %s, want %d", w.name, len(got), w.id, w.copies)
			continue
		}
		for _, dl := range got {
			errsOK := slices.Equal(dl.Errors, w.errors)
			if w.prefix {
				errsOK = len(dl.Errors) == 1 && strings.HasPrefix(dl.Errors[0], w.errors[0])
			}
			srcOK := dl.Source == w.source
			if w.source.Kind == pos.SourceHTTP {
				srcOK = dl.Source.Kind == pos.SourceHTTP && strings.HasPrefix(dl.Source.Remote, "127.0.0.1:")
			}
			if dl.Reason != w.reason || !errsOK || !srcOK || dl.Store != w.store || dl.Register != w.register ||
				dl.Raw != string(w.raw) || dl.RawBase64 != "" || dl.Truncated || dl.ReceivedAt.IsZero() {
				t.Errorf("%s: dead letter %s, want reason %s errors %q source %+v store %q register %q and the raw message",
					w.name, describe(dl.DeadLetter), w.reason, w.errors, w.source, w.store, w.register)
			}
		}
		t.Logf("dead letter %s: %s %q (%d copies)", w.name, got[0].Reason, got[0].Errors, len(got))
	}
	if len(dls) != total {
		t.Errorf("%d dead letters, want %d", len(dls), total)
	}
}

// checkPOSSummary checks the run's POS counters against the scenario.
func checkPOSSummary(t *testing.T, sum *app.Summary, alertIDs []string) {
	t.Helper()
	p := sum.POS
	if p == nil {
		t.Fatal("no POS stats in the run's summary")
	}
	t.Logf("pos summary: %s", describe(p))
	// 40 messages produced (37 valid incl. one duplicate, 3 malformed) and
	// 2 posted.
	wantConsumer := pos.ConsumerStats{Received: 42, Valid: 39, Invalid: 3}
	c := p.Consumer
	c.FetchErrors, c.CommitErrors = 0, 0 // transient (group joins); the figures above are what matters
	if c != wantConsumer {
		t.Errorf("consumer %+v, want %+v", p.Consumer, wantConsumer)
	}
	// Sales only feed the clock offset estimate when the video covers 63 s
	// either side of them (every candidate offset, ±60 s, ±3 s): none of a
	// 79.5 s clip does, so the estimate has nothing and says so.
	wantChecks := pos.CorrelatorStats{Received: 39, Duplicates: 1, Checked: 6, NoCustomer: int64(len(alertIDs)),
		CustomerPresent: 1, NoVideo: 1}
	if p.Checks != wantChecks {
		t.Errorf("checks %+v, want %+v", p.Checks, wantChecks)
	}
	if p.Offset.Sales != 0 || p.Offset.Status != pos.OffsetInsufficient {
		t.Errorf("offset estimate %+v, want insufficient over 0 sales", p.Offset)
	}
	if p.Skew.Samples != 39 {
		t.Errorf("arrival skew over %d transactions, want the 39 valid ones", p.Skew.Samples)
	}
}

// checkAnalytics checks what the analytics service published after
// counting storesight.pos, storesight.pos.checks and storesight.counts.
func checkAnalytics(t *testing.T, sc *posScenario, brokers []string, cfg *config.Config, sum *app.Summary) {
	t.Helper()
	// Entries: the entrance line's line_count events, which must add up to
	// the line's total in the run.
	var entries int64
	entranceWindows, otherCounts := 0, 0
	for _, e := range envelopesOf(t, brokers, cfg.Kafka.Topics.Counts) {
		if e.Type != events.TypeLineCount {
			otherCounts++
			continue
		}
		var lc counting.LineCount
		dataOf(t, e, &lc)
		if lc.Line != "east" {
			if lc.EntranceDirection != "" {
				t.Errorf("line %s: entrance direction %q, want none", lc.Line, lc.EntranceDirection)
			}
			otherCounts++
			continue
		}
		if lc.EntranceDirection != "leftward" {
			t.Errorf("east line_count at %v: entrance_direction %q, want leftward (config cameras[0].lines[1].entrance)", e.Time, lc.EntranceDirection)
			otherCounts++
			continue
		}
		entranceWindows++
		entries += int64(lc.Counts["leftward"])
	}
	total := sum.Cameras[0].Totals["east"]["leftward"]
	t.Logf("entries: %d in %d east line_count windows; run total east leftward %d (labels: 17 certain, 18 in all)", entries, entranceWindows, total)
	if entries != int64(total) || entranceWindows != 2 {
		t.Errorf("entrance line_counts: %d windows adding up to %d entries, want 2 windows (09:00, 09:01) adding up to the line's total %d", entranceWindows, entries, total)
	}
	if total < 17 || total > 18 {
		t.Errorf("east leftward total %d, labels say 17 (certain) to 18 (all)", total)
	}

	// What was sold, per cashier, and the exceptions.
	var c1, c2 analytics.Measures
	var sales int64
	var salesAmount pos.Money
	for _, pc := range sc.cases {
		m := &c1
		if pc.tx.Cashier == "c2" {
			m = &c2
		}
		a := pc.tx.Amount
		switch {
		case pc.tx.Type == pos.TypeSale:
			m.Transactions++
			m.SalesAmount += a
			sales++
			salesAmount += a
		case pc.tx.Type == pos.TypeVoid:
			m.Voids++
			m.VoidAmount += a
		case pc.tx.Type == pos.TypeRefund && pc.tx.Tender == pos.TenderCash:
			m.CashRefunds++
			m.CashRefundAmount += a
		case pc.tx.Type == pos.TypeRefund:
			m.Refunds++
			m.RefundAmount += a
		case pc.tx.Type == pos.TypeNoSale:
			m.NoSales++
		}
		if pc.verdict == pos.VerdictNoCustomer {
			m.NoCustomer++
			m.NoCustomerAmount += a
		}
	}
	// Written out, so the sums above cannot drift from the scenario
	// unnoticed.
	if c1.Transactions != 15 || c2.Transactions != 16 || c1.CashRefunds != 4 || c1.CashRefundAmount != money(t, "164.90") ||
		c1.Voids != 1 || c1.NoSales != 1 || c1.NoCustomer != 4 || c1.NoCustomerAmount != money(t, "107.50") || c2.Refunds != 1 {
		t.Fatalf("scenario: c1 %+v c2 %+v", c1, c2)
	}
	var all analytics.Measures
	for _, f := range [][]*int64{fields(&c1), fields(&c2)} {
		for i, p := range fields(&all) {
			*p += *f[i]
		}
	}

	// Risk: day, week and month of 2026-11-20 (nothing in the periods
	// before, so no rows there); two cashiers, the store, its region, HQ.
	type rowKey struct {
		level  analytics.Level
		entity string
		period analytics.PeriodKind
	}
	rows := map[rowKey]analytics.Row{}
	for _, e := range envelopesOf(t, brokers, cfg.Kafka.Topics.Risk) {
		var r analytics.Row
		dataOf(t, e, &r)
		k := rowKey{r.Level, r.Entity, r.Period.Kind}
		if _, dup := rows[k]; dup {
			t.Errorf("two risk events for %v", k)
		}
		rows[k] = r
		wantStore := posStore
		switch r.Level {
		case analytics.LevelRegion:
			wantStore = "region:" + r.Entity
		case analytics.LevelHQ:
			wantStore = "hq"
		}
		if e.Type != events.TypeRisk || e.Store.ID != wantStore || e.Camera != "" || !e.Time.Equal(r.Period.Start) {
			t.Errorf("risk event %s of %v: type %q store %+v camera %q time %v", e.ID, k, e.Type, e.Store, e.Camera, e.Time)
		}
	}
	periods := map[analytics.PeriodKind]string{analytics.PeriodDay: "2026-11-20", analytics.PeriodWeek: "2026-11-16", analytics.PeriodMonth: "2026-11-01"}
	for kind, start := range periods {
		for _, w := range []struct {
			level  analytics.Level
			entity string
			m      analytics.Measures
			rank   int
		}{
			{analytics.LevelCashier, "c1", c1, 1},
			{analytics.LevelCashier, "c2", c2, 2},
			{analytics.LevelStore, posStore, all, 0},
			{analytics.LevelRegion, "e2e-region", all, 0},
			{analytics.LevelHQ, "hq", all, 0},
		} {
			k := rowKey{w.level, w.entity, kind}
			r, ok := rows[k]
			if !ok {
				t.Errorf("no risk event for %v", k)
				continue
			}
			if r.Period.Start.Format("2006-01-02") != start || r.Measures != w.m || r.Risk.Rank != w.rank || r.Risk.Ranked != (w.rank > 0) ||
				(w.level != analytics.LevelHQ && r.Region != "e2e-region") || (r.Level == analytics.LevelCashier && r.Store != posStore) {
				t.Errorf("risk %v: %s\nwant period from %s, measures %s, rank %d, region e2e-region", k, describe(r), start, describe(w.m), w.rank)
			}
			if r.Level == analytics.LevelCashier && kind == analytics.PeriodDay {
				t.Logf("risk %s %s: score %.3f rank %d z %v", r.Level, r.Entity, r.Risk.Score, r.Risk.Rank, r.Risk.Z)
			}
		}
		// c1 rang every cash refund and every exception at an empty
		// counter: above the median of the two on those rates; c2's one
		// card refund puts c2 above on refunds only.
		r1, r2 := rows[rowKey{analytics.LevelCashier, "c1", kind}], rows[rowKey{analytics.LevelCashier, "c2", kind}]
		if !(r1.Risk.Score > r2.Risk.Score) || r1.Risk.Z["no_customer"] <= 0 || r1.Risk.Z["cash_refunds"] <= 0 ||
			r2.Risk.Z["refunds"] <= 0 || r2.Risk.Z["no_customer"] >= 0 || r1.Risk.Peers != 2 {
			t.Errorf("%s: c1 risk %s, c2 risk %s: want c1 above c2 on no_customer and cash refunds, c2 above on refunds", kind, describe(r1.Risk), describe(r2.Risk))
		}
	}
	if len(rows) != 15 {
		t.Errorf("%d risk events, want 15 (5 entities x day, week, month)", len(rows))
	}

	// Conversion: one hour, 10:00 UTC, with every sale of the scenario and
	// the entrance's entries.
	convs := envelopesOf(t, brokers, cfg.Kafka.Topics.Conversion)
	if len(convs) != 1 {
		t.Fatalf("%d conversion events, want 1 (the hour 10:00 UTC)", len(convs))
	}
	var cv analytics.Conversion
	dataOf(t, convs[0], &cv)
	t.Logf("conversion: %s", describe(cv))
	hour := posStart.Truncate(time.Hour)
	if cv.Store != posStore || cv.Region != "e2e-region" || !cv.Hour.Equal(hour) || cv.Transactions != sales || cv.SalesAmount != salesAmount ||
		cv.Entries != entries || cv.Rate == nil || *cv.Rate != float64(sales)/float64(entries) {
		t.Errorf("conversion %s, want store %s hour %v: %d sales of %s over %d entries", describe(cv), posStore, hour, sales, salesAmount, entries)
	}
	if e := convs[0]; e.Store.ID != posStore || e.Camera != "" || !e.Time.Equal(hour) {
		t.Errorf("conversion event store %+v camera %q time %v", e.Store, e.Camera, e.Time)
	}

	s := sum.Analytics
	if s == nil {
		t.Fatal("no analytics stats in the run's summary")
	}
	t.Logf("analytics summary: %s", describe(s))
	// Facts: 38 distinct transactions, 4 no_customer checks, the entrance
	// windows. Not counted: the duplicate R2. Skipped: the checks with
	// another verdict and the count events that are not entrance counts.
	if s.FactsAdded != 38+4+int64(entranceWindows) || s.NotCounted != 1 || s.Skipped != 2+int64(otherCounts) || s.Malformed != 0 ||
		s.Published != int64(len(rows)+len(convs)) || s.PublishErrors != 0 || s.AddErrors != 0 {
		t.Errorf("analytics %+v: want %d facts added, 1 not counted, %d skipped, none malformed, %d published",
			s, 38+4+entranceWindows, 2+otherCounts, len(rows)+len(convs))
	}
	if p := s.POS; p.Received != 42 || p.Valid != 39 || p.Invalid != 3 || p.HandlerErrors != 0 || p.DeadLetterErrors != 0 {
		t.Errorf("analytics POS consumer %+v, want 42 received, 39 valid, 3 invalid", p)
	}
}

// fields lists a Measures' counters (sums of two cashiers into the store).
func fields(m *analytics.Measures) []*int64 {
	return []*int64{&m.Transactions, (*int64)(&m.SalesAmount), &m.Voids, (*int64)(&m.VoidAmount),
		&m.CashRefunds, (*int64)(&m.CashRefundAmount), &m.Refunds, (*int64)(&m.RefundAmount),
		&m.PartialCancels, (*int64)(&m.PartialCancelAmount), &m.NoSales, &m.NoCustomer, (*int64)(&m.NoCustomerAmount)}
}
