package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
)

// frameTolerance is how far (in frames, 10 fps) an event may be from its
// label. Labels are within ±3 frames of the feet passing the line; the
// counter reports the first frame the anchor is past the 8 px band, which at
// 3-6 px per frame walking speed is 1-3 frames after the line, and the box's
// bottom edge jitters by a few pixels. ±8 frames (0.8 s) covers both without
// letting one person's crossing match another's: the closest two labels of
// the same line and direction are further apart except in the groups the
// labels mark ambiguous.
const frameTolerance = 8

// alertSteps is how many alert events a run handed to the sink.
func alertSteps(sum *app.Summary) int64 {
	if sum.Alerts == nil {
		return 0
	}
	var n int64
	for _, v := range sum.Alerts.Steps {
		n += v
	}
	return n
}

// TestVtestCrossingsThroughEmbeddedKafka runs configs/vtest.yml (the `make
// run` configuration) offline through the whole product: file decoder,
// YOLOX-Nano in ONNX Runtime, ByteTrack, line counting, and the Kafka sink
// into the embedded kfake broker over TCP. A kafka-go consumer then reads
// the crossing and count topics and the events are matched against the
// hand labels in testdata/vtest.
func TestVtestCrossingsThroughEmbeddedKafka(t *testing.T) {
	cfg, err := config.Load("../configs/vtest.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Cameras[0].Realtime = false // as fast as analysis goes, nothing dropped
	cfg.Kafka.EmbeddedAddr = "127.0.0.1:0"
	cfg.Kafka.SpillDir = t.TempDir()
	cfg.SMS.StateDir, cfg.Alerts.Snapshots.Dir = t.TempDir(), t.TempDir()
	cfg.Model.Dir = filepath.Join("..", ".deps", "models")
	cfg.Outputs.Stdout = false

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, app.Options{KeepBroker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	brokers := a.KafkaBrokers()
	sum, err := a.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := sum.Cameras[0].Stats
	if st.Decoded != 795 || st.Analysed != 795 || st.Dropped != 0 {
		t.Fatalf("frames: %+v, want all 795 decoded and analysed", st)
	}
	// configs/vtest.yml also has a loitering rule: one man waits at the
	// meeting point (testdata/alerts/LABELS.md), raised and resolved.
	if sum.Alerts == nil || sum.Alerts.Steps["raised"] != 1 || sum.Alerts.Steps["resolved"] != 1 {
		t.Fatalf("alerts: %+v, want the loitering alert at the meeting point raised and resolved", sum.Alerts)
	}
	if sum.Kafka.Published != uint64(sum.EventsPublished+alertSteps(sum)) || sum.EventsFailed != 0 {
		t.Fatalf("events: %d crossing/count and %d alert events handed to the sink, %d failed; kafka stats %+v",
			sum.EventsPublished, alertSteps(sum), sum.EventsFailed, *sum.Kafka)
	}

	crossings := consume(t, brokers, cfg.Kafka.Topics.Crossings)
	var got []counting.Crossing
	ids := map[string]bool{}
	for _, m := range crossings {
		if err := events.CheckSchemas(m.Value); err != nil {
			t.Fatalf("crossing at offset %d: %v", m.Offset, err)
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatalf("message at offset %d: %v", m.Offset, err)
		}
		if string(m.Key) != "demo-store/plaza" || e.Type != events.TypeCrossing || e.Store.Region != "demo" {
			t.Fatalf("message key %q type %q store %+v", m.Key, e.Type, e.Store)
		}
		if ids[e.ID] {
			t.Fatalf("duplicate event id %s", e.ID)
		}
		ids[e.ID] = true
		var c counting.Crossing
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatal(err)
		}
		if !e.Time.Equal(c.Time) || !c.Time.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Add(c.StreamTime)) {
			t.Fatalf("event time %v, crossing time %v, stream time %v", e.Time, c.Time, c.StreamTime)
		}
		got = append(got, c)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Frame < got[j].Frame })

	labels := readLabels(t)
	matched := matchCrossings(labels, got)
	type key struct{ line, dir string }
	counts := map[key]int{}
	for _, c := range got {
		counts[key{c.Line, c.Direction}]++
	}
	for _, k := range []key{{"west", "leftward"}, {"west", "rightward"}, {"east", "leftward"}, {"east", "rightward"}} {
		lo, hi := 0, 0
		for _, l := range labels {
			if l.Line == k.line && l.Direction == k.dir {
				hi++
				if !l.Ambiguous {
					lo++
				}
			}
		}
		// Ambiguous labels (people passing each other on the line, one
		// hidden) may or may not be counted by any tracker; certain ones
		// must be.
		t.Logf("%s %s: %d events, labels %d certain / %d in all", k.line, k.dir, counts[k], lo, hi)
		if counts[k] < lo || counts[k] > hi {
			t.Errorf("%s %s: %d crossings, want between %d (certain labels) and %d (all labels)", k.line, k.dir, counts[k], lo, hi)
		}
	}
	// Recall on the certain labels: a person who stops on the line, is not
	// detected for a few frames and walks back comes back with a new track
	// id that starts inside the band, so that turn-back is not counted (E32
	// at frame 743 with yolox_nano). One such miss in 20 is tolerated;
	// more is a regression.
	certain, missed := 0, 0
	for i, l := range labels {
		if l.Ambiguous {
			continue
		}
		certain++
		if matched.label[i] < 0 {
			missed++
			t.Logf("certain label missed: %s %s at frame %d (%s)", l.Line, l.Direction, l.Frame, l.Description)
		}
	}
	t.Logf("recall on certain labels: %d/%d", certain-missed, certain)
	if missed*20 > certain {
		t.Errorf("%d of %d certain labels missed, want at most 1 in 20", missed, certain)
	}
	for i, c := range got {
		if matched.event[i] < 0 {
			t.Errorf("crossing with no label within ±%d frames: %s %s track %d at frame %d", frameTolerance, c.Line, c.Direction, c.TrackID, c.Frame)
		}
	}

	// Per-minute counts: the video covers 09:00:00-09:01:19.4, so two
	// windows per line, whose counts add up to the crossings.
	counted := map[key]int{}
	windows := 0
	for _, m := range consume(t, brokers, cfg.Kafka.Topics.Counts) {
		if err := events.CheckSchemas(m.Value); err != nil {
			t.Fatalf("count event at offset %d: %v", m.Offset, err)
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != events.TypeLineCount {
			continue
		}
		var lc counting.LineCount
		if err := json.Unmarshal(e.Data, &lc); err != nil {
			t.Fatal(err)
		}
		windows++
		for dir, n := range lc.Counts {
			counted[key{lc.Line, dir}] += n
		}
	}
	if windows != 4 {
		t.Errorf("%d line_count events, want 4 (2 lines x 2 minutes)", windows)
	}
	for k, n := range counts {
		if counted[k] != n {
			t.Errorf("%s %s: per-minute counts add up to %d, crossings %d", k.line, k.dir, counted[k], n)
		}
	}
}

