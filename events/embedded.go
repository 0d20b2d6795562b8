package events

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultEmbeddedAddr is where StartEmbedded listens when given "".
const DefaultEmbeddedAddr = "127.0.0.1:9092"

// embeddedPartitions is the partition count of seeded and auto-created
// topics: a few, so per-key ordering across partitions is exercised.
const embeddedPartitions = 3

// Embedded is an in-process, in-memory single-broker Kafka (kfake) for
// tests, demos and single-box runs. It speaks the Kafka protocol over TCP,
// so kafka-go, kcat or any other client can use it. Nothing is persisted.
type Embedded struct {
	c     *kfake.Cluster
	addrs []string
}

// StartEmbedded starts a broker listening on addr (DefaultEmbeddedAddr if
// empty; port 0 picks a free port) with the given topics created. Topics
// that clients ask for later are created on demand.
func StartEmbedded(addr string, topics ...string) (*Embedded, error) {
	if addr == "" {
		addr = DefaultEmbeddedAddr
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("events: embedded kafka address %q: %w", addr, err)
	}
	// kfake always binds 127.0.0.1 itself; ListenFn lets us bind the
	// address we were asked for, and kfake advertises whatever we bound.
	var listenErr error
	listen := func(network, _ string) (net.Listener, error) {
		ln, err := net.Listen(network, addr)
		listenErr = err
		return ln, err
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(listen),
		kfake.ClusterID("storesight-embedded"),
		kfake.DefaultNumPartitions(embeddedPartitions),
		kfake.AllowAutoTopicCreation(),
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(embeddedPartitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		if listenErr != nil && errors.Is(listenErr, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("events: embedded kafka: %s is already in use (another Kafka running? choose another address): %w", addr, err)
		}
		return nil, fmt.Errorf("events: start embedded kafka on %s: %w", addr, err)
	}
	return &Embedded{c: c, addrs: c.ListenAddrs()}, nil
}

// Addrs returns the broker's host:port, for Config.Brokers.
func (e *Embedded) Addrs() []string { return append([]string(nil), e.addrs...) }

// Close stops the broker, dropping all its data.
func (e *Embedded) Close() { e.c.Close() }
