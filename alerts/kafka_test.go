package alerts

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/events"
)

// readTopic reads every message of topic up to each partition's end
// offset, so both missing and duplicate events show.
func readTopic(t *testing.T, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		t.Fatalf("metadata of %s: %v %+v", topic, err, md)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range md.Topics[0].Partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p.ID))
	}
	offs, err := c.ListOffsets(ctx, req)
	if err != nil {
		t.Fatalf("list offsets: %v", err)
	}
	var out []kafka.Message
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
				t.Fatalf("read %s/%d@%d: %v", topic, po.Partition, i, err)
			}
			out = append(out, m)
		}
		r.Close()
	}
	return out
}

// The manager's steps reach Kafka through the real sink: one message per
// step, keyed store/camera, CloudEvents headers, schema-valid, each alert's
// steps in order.
func TestManagerPublishesToKafka(t *testing.T) {
	b, err := events.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sink, err := events.NewKafkaSink(events.Config{Brokers: b.Addrs(), Partitions: 3, BatchTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, []Rule{quickKnife}, func(mc *ManagerConfig, _ *EngineConfig) {
		mc.Pub = sink
		mc.UpdateEvery = time.Second
	})
	cams := []string{"till", "door", "floor"}
	for _, cam := range cams {
		for i := 0; i <= 100; i++ {
			s := float32(0)
			if i < 30 {
				s = 0.55 + float32(i)/100 // better every frame: updated each second
			}
			h.e.Result(knifeFrame(cam, i, s))
		}
	}
	tillID := alertID("till", "knife", "", timeAt(0), 2)
	waitFor(t, "every step processed", func() bool { return len(h.notes.got()) == 3*4 })
	if err := h.m.Acknowledge(context.Background(), tillID, "+15559876543", false); err != nil {
		t.Fatal(err)
	}
	h.stopRun()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Failed != 0 || st.Dropped != 0 || st.Spilled != 0 {
		t.Fatalf("sink stats %+v", st)
	}

	msgs := readTopic(t, b.Addrs(), "storesight.alerts")
	// Per camera: raised at 0, updated at 10, 20 (better frames, 1 s
	// apart), resolved at 79 (5 s after 29); till also acknowledged.
	if want := 3*4 + 1; len(msgs) != want {
		t.Fatalf("%d messages, want %d", len(msgs), want)
	}
	steps := map[string][]Alert{}
	seen := map[string]bool{}
	slices.SortFunc(msgs, func(a, b kafka.Message) int {
		if a.Partition != b.Partition {
			return a.Partition - b.Partition
		}
		return int(a.Offset - b.Offset)
	})
	for _, m := range msgs {
		a := decodeAlert(t, m.Value)
		if string(m.Key) != testStore+"/"+a.Camera {
			t.Fatalf("key %q for camera %s", m.Key, a.Camera)
		}
		id := events.ID(a.ID, string(a.State), strconv.Itoa(a.Seq))
		if header(m, events.HeaderID) != id || header(m, events.HeaderType) != events.TypeAlert {
			t.Fatalf("headers %+v", m.Headers)
		}
		if seen[id] {
			t.Fatalf("event %s twice", id)
		}
		seen[id] = true
		steps[a.ID] = append(steps[a.ID], a)
	}
	for _, cam := range cams {
		id := alertID(cam, "knife", "", timeAt(0), 2)
		got := steps[id]
		checkSeq(t, got) // within a partition, in offset order
		want := []State{StateRaised, StateUpdated, StateUpdated, StateResolved}
		if cam == "till" {
			want = append(want, StateAcknowledged)
		}
		if !slices.Equal(states(got), want) {
			t.Fatalf("%s: steps %v, want %v", cam, states(got), want)
		}
		if got[1].Frame != 10 || got[2].Frame != 20 || !got[3].Time.Equal(timeAt(79)) {
			t.Fatalf("%s: steps %+v", cam, got)
		}
	}
	if by := steps[tillID][4].By; by != "+*******6543" {
		t.Fatalf("acknowledged by %q", by)
	}
}

func header(m kafka.Message, k string) string {
	for _, h := range m.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}
