package analytics

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// svcTestLog discards logs (malformed input is logged on purpose) unless
// ANALYTICS_TEST_LOG is set.
func svcTestLog() *slog.Logger {
	if os.Getenv("ANALYTICS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Topics of the service test; the defaults, so NewService's defaults are
// what is exercised.
var svcTopics = []string{pos.DefaultTopic, pos.DefaultDeadLetterTopic, DefaultChecksTopic, DefaultCountsTopic,
	events.DefaultTopics[events.TypeRisk], events.DefaultTopics[events.TypeConversion]}

func svcProduce(t *testing.T, brokers []string, msgs ...kafka.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func posMessage(t *testing.T, tx pos.Transaction) kafka.Message {
	t.Helper()
	b, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Topic: pos.DefaultTopic, Key: []byte(tx.KafkaKey()), Value: b}
}

func envMessage(t *testing.T, topic string, e events.Envelope) kafka.Message {
	t.Helper()
	m, err := events.Message(topic, e)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitCommitted waits until the group has committed every message of the
// topics: the only way to know the service is done with its input.
func waitCommitted(t *testing.T, brokers []string, group string, topics ...string) {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		behind, err := groupBehind(ctx, c, group, topics)
		cancel()
		if err == nil && behind == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s did not commit everything: %s %v", group, behind, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// groupBehind names the first partition whose committed offset is short
// of its end ("" when none is).
func groupBehind(ctx context.Context, c *kafka.Client, group string, topics []string) (string, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return "", err
	}
	lreq := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	freq := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for _, tp := range md.Topics {
		for _, p := range tp.Partitions {
			lreq.Topics[tp.Name] = append(lreq.Topics[tp.Name], kafka.LastOffsetOf(p.ID))
			freq.Topics[tp.Name] = append(freq.Topics[tp.Name], p.ID)
		}
	}
	ends, err := c.ListOffsets(ctx, lreq)
	if err != nil {
		return "", err
	}
	committed, err := c.OffsetFetch(ctx, freq)
	if err != nil {
		return "", err
	}
	got := map[string]map[int]int64{}
	for tp, ps := range committed.Topics {
		got[tp] = map[int]int64{}
		for _, p := range ps {
			got[tp][p.Partition] = p.CommittedOffset
		}
	}
	for tp, ps := range ends.Topics {
		for _, p := range ps {
			if p.LastOffset > 0 && got[tp][p.Partition] < p.LastOffset {
				return tp + "/" + strconv.Itoa(p.Partition), nil
			}
		}
	}
	return "", nil
}

// readEvents reads n events of topic from the start (a fresh group).
func readEvents(t *testing.T, brokers []string, topic string, n int) []events.Envelope {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "reader-" + t.Name() + "-" + topic, Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []events.Envelope
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: %d of %d events: %v", topic, len(out), n, err)
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		if err := events.CheckSchemas(m.Value); err != nil {
			t.Errorf("%s event %s: %v", e.Type, e.ID, err)
		}
		out = append(out, e)
	}
	// Nothing more than n: a short wait for an extra event.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if m, err := r.FetchMessage(ctx2); err == nil {
		t.Errorf("%s: more than %d events, extra: %s", topic, n, m.Value)
	}
	return out
}

type runningService struct {
	svc    *Service
	sink   *events.KafkaSink
	cancel context.CancelFunc
	done   chan error
}

func startService(t *testing.T, brokers []string, store *Store) *runningService {
	t.Helper()
	sink, err := events.NewKafkaSink(events.Config{Brokers: brokers, Logger: svcTestLog()})
	if err != nil {
		t.Fatal(err)
	}
	dl := pos.NewDeadLetters(brokers, pos.DefaultDeadLetterTopic, svcTestLog())
	svc, err := NewService(ServiceConfig{Brokers: brokers, DeadLetters: dl, Store: store, Pub: sink, Log: svcTestLog(),
		Risk: RiskConfig{MinTransactions: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningService{svc: svc, sink: sink, cancel: cancel, done: make(chan error, 1)}
	go func() { rs.done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		rs.stop(t)
		_ = dl.Close()
	})
	return rs
}

// stop cancels Run, waits for it (it publishes once more) and flushes
// the sink; a second call does nothing.
func (rs *runningService) stop(t *testing.T) {
	t.Helper()
	if rs.cancel == nil {
		return
	}
	rs.cancel()
	rs.cancel = nil
	select {
	case err := <-rs.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rs.sink.Close(ctx); err != nil {
		t.Errorf("sink close: %v", err)
	}
}

func sale(id, cashier, amount string, at time.Time) pos.Transaction {
	m, _ := pos.ParseMoney(amount)
	return pos.Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: cashier, ID: id, Type: pos.TypeSale,
		Amount: m, Currency: "EUR", Tender: pos.TenderCard, Timestamp: at}
}

func doorCount(t *testing.T, minute int, in, out int) events.Envelope {
	t.Helper()
	w := time.Date(2026, 11, 16, 10, minute, 0, 0, time.UTC)
	return lineCountEnvelope(t, events.Store{ID: "s1", Region: "north"}, "cam-door", counting.LineCount{Line: "door",
		WindowStart: w, WindowEnd: w.Add(time.Minute), Counts: map[string]int{"in": in, "out": out},
		Totals: map[string]int{"in": in, "out": out}, Net: in - out, EntranceDirection: "in"})
}

func conversionsByHour(t *testing.T, evs []events.Envelope) map[string][]Conversion {
	t.Helper()
	out := map[string][]Conversion{}
	for _, e := range evs {
		var c Conversion
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatal(err)
		}
		if !e.Time.Equal(c.Hour) || e.Store.ID != c.Store {
			t.Errorf("conversion envelope %s: time %v store %s, data %+v", e.ID, e.Time, e.Store.ID, c)
		}
		k := c.Hour.Format("15:04")
		out[k] = append(out[k], c)
	}
	return out
}

// The service over a real (embedded) Kafka: raw POS transactions,
// pos_check and line_count events in, facts in the Store, risk and
// conversion events out; duplicates and malformed input; and a restart on
// the same file and group that counts nothing twice.
func TestServiceOverKafka(t *testing.T) {
	b, err := events.StartEmbedded("127.0.0.1:0", svcTopics...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	brokers := b.Addrs()
	path := filepath.Join(t.TempDir(), "analytics.db")
	store, err := Open(path, StoreOptions{Log: svcTestLog()})
	if err != nil {
		t.Fatal(err)
	}
	st := events.Store{ID: "s1", Region: "north"}

	// 10:00-11:00 UTC (12:xx local): 10 sales of 12.50 by c1, one of them
	// sent twice; a void and a cash refund; garbage.
	var msgs []kafka.Message
	for i := range 10 {
		msgs = append(msgs, posMessage(t, sale("t"+string(rune('a'+i)), "c1", "12.50", time.Date(2026, 11, 16, 12, 3*i, 0, 0, cest))))
	}
	msgs = append(msgs, msgs[3])
	void := sale("tv", "c1", "4.00", time.Date(2026, 11, 16, 12, 40, 0, 0, cest))
	void.Type, void.Tender = pos.TypeVoid, ""
	refund := sale("tr", "c1", "20.00", time.Date(2026, 11, 16, 12, 45, 0, 0, cest))
	refund.Type, refund.Tender = pos.TypeRefund, pos.TenderCash
	msgs = append(msgs, posMessage(t, void), posMessage(t, refund),
		kafka.Message{Topic: pos.DefaultTopic, Key: []byte("s1/r1"), Value: []byte("not json")})
	// 11:00 UTC: 3 sales by c2 and no counts.
	for i := range 3 {
		msgs = append(msgs, posMessage(t, sale("u"+string(rune('a'+i)), "c2", "2", time.Date(2026, 11, 16, 13, i, 0, 0, cest))))
	}
	// The refund was checked: nobody at the counter (sent twice); a sale's
	// check found a customer.
	noCust := checkEnvelope(t, st, pos.Check{TransactionID: "tr", Register: "r1", Cashier: "c1", Type: pos.TypeRefund,
		Tender: pos.TenderCash, Amount: refund.Amount, Currency: "EUR", POSTime: refund.Timestamp,
		CameraTime: refund.Timestamp.UTC(), Verdict: pos.VerdictNoCustomer})
	present := checkEnvelope(t, st, pos.Check{TransactionID: "tv", Register: "r1", Cashier: "c1", Type: pos.TypeVoid,
		Amount: void.Amount, Currency: "EUR", POSTime: void.Timestamp, CameraTime: void.Timestamp.UTC(),
		Verdict: pos.VerdictCustomerPresent})
	msgs = append(msgs, envMessage(t, DefaultChecksTopic, noCust), envMessage(t, DefaultChecksTopic, noCust),
		envMessage(t, DefaultChecksTopic, present),
		kafka.Message{Topic: DefaultChecksTopic, Key: []byte("s1/cam-r1"), Value: []byte(`{"id":`)})
	// 40 people in through the door in four windows (one window sent
	// twice), people going out, and an aisle line that is no entrance.
	for i, in := range []int{10, 12, 8, 10} {
		msgs = append(msgs, envMessage(t, DefaultCountsTopic, doorCount(t, 10*i, in, 3)))
	}
	msgs = append(msgs, envMessage(t, DefaultCountsTopic, doorCount(t, 10, 12, 3)))
	aisle := lineCountEnvelope(t, st, "cam-door", counting.LineCount{Line: "aisle", WindowStart: time.Date(2026, 11, 16, 10, 5, 0, 0, time.UTC),
		WindowEnd: time.Date(2026, 11, 16, 10, 6, 0, 0, time.UTC), Counts: map[string]int{"forward": 7, "backward": 1},
		Totals: map[string]int{"forward": 7, "backward": 1}, Net: 6})
	msgs = append(msgs, envMessage(t, DefaultCountsTopic, aisle))
	svcProduce(t, brokers, msgs...)

	rs := startService(t, brokers, store)
	waitCommitted(t, brokers, DefaultGroupID, pos.DefaultTopic, DefaultChecksTopic, DefaultCountsTopic)

	conv, err := store.Conversion("s1", time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(conv) != 2 || conv[0].Entries != 40 || conv[0].Transactions != 10 || conv[0].SalesAmount.String() != "125" ||
		conv[0].Rate == nil || *conv[0].Rate != 0.25 || conv[1].Entries != 0 || conv[1].Transactions != 3 || conv[1].Rate != nil {
		t.Fatalf("conversion = %+v, want 10:00 40 entries/10 sales/0.25 and 11:00 0/3/no rate", conv)
	}
	day := PeriodOf(PeriodDay, time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC))
	rows, err := store.Report(Query{Level: LevelCashier, Period: day}, RiskConfig{MinTransactions: 1})
	if err != nil {
		t.Fatal(err)
	}
	c1 := findRow(rows, "c1")
	if c1 == nil {
		t.Fatalf("no row for c1 in %+v", rows)
	}
	m := c1.Measures
	if m.Transactions != 10 || m.Voids != 1 || m.VoidAmount.String() != "4" || m.CashRefunds != 1 || m.CashRefundAmount.String() != "20" ||
		m.NoCustomer != 1 || m.NoCustomerAmount.String() != "20" {
		t.Errorf("c1 measures = %+v", m)
	}
	rs.stop(t)
	stats := rs.svc.Stats()
	// 10 sales + void + refund + 3 sales + 1 check + 4 windows.
	if stats.FactsAdded != 20 || stats.NotCounted != 3 || stats.Malformed != 1 || stats.POS.Invalid != 1 {
		t.Errorf("stats = %+v, want 20 added, 3 not counted (duplicates), 1 malformed envelope, 1 invalid POS message", stats)
	}
	// Skipped: the customer-present check and the aisle line.
	if stats.Skipped != 2 {
		t.Errorf("skipped = %d, want 2", stats.Skipped)
	}

	// Published at shutdown: both hours' conversion, and risk rows.
	convTopic := events.DefaultTopics[events.TypeConversion]
	riskTopic := events.DefaultTopics[events.TypeRisk]
	first := conversionsByHour(t, readEvents(t, brokers, convTopic, 2))
	if c := first["10:00"]; len(c) != 1 || c[0].Entries != 40 || c[0].Transactions != 10 || *c[0].Rate != 0.25 {
		t.Errorf("published 10:00 conversion = %+v", c)
	}
	if c := first["11:00"]; len(c) != 1 || c[0].Transactions != 3 || c[0].Rate != nil {
		t.Errorf("published 11:00 conversion = %+v", c)
	}
	nRisk := int(stats.Published) - 2
	riskEvs := readEvents(t, brokers, riskTopic, nRisk)
	seen := map[string]bool{}
	var c1Day *Row
	for _, e := range riskEvs {
		var r Row
		if err := json.Unmarshal(e.Data, &r); err != nil {
			t.Fatal(err)
		}
		seen[string(r.Level)+"/"+string(r.Period.Kind)] = true
		wantStore := map[Level]string{LevelCashier: "s1", LevelStore: "s1", LevelRegion: "region:north", LevelHQ: "hq"}[r.Level]
		if e.Store.ID != wantStore || e.Camera != "" || !e.Time.Equal(r.Period.Start) {
			t.Errorf("risk envelope of %s %s: store %q camera %q time %v", r.Level, r.Entity, e.Store.ID, e.Camera, e.Time)
		}
		if r.Level == LevelCashier && r.Entity == "c1" && r.Period == day {
			c1Day = &r
		}
	}
	for _, l := range riskLevels {
		for _, k := range []PeriodKind{PeriodDay, PeriodWeek, PeriodMonth} {
			if !seen[string(l)+"/"+string(k)] {
				t.Errorf("no risk event for level %s, period %s", l, k)
			}
		}
	}
	if c1Day == nil || c1Day.Measures != m {
		t.Errorf("published c1 day row = %+v, want measures %+v", c1Day, m)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: same file, same group. One new sale and one new window in
	// the 10:00 hour, plus an old sale and an old window sent again.
	store, err = Open(path, StoreOptions{Log: svcTestLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svcProduce(t, brokers,
		posMessage(t, sale("tk", "c1", "7.5", time.Date(2026, 11, 16, 12, 50, 0, 0, cest))),
		msgs[0],
		envMessage(t, DefaultCountsTopic, doorCount(t, 50, 8, 0)),
		envMessage(t, DefaultCountsTopic, doorCount(t, 0, 10, 3)),
	)
	rs = startService(t, brokers, store)
	waitCommitted(t, brokers, DefaultGroupID, pos.DefaultTopic, DefaultChecksTopic, DefaultCountsTopic)
	rs.stop(t)
	stats = rs.svc.Stats()
	// The group resumed: only the 2 new POS messages were read, and of
	// the 4 new messages the 2 re-sent ones were not counted.
	if stats.POS.Received != 2 || stats.FactsAdded != 2 || stats.NotCounted != 2 {
		t.Errorf("after restart: stats = %+v, want 2 POS received, 2 added, 2 not counted", stats)
	}
	conv, err = store.Conversion("s1", time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(conv) != 1 || conv[0].Entries != 48 || conv[0].Transactions != 11 || conv[0].SalesAmount.String() != "132.5" {
		t.Fatalf("10:00 after restart = %+v, want 48 entries, 11 sales, 132.5", conv)
	}
	// Only the changed hour went out again, with a new id.
	all := readEvents(t, brokers, convTopic, 3)
	byHour := conversionsByHour(t, all)
	if c := byHour["10:00"]; len(c) != 2 || c[1].Entries != 48 || c[1].Transactions != 11 || *c[1].Rate != 11.0/48 {
		t.Errorf("10:00 conversions = %+v, want the first then 48/11", c)
	}
	if len(byHour["11:00"]) != 1 {
		t.Errorf("11:00 was re-published although unchanged: %+v", byHour["11:00"])
	}
	if all[0].ID == all[2].ID || all[1].ID == all[2].ID {
		t.Error("the changed conversion kept an old id")
	}
}

func findRow(rows []Row, entity string) *Row {
	for i := range rows {
		if rows[i].Entity == entity {
			return &rows[i]
		}
	}
	return nil
}

// recordingPub keeps what was published.
type recordingPub struct {
	mu  sync.Mutex
	evs []events.Envelope
}

func (p *recordingPub) Publish(e events.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, e)
	return nil
}

func (p *recordingPub) take() []events.Envelope {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.evs
	p.evs = nil
	return out
}

// newIdleService is a service whose inputs are never run: facts go in
// through add, as the consumers would put them.
func newIdleService(t *testing.T, pub *recordingPub) *Service {
	t.Helper()
	brokers := []string{"127.0.0.1:1"} // never dialled: Run is not called
	svc, err := NewService(ServiceConfig{Brokers: brokers, DeadLetters: pos.NewDeadLetters(brokers, "", svcTestLog()),
		Store: openSvcStore(t, ""), Pub: pub, Log: svcTestLog(), Risk: RiskConfig{MinTransactions: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// A publish sends what changed and only that: nothing when nothing came
// in, the touched hour's conversion and the rows whose figures moved when
// one sale came in, and the new figures under new ids.
func TestPublishSendsOnlyChanges(t *testing.T) {
	pub := &recordingPub{}
	svc := newIdleService(t, pub)
	at := time.Date(2026, 11, 16, 12, 0, 0, 0, cest)
	var facts []Fact
	for i, c := range []string{"c1", "c1", "c2"} {
		facts = append(facts, Fact{Key: "pos/" + strconv.Itoa(i), Kind: FactSale, Time: at.Add(time.Duration(i) * time.Minute),
			Store: "s1", Region: "north", Cashier: c, Amount: 1000, N: 1})
	}
	facts = append(facts, Fact{Key: "count/1", Kind: FactEntries, Time: at.UTC(), Store: "s1", N: 6})
	if err := svc.add(facts); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.PublishNow(ctx); err != nil {
		t.Fatal(err)
	}
	first := pub.take()
	// Rows: 2 cashiers + store + region + hq, for the current day, week
	// and month (the previous periods are empty); 1 conversion.
	if n := countType(first, events.TypeRisk); n != 15 {
		t.Errorf("first publish: %d risk events, want 15", n)
	}
	if n := countType(first, events.TypeConversion); n != 1 {
		t.Errorf("first publish: %d conversion events, want 1", n)
	}
	for _, e := range first {
		raw, _ := json.Marshal(e)
		if err := events.CheckSchemas(raw); err != nil {
			t.Errorf("%s", err)
		}
	}
	if err := svc.PublishNow(ctx); err != nil {
		t.Fatal(err)
	}
	if again := pub.take(); len(again) != 0 {
		t.Errorf("nothing came in, yet %d events were published", len(again))
	}
	// A duplicate changes nothing either.
	if err := svc.add(facts[:1]); err != nil {
		t.Fatal(err)
	}
	if err := svc.PublishNow(ctx); err != nil {
		t.Fatal(err)
	}
	if again := pub.take(); len(again) != 0 {
		t.Errorf("a duplicate fact caused %d events", len(again))
	}
	// One more sale by c2: c2's, the store's, the region's and HQ's rows
	// change in each period (c1's may too, through its rank among peers;
	// the ids say whether it did).
	if err := svc.add([]Fact{{Key: "pos/new", Kind: FactSale, Time: at.Add(10 * time.Minute), Store: "s1", Region: "north",
		Cashier: "c2", Amount: 500, N: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.PublishNow(ctx); err != nil {
		t.Fatal(err)
	}
	second := pub.take()
	ids := map[string]bool{}
	for _, e := range first {
		ids[e.ID] = true
	}
	var conv []Conversion
	changed := map[string]int{}
	for _, e := range second {
		if ids[e.ID] {
			t.Errorf("event %s %s re-sent unchanged", e.Type, e.ID)
		}
		switch e.Type {
		case events.TypeConversion:
			var c Conversion
			_ = json.Unmarshal(e.Data, &c)
			conv = append(conv, c)
		case events.TypeRisk:
			var r Row
			_ = json.Unmarshal(e.Data, &r)
			changed[string(r.Level)+"/"+r.Entity]++
		}
	}
	if len(conv) != 1 || conv[0].Transactions != 4 || conv[0].Entries != 6 {
		t.Errorf("second publish conversion = %+v, want the one hour with 4 sales, 6 entries", conv)
	}
	for _, k := range []string{"cashier/c2", "store/s1", "region/north", "hq/hq"} {
		if changed[k] != 3 {
			t.Errorf("%s: %d changed rows published, want 3 (day, week, month)", k, changed[k])
		}
	}
}

func countType(evs []events.Envelope, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestConversionHTTP(t *testing.T) {
	svc := newIdleService(t, &recordingPub{})
	at := time.Date(2026, 11, 16, 10, 15, 0, 0, time.UTC)
	if err := svc.add([]Fact{
		{Key: "pos/1", Kind: FactSale, Time: at.In(cest), Store: "s1", Region: "north", Cashier: "c1", Amount: 2500, N: 1},
		{Key: "count/1", Kind: FactEntries, Time: at, Store: "s1", N: 4},
		{Key: "count/2", Kind: FactEntries, Time: at.Add(-3 * time.Hour), Store: "s1", N: 2},
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	get := func(q string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/analytics/conversion?store=s1&from=2026-11-16T09:00:00Z&to=2026-11-16")
	if code != http.StatusBadRequest || !strings.Contains(body, "before") {
		t.Errorf("from after to: %d %s", code, body)
	}
	code, body = get("/analytics/conversion?store=s1&from=2026-11-16T09:00:00%2B00:00&to=2026-11-17")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var resp struct {
		Store string       `json:"store"`
		From  time.Time    `json:"from"`
		Hours []Conversion `json:"hours"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	// The 07:00 hour is before from.
	if resp.Store != "s1" || len(resp.Hours) != 1 || resp.Hours[0].Entries != 4 || resp.Hours[0].Transactions != 1 ||
		resp.Hours[0].SalesAmount.String() != "2.5" || *resp.Hours[0].Rate != 0.25 {
		t.Errorf("response %s", body)
	}
	for q, want := range map[string]string{
		"/analytics/conversion":                                        "store",
		"/analytics/conversion?store=s1&from=yesterday":                "from",
		"/analytics/conversion?store=s1&stor=s2":                       "unknown parameter",
		"/analytics/conversion?store=s1&from=2025-01-01&to=2026-01-01": "93 days",
	} {
		if code, body := get(q); code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", q, code, body, want)
		}
	}
	// The store's own handler is mounted beside it.
	code, body = get("/analytics/stores")
	if code != http.StatusOK || !strings.Contains(body, `"s1":"north"`) {
		t.Errorf("stores: %d %s", code, body)
	}
	code, _ = get("/analytics/risk?level=cashier&period=day&date=2026-11-16")
	if code != http.StatusOK {
		t.Errorf("risk: %d", code)
	}
}
