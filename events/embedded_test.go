package events

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestEmbeddedServesKafkaOverTCP(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "storesight.crossings", "storesight.counts")
	addrs := b.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "127.0.0.1:") || strings.HasSuffix(addrs[0], ":0") {
		t.Fatalf("Addrs() = %v, want one concrete 127.0.0.1 port", addrs)
	}
	if n := partitionsOf(t, addrs, "storesight.crossings"); n != embeddedPartitions {
		t.Fatalf("seeded topic has %d partitions, want %d", n, embeddedPartitions)
	}

	// A plain kafka-go connection, as any external client would use.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := kafka.DialLeader(ctx, "tcp", addrs[0], "storesight.counts", 1)
	if err != nil {
		t.Fatalf("dial leader: %v", err)
	}
	defer conn.Close()
	if _, err := conn.WriteMessages(kafka.Message{Key: []byte("k"), Value: []byte("v1")}, kafka.Message{Value: []byte("v2")}); err != nil {
		t.Fatalf("write: %v", err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: addrs, Topic: "storesight.counts", Partition: 1, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for _, want := range []string{"v1", "v2"} {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(m.Value) != want {
			t.Fatalf("read %q, want %q", m.Value, want)
		}
	}
}

func TestEmbeddedReportsPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = StartEmbedded(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("StartEmbedded on a taken port = %v, want a clear 'already in use' error naming the address", err)
	}
	if _, err := StartEmbedded("no-port"); err == nil {
		t.Fatal("an address without a port was accepted")
	}
}
