package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Payload shapes as the counting package encodes them (same JSON tags).
type testPoint struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

type testCrossing struct {
	Line         string    `json:"line"`
	Direction    string    `json:"direction"`
	TrackID      uint64    `json:"track_id"`
	Frame        int64     `json:"frame"`
	StreamTimeMS int64     `json:"stream_time_ms"`
	Time         time.Time `json:"time"`
	Point        testPoint `json:"point"`
	Score        float32   `json:"score"`
}

type testLineCount struct {
	Line        string         `json:"line"`
	WindowStart time.Time      `json:"window_start"`
	WindowEnd   time.Time      `json:"window_end"`
	Counts      map[string]int `json:"counts"`
	Totals      map[string]int `json:"totals"`
	Net         int            `json:"net"`
}

type testZoneOccupancy struct {
	Zone        string    `json:"zone"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Max         int       `json:"max"`
	Mean        float64   `json:"mean"`
	Frames      int       `json:"frames"`
}

var testBase = time.Date(2025, 3, 14, 9, 30, 0, 123456789, time.UTC)

// crossingEvent is the seq-th crossing of a camera; seq is recoverable from
// data.frame to check order.
func crossingEvent(t testing.TB, store, camera string, seq int) Envelope {
	t.Helper()
	at := testBase.Add(time.Duration(seq) * 40 * time.Millisecond)
	d := testCrossing{Line: "door", Direction: "in", TrackID: uint64(seq % 7), Frame: int64(seq),
		StreamTimeMS: int64(seq) * 40, Time: at, Point: testPoint{X: 320.5, Y: 200}, Score: 0.87}
	id := ID(TypeCrossing, store, camera, "door", strconv.Itoa(seq%7), strconv.Itoa(seq))
	e, err := NewEnvelope(id, TypeCrossing, Store{ID: store, Region: "eu-west"}, camera, at, d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func lineCountEvent(t testing.TB, store, camera string, seq int) Envelope {
	t.Helper()
	start := testBase.Truncate(time.Minute).Add(time.Duration(seq) * time.Minute)
	d := testLineCount{Line: "door", WindowStart: start, WindowEnd: start.Add(time.Minute),
		Counts: map[string]int{"in": 3, "out": 1}, Totals: map[string]int{"in": 30 + seq, "out": 10}, Net: 20 + seq}
	id := ID(TypeLineCount, store, camera, "door", start.Format(time.RFC3339))
	e, err := NewEnvelope(id, TypeLineCount, Store{ID: store}, camera, start.Add(time.Minute), d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func zoneEvent(t testing.TB, store, camera string, seq int) Envelope {
	t.Helper()
	start := testBase.Truncate(time.Minute).Add(time.Duration(seq) * time.Minute)
	d := testZoneOccupancy{Zone: "till", WindowStart: start, WindowEnd: start.Add(time.Minute), Max: 4, Mean: 1.75, Frames: 1500}
	id := ID(TypeZoneOccupancy, store, camera, "till", start.Format(time.RFC3339))
	e, err := NewEnvelope(id, TypeZoneOccupancy, Store{ID: store, Region: "eu"}, camera, start.Add(time.Minute), d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func startBroker(t testing.TB, topics ...string) *Embedded {
	t.Helper()
	b, err := StartEmbedded("127.0.0.1:0", topics...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func closeSink(t testing.TB, s *KafkaSink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// consumed is one message read back, with its partition.
type consumed struct {
	kafka.Message
	env Envelope
}

// consumeAll reads every message in topic, exactly: it asks the broker for
// each partition's end offset and reads up to it, so duplicates and
// missing events both show.
func consumeAll(t testing.TB, brokers []string, topic string) []consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		t.Fatalf("metadata for %s: %+v", topic, md.Topics)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range md.Topics[0].Partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p.ID))
	}
	offs, err := c.ListOffsets(ctx, req)
	if err != nil {
		t.Fatalf("list offsets: %v", err)
	}
	var out []consumed
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			t.Fatalf("offsets of %s/%d: %v", topic, po.Partition, po.Error)
		}
		if po.LastOffset == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: po.Partition, MaxWait: 100 * time.Millisecond})
		for i := int64(0); i < po.LastOffset; i++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d offset %d: %v", topic, po.Partition, i, err)
			}
			var e Envelope
			if err := json.Unmarshal(m.Value, &e); err != nil {
				t.Fatalf("decode %s/%d@%d: %v", topic, m.Partition, m.Offset, err)
			}
			out = append(out, consumed{Message: m, env: e})
		}
		r.Close()
	}
	return out
}

func partitionsOf(t testing.TB, brokers []string, topic string) int {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := c.Metadata(context.Background(), &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		t.Fatalf("metadata for %s: %v", topic, err)
	}
	return len(md.Topics[0].Partitions)
}

func header(m kafka.Message, k string) string {
	for _, h := range m.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// checkExactlyOnceInOrder checks that got holds exactly the events of want,
// once each, and that each key's events arrived in publish order.
func checkExactlyOnceInOrder(t testing.TB, want []Envelope, got []consumed) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("consumed %d events, published %d", len(got), len(want))
	}
	pos := map[string]int{}
	for i, e := range want {
		pos[e.ID] = i
	}
	seen := map[string]bool{}
	byKey := map[string][]consumed{}
	for _, c := range got {
		if _, ok := pos[c.env.ID]; !ok {
			t.Fatalf("consumed unknown event %s", c.env.ID)
		}
		if seen[c.env.ID] {
			t.Fatalf("event %s consumed twice", c.env.ID)
		}
		seen[c.env.ID] = true
		byKey[string(c.Key)] = append(byKey[string(c.Key)], c)
	}
	for k, cs := range byKey {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Offset < cs[j].Offset })
		for i := 1; i < len(cs); i++ {
			if cs[i].Partition != cs[0].Partition {
				t.Errorf("key %s spread over partitions %d and %d", k, cs[0].Partition, cs[i].Partition)
			}
			if pos[cs[i].env.ID] < pos[cs[i-1].env.ID] {
				t.Fatalf("key %s out of order: %s (published #%d) after %s (#%d)", k,
					cs[i].env.ID, pos[cs[i].env.ID], cs[i-1].env.ID, pos[cs[i-1].env.ID])
			}
		}
	}
}

func cameraName(i int) string { return fmt.Sprintf("cam-%d", i) }
