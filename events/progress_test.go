package events

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestProgressWaitsForWhatIsInTheTopic(t *testing.T) {
	t.Parallel()
	emb, err := StartEmbedded("127.0.0.1:0", "p.topic")
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(emb.Addrs()...), Topic: "p.topic", Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond}
	defer w.Close()
	msgs := []kafka.Message{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}, {Key: []byte("c"), Value: []byte("3")}}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	ends, err := EndOffsets(ctx, emb.Addrs(), "p.topic")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range ends {
		total += e
	}
	if total != 3 {
		t.Fatalf("end offsets %v, want 3 messages in all", ends)
	}
	p := &Progress{Brokers: emb.Addrs(), Topic: "p.topic"}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	if err := p.WaitCaughtUp(short); err == nil {
		t.Fatal("caught up before anything was handled")
	}
	stop()
	// Read everything back and mark it, as a consumer would.
	for part, end := range ends {
		for off := int64(0); off < end; off++ {
			p.Done(part, off)
		}
	}
	if err := p.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
}