type matching struct{ label, event []int }

// matchCrossings pairs events with labels of the same line and direction
// within frameTolerance, greedily by closeness, each used once.
func matchCrossings(labels []label, got []counting.Crossing) matching {
	m := matching{label: make([]int, len(labels)), event: make([]int, len(got))}
	for i := range m.label {
		m.label[i] = -1
	}
	for i := range m.event {
		m.event[i] = -1
	}
	type pair struct{ l, e, d int }
	var pairs []pair
	for i, l := range labels {
		for j, c := range got {
			d := int(c.Frame - l.Frame)
			if d < 0 {
				d = -d
			}
			if l.Line == c.Line && l.Direction == c.Direction && d <= frameTolerance {
				pairs = append(pairs, pair{i, j, d})
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].d < pairs[b].d })
	for _, p := range pairs {
		if m.label[p.l] < 0 && m.event[p.e] < 0 {
			m.label[p.l], m.event[p.e] = p.e, p.l
		}
	}
	return m
}

// consume reads every message of every partition of topic, from the start
// to the end offset seen when it begins.
func consume(t *testing.T, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for _, p := range parts {
		lc, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := lc.ReadLastOffset()
		lc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID, MaxWait: 100 * time.Millisecond})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatal(fmt.Errorf("read %s/%d: %w", topic, p.ID, err))
			}
			out = append(out, m)
			if m.Offset+1 >= last {
				break
			}
		}
		r.Close()
	}
	return out
}
