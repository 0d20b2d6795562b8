package events

import (
	"errors"
	"log/slog"
	"maps"
	"time"
)

// DefaultTopics maps each event type to its Kafka topic. Config.Topics
// entries override or extend it.
var DefaultTopics = map[string]string{
	TypeCrossing:      "storesight.crossings",
	TypeLineCount:     "storesight.counts",
	TypeZoneOccupancy: "storesight.counts",
	TypeCameraStatus:  "storesight.camera-status",
	TypeAlert:         "storesight.alerts",
	TypePOSCheck:      "storesight.pos.checks",
	TypeRisk:          "storesight.risk",
	TypeConversion:    "storesight.conversion",
}

// Config configures a KafkaSink. Zero values take the defaults noted.
type Config struct {
	// Brokers are bootstrap addresses (host:port). Required.
	Brokers []string
	// ClientID names this producer in broker logs and quotas. Default "storesight".
	ClientID string
	// Topics maps event type to topic, merged over DefaultTopics; empty
	// values are ignored.
	Topics map[string]string
	// QueueSize bounds the in-memory queue between Publish and the writer.
	// Default 1024.
	QueueSize int
	// SpillDir is where events go when the queue is full (Kafka slow or
	// down) and where undelivered events are kept across restarts. Empty
	// disables spilling: a full queue then makes Publish return ErrQueueFull.
	// Events Kafka rejects for good go to failed.jsonl there. Use one
	// directory per sink.
	SpillDir string
	// BatchTimeout is the most the writer waits for more events to fill a
	// batch once it has one; it bounds the latency batching adds. A backlog
	// of BatchSize events is written at once. Default 50ms.
	BatchTimeout time.Duration
	// WriteTimeout bounds one produce request. Default 10s.
	WriteTimeout time.Duration
	// BatchSize is the most events handed to one write. Default 500.
	BatchSize int
	// Partitions and ReplicationFactor are used when the sink creates
	// missing topics. Zero leaves them to the broker defaults.
	Partitions        int
	ReplicationFactor int
	// RetryBackoffMax caps the wait between failed writes (the wait starts
	// at 100ms and doubles). Default 5s.
	RetryBackoffMax time.Duration
	// Logger receives warnings about failed writes. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, errors.New("events: kafka sink needs at least one broker address")
	}
	if c.ClientID == "" {
		c.ClientID = "storesight"
	}
	topics := maps.Clone(DefaultTopics)
	for typ, topic := range c.Topics {
		if topic != "" { // an unset config field keeps the default
			topics[typ] = topic
		}
	}
	c.Topics = topics
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = 50 * time.Millisecond
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.RetryBackoffMax <= 0 {
		c.RetryBackoffMax = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// topicList returns the distinct topics, for creating them.
func (c Config) topicList() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range c.Topics {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
