package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Sink receives events from the pipeline.
type Sink interface {
	// Publish hands an event over without waiting for delivery. It must
	// not block the caller for long.
	Publish(e Envelope) error
	// Close delivers what was handed over and releases resources; ctx
	// bounds how long it may take.
	Close(ctx context.Context) error
}

// Errors returned by Publish.
var (
	// ErrClosed: Publish after Close.
	ErrClosed = errors.New("events: sink closed")
	// ErrQueueFull: the queue is full and spilling is disabled (no SpillDir).
	ErrQueueFull = errors.New("events: sink queue full")
	// ErrUnknownType: no topic is configured for the event's type.
	ErrUnknownType = errors.New("events: no topic for event type")
)

// Stats counts what a KafkaSink did with the events it was given.
type Stats struct {
	// Published events were acknowledged by all in-sync replicas
	// (replayed ones included).
	Published uint64
	// Spilled events went to the spill file because the queue was full or
	// older events were still waiting there.
	Spilled uint64
	// Replayed events were read back from the spill file and published.
	Replayed uint64
	// Failed events were given up on: the broker rejected them for good
	// (e.g. too large) or a spill line could not be decoded. They are kept
	// in failed.jsonl in the spill dir when there is one.
	Failed uint64
	// Dropped events were lost: queue full without a spill dir, the spill
	// file could not be written, or Close ran out of time without one.
	Dropped uint64
	// WriteErrors counts failed write attempts; each is retried.
	WriteErrors uint64
	// Queued is the number of events in the in-memory queue now.
	Queued int
	// SpillBytes is the size of the not yet replayed part of the spill file.
	SpillBytes int64
}

// KafkaSink publishes envelopes to Kafka from one writer goroutine behind
// a bounded queue, spilling to disk when the queue is full. See the package
// documentation for delivery and ordering guarantees.
type KafkaSink struct {
	cfg    Config
	log    *slog.Logger
	w      *kafka.Writer
	client *kafka.Client
	tr     *kafka.Transport
	queue  chan Envelope

	// ctx is cancelled when Close runs out of time, aborting retries.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex // orders Publish against spilling and Close
	closed bool
	spill  *spillFile // nil when SpillDir is empty
	left   int        // events kept in the spill file by a Close that timed out

	topicsReady bool // writer goroutine only

	published, spilled, replayed, failed, dropped, writeErrors atomic.Uint64
}

