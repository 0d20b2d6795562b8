package pos

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/events"
)

// DefaultTopic is the raw POS input topic.
const DefaultTopic = "storesight.pos"

// Meta says where and when a transaction was received.
type Meta struct {
	Topic     string
	Partition int
	Offset    int64
	// Received is when the transaction reached storesight: the Kafka
	// message's timestamp (when it was produced; stable across restarts and
	// replays), or the HTTP request's arrival.
	Received time.Time
	Source   string // SourceKafka or SourceHTTP
}

// Handler handles one valid transaction. An error means "not now": the
// consumer retries the same transaction with backoff and commits nothing
// past it until the handler succeeds or the consumer stops.
type Handler func(ctx context.Context, t Transaction, m Meta) error

// ConsumerConfig configures a Consumer.
type ConsumerConfig struct {
	Brokers []string
	Topic   string // default DefaultTopic
	GroupID string // required: offsets are committed for this group
	// Store, when set, passes only this store's transactions to the
	// handler; the others are counted as skipped and committed. Invalid
	// messages are dead-lettered whatever their store (it may be the
	// unreadable part), so consumers of several stores, each in its own
	// group, write the same dead letter under the same id.
	Store string
	// DeadLetters receives every message that is not a valid transaction.
	DeadLetters *DeadLetters
	// Skew, when set, records the arrival skew of each valid transaction
	// passed to the handler.
	Skew *Skew
	// Progress, when set, is told each message handled, so that a run over
	// recorded video can wait until the topic's messages were checked.
	Progress *events.Progress
	Log      *slog.Logger
}

// ConsumerStats counts what a Consumer did.
type ConsumerStats struct {
	Received         int64 `json:"received"`
	Valid            int64 `json:"valid"`
	Invalid          int64 `json:"invalid"`
	Skipped          int64 `json:"skipped"`
	HandlerErrors    int64 `json:"handler_errors"`
	DeadLetterErrors int64 `json:"dead_letter_errors"`
	CommitErrors     int64 `json:"commit_errors"`
	FetchErrors      int64 `json:"fetch_errors"`
}

// Consumer reads raw POS transactions from Kafka as a member of a consumer
// group, validates them, sends the invalid ones to the dead-letter topic
// and passes the valid ones to a Handler, one at a time in partition
// order. A message's offset is committed only after it was dead-lettered
// or handled, so delivery is at least once: a handler must tolerate a
// repeat (Transaction.Key, Dedup).
type Consumer struct {
	cfg     ConsumerConfig
	h       Handler
	log     *slog.Logger
	running atomic.Bool

	received, valid, invalid, skipped                   atomic.Int64
	handlerErrors, dlqErrors, commitErrors, fetchErrors atomic.Int64
}

// Backoff between retries of a failing handler, dead-letter write or fetch.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// NewConsumer checks cfg and returns a consumer; Run starts it.
func NewConsumer(cfg ConsumerConfig, h Handler) (*Consumer, error) {
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("pos: consumer: no brokers")
	case cfg.GroupID == "":
		return nil, errors.New("pos: consumer: a group id is required")
	case cfg.DeadLetters == nil:
		return nil, errors.New("pos: consumer: dead letters are required (invalid messages must go somewhere)")
	case h == nil:
		return nil, errors.New("pos: consumer: no handler")
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Consumer{cfg: cfg, h: h,
		log: cfg.Log.With("component", "pos.consumer", "topic", cfg.Topic, "group", cfg.GroupID)}, nil
}

// Run consumes until ctx is done, then leaves the group and returns nil.
// Malformed input never stops it. It may be called once at a time.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("pos: consumer: already running")
	}
	defer c.running.Store(false)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     c.cfg.Brokers,
		GroupID:     c.cfg.GroupID,
		Topic:       c.cfg.Topic,
		StartOffset: kafka.FirstOffset, // a new group reads what the POS sent before it existed
		MaxWait:     500 * time.Millisecond,
		MaxBytes:    4 << 20,
		// CommitInterval 0: CommitMessages is synchronous, so "committed"
		// means the broker has it.
		ErrorLogger: kafkaLogger(c.log),
	})
	defer func() {
		if err := r.Close(); err != nil {
			c.log.Warn("close reader", "err", err)
		}
	}()
	c.log.Info("consuming")
	backoff := minBackoff
	for {
		m, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.fetchErrors.Add(1)
			c.log.Warn("fetch", "err", err)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		if !c.process(ctx, m) {
			return nil
		}
		if p := c.cfg.Progress; p != nil {
			p.Done(m.Partition, m.Offset)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Not fatal: the message will be delivered again after a
			// restart or rebalance, and handlers de-duplicate.
			c.commitErrors.Add(1)
			c.log.Warn("commit", "partition", m.Partition, "offset", m.Offset, "err", err)
		}
	}
}

// process dead-letters or handles one message; false means ctx ended
// before it was done (do not commit).
func (c *Consumer) process(ctx context.Context, m kafka.Message) bool {
	c.received.Add(1)
	meta := Meta{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Received: m.Time, Source: SourceKafka}
	if meta.Received.IsZero() {
		meta.Received = time.Now()
	}
	t, err := Parse(m.Value)
	if err != nil {
		c.invalid.Add(1)
		dl := newDeadLetter(m.Value, err, DeadLetterSource{Kind: SourceKafka, Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}, meta.Received)
		return c.retry(ctx, &c.dlqErrors, "dead letter", func() error { return c.cfg.DeadLetters.Send(ctx, dl) })
	}
	c.valid.Add(1)
	if c.cfg.Store != "" && t.Store != c.cfg.Store {
		c.skipped.Add(1)
		return true
	}
	if c.cfg.Skew != nil {
		c.cfg.Skew.Add(t.Timestamp, meta.Received)
	}
	return c.retry(ctx, &c.handlerErrors, "handler", func() error { return c.h(ctx, t, meta) })
}

// retry calls f until it succeeds (true) or ctx is done (false), counting
// and logging failures.
func (c *Consumer) retry(ctx context.Context, failures *atomic.Int64, what string, f func() error) bool {
	backoff := minBackoff
	for {
		err := f()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		failures.Add(1)
		c.log.Warn(what+" failed; retrying", "backoff", backoff, "err", err)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// sleep waits d or until ctx is done; false means ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Stats returns the counts so far.
func (c *Consumer) Stats() ConsumerStats {
	return ConsumerStats{
		Received:         c.received.Load(),
		Valid:            c.valid.Load(),
		Invalid:          c.invalid.Load(),
		Skipped:          c.skipped.Load(),
		HandlerErrors:    c.handlerErrors.Load(),
		DeadLetterErrors: c.dlqErrors.Load(),
		CommitErrors:     c.commitErrors.Load(),
		FetchErrors:      c.fetchErrors.Load(),
	}
}
