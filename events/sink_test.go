package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSinkPublishesToKafka(t *testing.T) {
	t.Parallel()
	b := startBroker(t) // no topics: the sink must create them
	s, err := NewKafkaSink(Config{Brokers: b.Addrs(), Partitions: 4, BatchTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var crossings, counts []Envelope
	const perCamera = 100
	for i := 0; i < perCamera; i++ {
		for c := 0; c < 3; c++ {
			store := "s" + string(rune('1'+c%2))
			e := crossingEvent(t, store, cameraName(c), i)
			crossings = append(crossings, e)
			if err := s.Publish(e); err != nil {
				t.Fatal(err)
			}
		}
		if i%10 == 0 {
			for _, e := range []Envelope{lineCountEvent(t, "s1", cameraName(0), i), zoneEvent(t, "s1", cameraName(0), i)} {
				counts = append(counts, e)
				if err := s.Publish(e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	closeSink(t, s)

	st := s.Stats()
	if want := uint64(len(crossings) + len(counts)); st.Published != want || st.Spilled != 0 || st.Failed != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v, want %d published and nothing else", st, want)
	}
	if n := partitionsOf(t, b.Addrs(), "storesight.crossings"); n != 4 {
		t.Fatalf("crossings topic has %d partitions, want the 4 the sink asked for", n)
	}

	got := consumeAll(t, b.Addrs(), "storesight.crossings")
	checkExactlyOnceInOrder(t, crossings, got)
	for _, c := range got {
		e := c.env
		if string(c.Key) != e.Store.ID+"/"+e.Camera {
			t.Fatalf("key %q for event of %s/%s", c.Key, e.Store.ID, e.Camera)
		}
		want := map[string]string{
			"ce_id": e.ID, "ce_type": "crossing", "ce_source": "storesight/" + e.Store.ID + "/" + e.Camera,
			"ce_specversion": "1.0", "ce_time": e.Time.Format(time.RFC3339Nano), "content-type": "application/json",
		}
		for k, v := range want {
			if h := header(c.Message, k); h != v {
				t.Fatalf("header %s = %q, want %q", k, h, v)
			}
		}
		if errs := eventViolations(t, c.Value); len(errs) > 0 {
			t.Fatalf("consumed value violates the schemas: %v", errs)
		}
		if !c.Time.Equal(e.ProcessedAt.Truncate(time.Millisecond)) {
			t.Fatalf("record timestamp %v, want processed_at %v", c.Time, e.ProcessedAt)
		}
	}
	checkExactlyOnceInOrder(t, counts, consumeAll(t, b.Addrs(), "storesight.counts"))
}

// waitFor polls cond until it holds or the deadline passes; it bounds a
// wait for asynchronous delivery, it does not measure speed.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSinkSpillsWhileKafkaIsDownAndReplaysInOrder(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dir := t.TempDir()
	s, err := NewKafkaSink(Config{Brokers: []string{addr}, QueueSize: 4, SpillDir: dir,
		BatchTimeout: 5 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	var want []Envelope
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			e := crossingEvent(t, "s1", cameraName(i%3), i)
			want = append(want, e)
			if err := s.Publish(e); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
	}
	publish(0, 200)
	st := s.Stats()
	if st.Spilled < 190 || st.Published != 0 || st.SpillBytes == 0 {
		t.Fatalf("with Kafka down and a queue of 4, stats %+v: want nearly all spilled", st)
	}
	waitFor(t, "a failed write", 10*time.Second, func() bool { return s.Stats().WriteErrors > 0 })

	b, err := StartEmbedded(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// Events published during replay must queue behind the spilled ones.
	publish(200, 260)
	waitFor(t, "replay", 30*time.Second, func() bool { return s.Stats().Published == 260 })
	if st := s.Stats(); st.SpillBytes != 0 {
		t.Fatalf("spill file not drained after replay: %+v", st)
	}
	spilled := s.Stats().Spilled
	publish(260, 261)
	if s.Stats().Spilled != spilled {
		t.Fatal("after replay, a publish into an empty queue was spilled")
	}
	publish(261, 300)
	closeSink(t, s)

	st = s.Stats()
	if st.Published != 300 || st.Replayed != st.Spilled || st.Failed != 0 || st.Dropped != 0 || st.SpillBytes != 0 {
		t.Fatalf("stats %+v: want 300 published, every spilled event replayed", st)
	}
	if _, err := os.Stat(filepath.Join(dir, spillFileName)); !os.IsNotExist(err) {
		t.Fatalf("spill file still there after replay: %v", err)
	}
	checkExactlyOnceInOrder(t, want, consumeAll(t, b.Addrs(), "storesight.crossings"))
}

func TestSinkRecoversWhenBrokerRestarts(t *testing.T) {
	t.Parallel()
	first := startBroker(t)
	addr := first.Addrs()[0]
	s, err := NewKafkaSink(Config{Brokers: []string{addr}, QueueSize: 8, SpillDir: t.TempDir(),
		BatchTimeout: 5 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := s.Publish(crossingEvent(t, "s1", "cam-0", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "first broker to get 20 events", 10*time.Second, func() bool { return s.Stats().Published == 20 })
	first.Close()

	var want []Envelope
	for i := 20; i < 120; i++ {
		e := crossingEvent(t, "s1", cameraName(i%2), i)
		want = append(want, e)
		if err := s.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a failed write", 10*time.Second, func() bool { return s.Stats().WriteErrors > 0 })
	second, err := StartEmbedded(addr) // a fresh, empty broker at the same address
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	closeSink(t, s)
	if st := s.Stats(); st.Published != 120 || st.Spilled == 0 || st.Replayed != st.Spilled {
		t.Fatalf("stats %+v: want all 120 published, spilled ones replayed", st)
	}
	checkExactlyOnceInOrder(t, want, consumeAll(t, second.Addrs(), "storesight.crossings"))
}

func TestSinkCloseTimeoutKeepsEventsForNextRun(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := Config{Brokers: []string{addr}, QueueSize: 8, SpillDir: dir,
		BatchTimeout: 5 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond}
	s, err := NewKafkaSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var want []Envelope
	for i := 0; i < 50; i++ {
		e := crossingEvent(t, "s1", cameraName(i%3), i)
		want = append(want, e)
		if err := s.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing listens: Close cannot deliver, so it must keep all 50.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err = s.Close(ctx)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "50 events kept") {
		t.Fatalf("Close with Kafka down = %v, want an error saying 50 events were kept", err)
	}
	if err := s.Publish(want[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	if st := s.Stats(); st.Published != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v: nothing should be published or dropped", st)
	}
	// A crash in the middle of an append leaves a torn last line.
	f, err := os.OpenFile(filepath.Join(dir, spillFileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"id":"torn","ty`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	b, err := StartEmbedded(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s2, err := NewKafkaSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	later := crossingEvent(t, "s1", "cam-0", 50)
	if err := s2.Publish(later); err != nil {
		t.Fatal(err)
	}
	want = append(want, later)
	closeSink(t, s2)
	// The new event queues behind the old ones in the spill file.
	if st := s2.Stats(); st.Published != 51 || st.Spilled != 1 || st.Replayed != 51 || st.Failed != 1 {
		t.Fatalf("second run stats %+v: want 50 old + 1 new replayed, the torn line failed", st)
	}
	checkExactlyOnceInOrder(t, want, consumeAll(t, b.Addrs(), "storesight.crossings"))
	dead, err := os.ReadFile(filepath.Join(dir, deadLetterFileName))
	if err != nil || string(dead) != "{\"id\":\"torn\",\"ty\n" {
		t.Fatalf("dead letters = %q, %v; want the torn line", dead, err)
	}
	if _, err := os.Stat(filepath.Join(dir, spillFileName)); !os.IsNotExist(err) {
		t.Fatalf("spill file still there after replay: %v", err)
	}
}

func TestSinkWithoutSpillDirReportsFullQueue(t *testing.T) {
	t.Parallel()
	s, err := NewKafkaSink(Config{Brokers: []string{freeAddr(t)}, QueueSize: 2, RetryBackoffMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	full := 0
	for i := 0; i < 10; i++ {
		if err := s.Publish(crossingEvent(t, "s1", "cam-0", i)); errors.Is(err, ErrQueueFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if full == 0 {
		t.Fatal("no ErrQueueFull with a queue of 2 and Kafka down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err == nil || !strings.Contains(err.Error(), "dropped 10 events") {
		t.Fatalf("Close = %v, want it to report all 10 events dropped", err)
	}
	if st := s.Stats(); st.Dropped != 10 || st.Published != 0 {
		t.Fatalf("stats %+v: want 10 dropped", st)
	}
}

func TestPublishRejectsBadEvents(t *testing.T) {
	t.Parallel()
	s, err := NewKafkaSink(Config{Brokers: []string{freeAddr(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	good := crossingEvent(t, "s1", "cam-0", 1)
	unknown := good
	unknown.Type = "no_such_type"
	if err := s.Publish(unknown); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("unknown type: %v", err)
	}
	noStore := good
	noStore.Store.ID = ""
	if err := s.Publish(noStore); err == nil || !strings.Contains(err.Error(), "store.id") {
		t.Fatalf("missing store id: %v", err)
	}
	notObject := good
	notObject.Data = []byte(`[1,2]`)
	if err := s.Publish(notObject); err == nil {
		t.Fatal("data that is not an object was accepted")
	}
	if _, err := NewKafkaSink(Config{}); err == nil {
		t.Fatal("a sink without brokers was created")
	}
}

func TestSinkRoutesConfiguredTypes(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	s, err := NewKafkaSink(Config{Brokers: b.Addrs(), BatchTimeout: 5 * time.Millisecond,
		Topics: map[string]string{"camera_status": "storesight.cameras", TypeZoneOccupancy: "storesight.occupancy", TypeLineCount: ""}})
	if err != nil {
		t.Fatal(err)
	}
	status, err := NewEnvelope(ID("camera_status", "s1", "cam-0", "1"), "camera_status", Store{ID: "s1"}, "cam-0", testBase, map[string]string{"state": "up"})
	if err != nil {
		t.Fatal(err)
	}
	zone := zoneEvent(t, "s1", "cam-0", 1)
	cross := crossingEvent(t, "s1", "cam-0", 1)
	count := lineCountEvent(t, "s1", "cam-0", 1) // empty override: default topic
	for _, e := range []Envelope{status, zone, cross, count} {
		if err := s.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	closeSink(t, s)
	for topic, want := range map[string]Envelope{"storesight.cameras": status, "storesight.occupancy": zone, "storesight.crossings": cross, "storesight.counts": count} {
		checkExactlyOnceInOrder(t, []Envelope{want}, consumeAll(t, b.Addrs(), topic))
	}
}

func TestSinkDeadLettersWhatKafkaCannotTake(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	dir := t.TempDir()
	// A spill file from a run (a newer version) that had a topic for
	// "shelf_gap", a type this sink does not know.
	alert, err := NewEnvelope(ID("shelf_gap", "1"), "shelf_gap", Store{ID: "s1"}, "cam-0", testBase, map[string]string{"rule": "r"})
	if err != nil {
		t.Fatal(err)
	}
	old := crossingEvent(t, "s1", "cam-0", 0)
	var spill []byte
	for _, e := range []Envelope{alert, old} {
		line, _ := json.Marshal(e)
		spill = append(append(spill, line...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, spillFileName), spill, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewKafkaSink(Config{Brokers: b.Addrs(), SpillDir: dir, BatchTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	huge := crossingEvent(t, "s1", "cam-0", 1)
	huge.Data = json.RawMessage(`{"line":"` + strings.Repeat("x", 2<<20) + `"}`)
	after := crossingEvent(t, "s1", "cam-0", 2)
	for _, e := range []Envelope{huge, after} {
		if err := s.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	closeSink(t, s)
	if st := s.Stats(); st.Published != 2 || st.Failed != 2 {
		t.Fatalf("stats %+v: want the old and the later crossing published, the alert and the 2 MiB event failed", st)
	}
	checkExactlyOnceInOrder(t, []Envelope{old, after}, consumeAll(t, b.Addrs(), "storesight.crossings"))
	dead, err := os.ReadFile(filepath.Join(dir, deadLetterFileName))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range bytes.Split(bytes.TrimSpace(dead), []byte("\n")) {
		var e Envelope
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("dead letter %.80s: %v", l, err)
		}
		ids = append(ids, e.ID)
	}
	if len(ids) != 2 || ids[0] != alert.ID || ids[1] != huge.ID {
		t.Fatalf("dead letters %v, want [%s %s]", ids, alert.ID, huge.ID)
	}
}