// NewKafkaSink starts a sink and its writer goroutine; Close stops it. It
// does not contact Kafka: the writer creates missing topics and then
// writes, retrying while Kafka is unreachable, so the pipeline can start
// during a Kafka outage. Events left in the spill dir by an earlier run
// are replayed before new ones.
func NewKafkaSink(cfg Config) (*KafkaSink, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	transport := &kafka.Transport{
		ClientID:    cfg.ClientID,
		DialTimeout: 5 * time.Second,
		MetadataTTL: 10 * time.Second,
		// Only our topics, not the whole cluster's, on every refresh.
		MetadataTopics: cfg.topicList(),
	}
	addr := kafka.TCP(cfg.Brokers...)
	s := &KafkaSink{
		cfg: cfg,
		log: cfg.Logger.With("component", "events.kafka"),
		w: &kafka.Writer{
			Addr:         addr,
			Balancer:     &kafka.Hash{},
			RequiredAcks: kafka.RequireAll,
			// Batches are assembled by takeQueued, which knows when no more
			// events are coming; kafka-go's own timer (it has no flush for
			// synchronous writes) would make every write of a partial batch
			// wait, so it is kept minimal.
			BatchTimeout: time.Millisecond,
			// One produce request per partition per write call (while it
			// stays under BatchBytes): a partial failure then never leaves
			// a later batch of a partition written ahead of an earlier one.
			BatchSize:    cfg.BatchSize,
			BatchBytes:   1 << 20,
			WriteTimeout: cfg.WriteTimeout,
			ReadTimeout:  cfg.WriteTimeout,
			// Retries are ours (with backoff, forever, spilling meanwhile)
			// so Close's deadline is not held up by kafka-go's own.
			MaxAttempts: 1,
			Transport:   transport,
			// Topics are created explicitly; auto-creation is the fallback
			// for brokers where CreateTopics is not allowed but
			// auto.create.topics.enable is.
			AllowAutoTopicCreation: true,
		},
		client: &kafka.Client{Addr: addr, Transport: transport, Timeout: cfg.WriteTimeout},
		tr:     transport,
		queue:  make(chan Envelope, cfg.QueueSize),
		done:   make(chan struct{}),
	}
	if cfg.SpillDir != "" {
		if s.spill, err = openSpill(cfg.SpillDir); err != nil {
			return nil, err
		}
		if s.spill.pending() {
			s.log.Info("replaying events spilled by an earlier run", "path", s.spill.path, "bytes", s.spill.size)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Publish queues e for delivery. It never waits for Kafka: when the queue
// is full, e is appended to the spill file (a local file write), and while
// the spill file has events, every new event goes behind them so one
// camera's events stay in order. A zero ProcessedAt is set to now.
func (s *KafkaSink) Publish(e Envelope) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if _, ok := s.cfg.Topics[e.Type]; !ok {
		return fmt.Errorf("%w %q (event %s)", ErrUnknownType, e.Type, e.ID)
	}
	if e.ProcessedAt.IsZero() {
		e.ProcessedAt = time.Now().UTC()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.spill == nil || !s.spill.pending() {
		select {
		case s.queue <- e:
			return nil
		default:
		}
	}
	if s.spill == nil {
		s.dropped.Add(1)
		return ErrQueueFull
	}
	line, err := json.Marshal(e)
	if err == nil {
		err = s.spill.append(line)
	}
	if err != nil {
		s.dropped.Add(1)
		return fmt.Errorf("events: spill event %s: %w", e.ID, err)
	}
	s.spilled.Add(1)
	return nil
}

// Stats returns the counters so far.
func (s *KafkaSink) Stats() Stats {
	st := Stats{
		Published:   s.published.Load(),
		Spilled:     s.spilled.Load(),
		Replayed:    s.replayed.Load(),
		Failed:      s.failed.Load(),
		Dropped:     s.dropped.Load(),
		WriteErrors: s.writeErrors.Load(),
		Queued:      len(s.queue),
	}
	s.mu.Lock()
	if s.spill != nil {
		st.SpillBytes = s.spill.size - s.spill.off
	}
	s.mu.Unlock()
	return st
}

// Close stops accepting events, delivers everything queued and spilled,
// and waits for the writer goroutine. If ctx ends first, in-flight retries
// are abandoned and undelivered events are kept in the spill file for the
// next run (or counted as dropped without a spill dir); Close then returns
// an error saying so. A produce request already on the wire may hold Close
// up to WriteTimeout past the deadline.
func (s *KafkaSink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()

	select {
	case <-s.done:
	case <-ctx.Done():
		s.cancel()
		<-s.done
	}
	s.cancel()

	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.spill != nil {
		if err := s.spill.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.left > 0 {
		errs = append(errs, fmt.Errorf("events: kafka sink closed before delivering everything: %d events kept in %s for the next run: %w", s.left, s.spill.path, ctx.Err()))
	}
	if d := s.dropped.Load(); d > 0 {
		errs = append(errs, fmt.Errorf("events: kafka sink dropped %d events", d))
	}
	return errors.Join(errs...)
}

// run is the writer goroutine: queue first (those events are older than
// anything spilled), then the spill file, until closed and empty.
func (s *KafkaSink) run() {
	defer close(s.done)
	defer func() {
		if err := s.w.Close(); err != nil {
			s.log.Warn("closing kafka writer", "err", err)
		}
	}()
	for {
		batch, open := s.takeQueued()
		if len(batch) > 0 {
			if rest := s.deliver(batch, false); rest != nil {
				s.rescue(rest)
				return
			}
			continue
		}
		if s.spillPending() {
			if !s.replayChunk() {
				s.rescue(nil)
				return
			}
			continue
		}
		if !open {
			return
		}
	}
}

func (s *KafkaSink) spillPending() bool {
	if s.spill == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spill.pending()
}

// takeQueued returns the next batch from the queue: what is there, and
// when that is less than a full batch, what arrives within BatchTimeout of
// the first event. It blocks for the first event only when nothing waits
// in the spill file: spilling starts only once the queue is full, so an
// empty queue and a pending spill cannot both need waiting for. The bool
// is false once the queue is closed and drained.
func (s *KafkaSink) takeQueued() ([]Envelope, bool) {
	var e Envelope
	var ok bool
	spilling := s.spillPending()
	if spilling {
		select {
		case e, ok = <-s.queue:
		default:
			return nil, true
		}
	} else {
		e, ok = <-s.queue
	}
	if !ok {
		return nil, false
	}
	batch := []Envelope{e}
	// A batch larger than the queue would never fill while publishers spill.
	full := min(s.cfg.BatchSize, s.cfg.QueueSize)
drain:
	for len(batch) < full {
		select {
		case e, ok := <-s.queue:
			if !ok {
				return batch, false
			}
			batch = append(batch, e)
		default:
			break drain
		}
	}
	if len(batch) >= full || spilling {
		return batch, true
	}
	linger := time.NewTimer(s.cfg.BatchTimeout)
	defer linger.Stop()
	for len(batch) < full {
		select {
		case e, ok := <-s.queue:
			if !ok {
				return batch, false
			}
			batch = append(batch, e)
		case <-linger.C:
			return batch, true
		}
	}
	return batch, true
}

// replayChunk publishes the next lines of the spill file. It returns false
// when the sink must stop (Close ran out of time); the lines stay in the
// file.
func (s *KafkaSink) replayChunk() bool {
	s.mu.Lock()
	from, limit := s.spill.off, s.spill.size
	s.mu.Unlock()
	lines, end, err := s.spill.read(from, limit, s.cfg.BatchSize)
	if err != nil {
		s.log.Error("reading spill file; retrying", "err", err)
		return s.sleep(time.Second)
	}
	var envs []Envelope
	var bad [][]byte
	for _, l := range lines {
		if l.err != nil {
			s.log.Error("unreadable spill line moved to dead letters", "err", l.err)
			bad = append(bad, l.raw)
			continue
		}
		envs = append(envs, l.env)
	}
	s.deadLetter(bad)
	if rest := s.deliver(envs, true); rest != nil {
		return false
	}
	s.mu.Lock()
	err = s.spill.commit(end)
	s.mu.Unlock()
	if err != nil {
		s.log.Error("spill file", "err", err)
	}
	return true
}

// deliver writes batch to Kafka, retrying with backoff until every event is
// acknowledged or rejected for good. It returns the undelivered events
// (non-nil) only when the sink is told to stop.
func (s *KafkaSink) deliver(batch []Envelope, replay bool) []Envelope {
	envs := make([]Envelope, 0, len(batch))
	msgs := make([]kafka.Message, 0, len(batch))
	for _, e := range batch {
		topic, ok := s.cfg.Topics[e.Type]
		if !ok {
			// Only a spill file written under another configuration
			// gets here; Publish checks the type.
			s.log.Error("no topic for spilled event type; moved to dead letters", "id", e.ID, "type", e.Type)
			if b, err := json.Marshal(e); err == nil {
				s.deadLetter([][]byte{b})
			} else {
				s.failed.Add(1)
			}
			continue
		}
		m, err := Message(topic, e)
		if err != nil {
			s.log.Error("event cannot be encoded; dropped", "id", e.ID, "err", err)
			s.failed.Add(1)
			continue
		}
		envs = append(envs, e)
		msgs = append(msgs, m)
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; len(msgs) > 0; attempt++ {
		err := s.write(msgs)
		if err == nil {
			s.delivered(len(msgs), replay)
			if attempt > 1 {
				s.log.Info("kafka write succeeded after retries", "attempts", attempt)
			}
			return nil
		}
		s.writeErrors.Add(1)
		// kafka-go caches the cluster's metadata, and a failed lookup,
		// until its next refresh; drop the cache so the retry sees a
		// broker that came back or a leader that moved right away.
		s.tr.CloseIdleConnections()
		envs, msgs = s.sortOut(envs, msgs, err, replay)
		if len(msgs) == 0 {
			return nil
		}
		if s.ctx.Err() != nil {
			return envs
		}
		if errors.As(err, new(kafka.MessageTooLargeError)) {
			continue // nothing was sent; the rest go at once
		}
		s.log.Warn("kafka write failed; retrying", "events", len(msgs), "attempt", attempt, "backoff", backoff, "err", err)
		if !s.sleep(backoff) {
			return envs
		}
		backoff = min(2*backoff, s.cfg.RetryBackoffMax)
	}
	return nil
}

func (s *KafkaSink) delivered(n int, replay bool) {
	s.published.Add(uint64(n))
	if replay {
		s.replayed.Add(uint64(n))
	}
}

// write creates the topics once, then writes msgs.
func (s *KafkaSink) write(msgs []kafka.Message) error {
	if !s.topicsReady {
		if err := s.ensureTopics(); err != nil {
			return err
		}
		s.topicsReady = true
	}
	return s.w.WriteMessages(s.ctx, msgs...)
}

// sortOut splits a failed write: acknowledged events are counted, events
// rejected for good go to the dead letters, the rest are returned for a
// retry, in their original order.
func (s *KafkaSink) sortOut(envs []Envelope, msgs []kafka.Message, err error, replay bool) ([]Envelope, []kafka.Message) {
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		// kafka-go checks sizes before writing anything and names the
		// first oversized message; the others are found on later attempts.
		for i, m := range msgs {
			if len(m.Value) > 0 && len(tooLarge.Message.Value) > 0 && &m.Value[0] == &tooLarge.Message.Value[0] {
				s.reject(m, err)
				return append(envs[:i:i], envs[i+1:]...), append(msgs[:i:i], msgs[i+1:]...)
			}
		}
		return envs, msgs
	}
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(msgs) {
		return envs, msgs // nothing known to be written: retry all
	}
	keepE, keepM := envs[:0:0], msgs[:0:0]
	ok := 0
	for i, werr := range werrs {
		switch {
		case werr == nil:
			ok++
		case permanent(werr):
			s.reject(msgs[i], werr)
		default:
			keepE, keepM = append(keepE, envs[i]), append(keepM, msgs[i])
		}
	}
	s.delivered(ok, replay)
	return keepE, keepM
}

// permanent reports broker errors that no retry can fix.
func permanent(err error) bool {
	for _, p := range []kafka.Error{kafka.MessageSizeTooLarge, kafka.InvalidRecord, kafka.InvalidTopic, kafka.RecordListTooLarge} {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}

func (s *KafkaSink) reject(m kafka.Message, err error) {
	s.log.Error("kafka rejected event for good; moved to dead letters", "key", string(m.Key), "bytes", len(m.Value), "err", err)
	s.deadLetter([][]byte{m.Value})
}

// deadLetter counts lines as failed and keeps them in failed.jsonl.
func (s *KafkaSink) deadLetter(lines [][]byte) {
	if len(lines) == 0 {
		return
	}
	s.failed.Add(uint64(len(lines)))
	if s.spill == nil {
		return
	}
	if err := s.spill.deadLetter(lines); err != nil {
		s.log.Error("dead letters lost", "events", len(lines), "err", err)
	}
}

// rescue is the last thing run does when Close ran out of time: events it
// holds plus whatever is still queued go to the front of the spill file.
func (s *KafkaSink) rescue(held []Envelope) {
	for e := range s.queue { // closed by Close
		held = append(held, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spill == nil {
		s.dropped.Add(uint64(len(held)))
		return
	}
	lines := make([][]byte, 0, len(held))
	for _, e := range held {
		b, err := json.Marshal(e)
		if err != nil {
			s.failed.Add(1)
			continue
		}
		lines = append(lines, b)
	}
	pendingBefore := s.spill.pending()
	if err := s.spill.rescue(lines); err != nil {
		s.log.Error("undelivered events lost", "events", len(lines), "err", err)
		s.dropped.Add(uint64(len(lines)))
		return
	}
	if len(lines) > 0 || pendingBefore {
		s.left = s.spill.lines()
	}
}

// sleep waits d unless the sink is told to stop; false means stop.
func (s *KafkaSink) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

var _ Sink = (*KafkaSink)(nil)
