package pos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// handlerLog is a Handler that records what reached it.
type handlerLog struct {
	mu    sync.Mutex
	got   []Transaction
	metas []Meta
	calls map[string]int
	// failFirst makes the handler fail that many calls per transaction id
	// (-1: always) before succeeding.
	failFirst map[string]int
}

func (r *handlerLog) handle(ctx context.Context, t Transaction, m Meta) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[t.ID]++
	if n, ok := r.failFirst[t.ID]; ok && (n < 0 || r.calls[t.ID] <= n) {
		return errors.New("downstream not ready")
	}
	r.got = append(r.got, t)
	r.metas = append(r.metas, m)
	return nil
}

func (r *handlerLog) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, t := range r.got {
		ids = append(ids, t.ID)
	}
	return ids
}

func (r *handlerLog) has(id string) bool {
	for _, x := range r.ids() {
		if x == id {
			return true
		}
	}
	return false
}

func (r *handlerLog) callsOf(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

func posMessage(t testing.TB, store, register, id string, set map[string]any) kafka.Message {
	t.Helper()
	all := map[string]any{"store": store, "register": register, "transaction_id": id}
	for k, v := range set {
		all[k] = v
	}
	return kafka.Message{Key: []byte(store + "/" + register), Value: msg(t, all)}
}

// runConsumer runs c until the test stops it with the returned function,
// which checks that Run returned nil.
func runConsumer(t *testing.T, c *Consumer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestConsumerGoodAndMalformed(t *testing.T) {
	brokers := startKafka(t)
	huge := msg(t, map[string]any{"store": "s1", "pad": strings.Repeat("x", 900<<10)}) // under Kafka's 1 MB, over ours
	bad := map[string]struct {
		m      kafka.Message
		reason string
		errs   string // substring of the joined errors
	}{
		"not json":   {kafka.Message{Key: []byte("s1/r1"), Value: []byte("hello, kafka")}, ReasonNotJSON, "message: not JSON"},
		"wrong type": {posMessage(t, "s1", "r1", "t-bad1", map[string]any{"amount": true}), ReasonInvalid, "amount: is a boolean"},
		"missing":    {kafka.Message{Key: []byte("s1/r2"), Value: []byte(`{"store":"s1","register":"r2"}`)}, ReasonInvalid, "cashier: missing; transaction_id: missing"},
		"huge":       {kafka.Message{Key: []byte("s1/r1"), Value: huge}, ReasonTooLarge, "more than 65536"},
		"binary":     {kafka.Message{Key: []byte("s1/r3"), Value: []byte{0xff, 0x00, 0x13, 0x37}}, ReasonNotJSON, "not valid UTF-8"},
		"empty":      {kafka.Message{Key: []byte("s1/r3"), Value: nil}, ReasonNotJSON, "message: not JSON"},
	}
	good := []kafka.Message{
		posMessage(t, "s1", "r1", "t-1", nil),
		posMessage(t, "s1", "r2", "t-2", map[string]any{"type": "refund"}),
		posMessage(t, "s2", "r1", "t-3", nil), // another store: skipped
		posMessage(t, "s1", "r3", "t-4", map[string]any{"type": "no_sale", "amount": 0, "tender": nil}),
	}
	// Interleave so bad messages sit between good ones in the partitions.
	var all []kafka.Message
	for _, name := range []string{"not json", "wrong type", "missing", "huge", "binary", "empty"} {
		all = append(all, bad[name].m)
		if len(good) > 0 {
			all, good = append(all, good[0]), good[1:]
		}
	}
	produceRaw(t, brokers, DefaultTopic, all...)
	// Where each message landed, to check the dead letters' sources.
	where := map[string]DeadLetterSource{}
	for _, m := range readTopic(t, brokers, DefaultTopic) {
		where[string(m.Value)] = DeadLetterSource{Kind: SourceKafka, Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	}

	dlq := NewDeadLetters(brokers, "", testLogger())
	defer dlq.Close()
	rec := &handlerLog{failFirst: map[string]int{"t-2": 2}} // the refund's handler fails twice first
	skew := NewSkew(10)
	c, err := NewConsumer(ConsumerConfig{Brokers: brokers, GroupID: "g-test", Store: "s1", DeadLetters: dlq, Skew: skew, Log: testLogger()}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, c)
	eventually(t, "all 10 messages processed", func() bool { return c.Stats().Received == 10 && len(rec.ids()) == 3 })

	// Still running after all that: a new transaction gets through.
	produceRaw(t, brokers, DefaultTopic, posMessage(t, "s1", "r1", "t-5", nil))
	eventually(t, "t-5 handled", func() bool { return rec.has("t-5") })
	stop()

	ids := rec.ids()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	if len(ids) != 4 || seen["t-1"] != 1 || seen["t-2"] != 1 || seen["t-4"] != 1 || seen["t-5"] != 1 {
		t.Errorf("handled %v, want t-1, t-2, t-4, t-5 once each", ids)
	}
	if n := rec.callsOf("t-2"); n != 3 {
		t.Errorf("t-2 handler calls %d, want 3 (2 failures, then success)", n)
	}
	want := ConsumerStats{Received: 11, Valid: 5, Invalid: 6, Skipped: 1, HandlerErrors: 2}
	if s := c.Stats(); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	for i, m := range rec.metas {
		if m.Source != SourceKafka || m.Topic != DefaultTopic || m.Received.IsZero() {
			t.Errorf("meta %d: %+v", i, m)
		}
	}
	if r := skew.Report(); r.Samples != 4 {
		t.Errorf("skew samples %d, want 4 (the handled store's valid transactions)", r.Samples)
	}

	// Each bad message is on the DLQ once, with its reason and source offset.
	dls := readTopic(t, brokers, DefaultDeadLetterTopic)
	if len(dls) != len(bad) {
		t.Fatalf("%d dead letters, want %d", len(dls), len(bad))
	}
	byRaw := map[string]DeadLetter{}
	for _, m := range dls {
		var dl DeadLetter
		if err := json.Unmarshal(m.Value, &dl); err != nil {
			t.Fatalf("decode dead letter: %v", err)
		}
		if header(m, DeadLetterReasonHeader) != dl.Reason {
			t.Errorf("header %q, reason %q", header(m, DeadLetterReasonHeader), dl.Reason)
		}
		raw := dl.Raw
		if dl.RawBase64 != "" {
			raw = "base64:" + dl.RawBase64
		}
		byRaw[raw] = dl
	}
	for name, b := range bad {
		raw := string(b.m.Value)
		key := raw
		switch {
		case name == "binary":
			key = "base64:/wATNw=="
		case len(raw) > maxDeadLetterRaw:
			key = raw[:maxDeadLetterRaw]
		}
		dl, ok := byRaw[key]
		if !ok {
			t.Errorf("%s: no dead letter", name)
			continue
		}
		if dl.Reason != b.reason || !strings.Contains(strings.Join(dl.Errors, "; "), b.errs) {
			t.Errorf("%s: reason %q errors %q; want %q containing %q", name, dl.Reason, dl.Errors, b.reason, b.errs)
		}
		if src := where[raw]; dl.Source != src {
			t.Errorf("%s: source %+v, want %+v", name, dl.Source, src)
		}
		if name == "wrong type" && (dl.Store != "s1" || dl.Register != "r1") {
			t.Errorf("%s: store/register %q/%q", name, dl.Store, dl.Register)
		}
	}

	// Everything is committed: a restart of the group starts after it.
	ends := endOffsets(t, brokers, DefaultTopic)
	if got := committedOffsets(t, brokers, "g-test", DefaultTopic); fmt.Sprint(got) != fmt.Sprint(ends) {
		t.Errorf("committed %v, want the log ends %v", got, ends)
	}
	rec2 := &handlerLog{}
	c2, err := NewConsumer(ConsumerConfig{Brokers: brokers, GroupID: "g-test", Store: "s1", DeadLetters: dlq, Log: testLogger()}, rec2.handle)
	if err != nil {
		t.Fatal(err)
	}
	stop2 := runConsumer(t, c2)
	produceRaw(t, brokers, DefaultTopic, posMessage(t, "s1", "r2", "t-6", nil))
	eventually(t, "t-6 handled by the restarted group", func() bool { return rec2.has("t-6") })
	stop2()
	if ids := rec2.ids(); len(ids) != 1 || c2.Stats().Received != 1 {
		t.Errorf("restarted group handled %v (received %d), want only t-6", ids, c2.Stats().Received)
	}
}

// A transaction whose handler never succeeded is not committed: the next
// member of the group gets it again.
func TestConsumerDoesNotCommitUnhandled(t *testing.T) {
	brokers := startKafka(t)
	m := posMessage(t, "s1", "r1", "t-stuck", nil)
	produceRaw(t, brokers, DefaultTopic, m)
	dlq := NewDeadLetters(brokers, "", testLogger())
	defer dlq.Close()

	rec := &handlerLog{failFirst: map[string]int{"t-stuck": -1}}
	c, err := NewConsumer(ConsumerConfig{Brokers: brokers, GroupID: "g-stuck", DeadLetters: dlq, Log: testLogger()}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, c)
	eventually(t, "a retry of the failing handler", func() bool { return c.Stats().HandlerErrors >= 2 })
	stop()
	for p, off := range committedOffsets(t, brokers, "g-stuck", DefaultTopic) {
		if off > 0 {
			t.Errorf("partition %d committed to %d though nothing was handled", p, off)
		}
	}

	rec2 := &handlerLog{}
	c2, err := NewConsumer(ConsumerConfig{Brokers: brokers, GroupID: "g-stuck", DeadLetters: dlq, Log: testLogger()}, rec2.handle)
	if err != nil {
		t.Fatal(err)
	}
	stop2 := runConsumer(t, c2)
	eventually(t, "t-stuck redelivered", func() bool { return rec2.has("t-stuck") })
	stop2()
}

// A dead-letter write that fails is retried and the message is not
// committed past until it is written: a broken DLQ loses nothing.
func TestConsumerRetriesDeadLetters(t *testing.T) {
	brokers := startKafka(t)
	produceRaw(t, brokers, DefaultTopic, kafka.Message{Key: []byte("s1/r1"), Value: []byte("garbage")})
	// The DLQ points at a broker that is not there.
	dead := NewDeadLetters([]string{freeAddr(t)}, "", testLogger())
	defer dead.Close()
	rec := &handlerLog{}
	c, err := NewConsumer(ConsumerConfig{Brokers: brokers, GroupID: "g-dlq", DeadLetters: dead, Log: testLogger()}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, c)
	eventually(t, "a failed dead-letter write", func() bool { return c.Stats().DeadLetterErrors >= 1 })
	stop()
	for p, off := range committedOffsets(t, brokers, "g-dlq", DefaultTopic) {
		if off > 0 {
			t.Errorf("partition %d committed to %d though the dead letter was not written", p, off)
		}
	}
	if len(readTopic(t, brokers, DefaultDeadLetterTopic)) != 0 {
		t.Error("dead letter written to the real broker")
	}
}

func TestNewConsumerChecksConfig(t *testing.T) {
	dlq := NewDeadLetters([]string{"127.0.0.1:1"}, "", testLogger())
	defer dlq.Close()
	h := func(context.Context, Transaction, Meta) error { return nil }
	for name, c := range map[string]struct {
		cfg ConsumerConfig
		h   Handler
	}{
		"no brokers": {ConsumerConfig{GroupID: "g", DeadLetters: dlq}, h},
		"no group":   {ConsumerConfig{Brokers: []string{"x:1"}, DeadLetters: dlq}, h},
		"no dlq":     {ConsumerConfig{Brokers: []string{"x:1"}, GroupID: "g"}, h},
		"no handler": {ConsumerConfig{Brokers: []string{"x:1"}, GroupID: "g", DeadLetters: dlq}, nil},
	} {
		if _, err := NewConsumer(c.cfg, c.h); err == nil || !strings.HasPrefix(err.Error(), "pos: consumer:") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
