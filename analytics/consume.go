package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// Batching of the enveloped topics: after a first message, whatever else
// is already fetched (up to maxBatch, waiting at most batchWait) goes into
// the same Store.Add, because each Add is one fsync and a catch-up after
// downtime would otherwise write one transaction per minute of counts.
const (
	maxBatch  = 500
	batchWait = 20 * time.Millisecond
)

// Backoff between retries of a failing fetch or Store.Add.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// errSkip marks an envelope that holds no fact for the Store: another
// event type, a check with another verdict, a line that is not an
// entrance. It is committed like a counted one.
var errSkip = errors.New("no fact")

// factOf turns one envelope into at most one fact; errSkip means none, any
// other error a malformed event (logged, counted, committed: retrying it
// would never succeed).
type factOf func(e events.Envelope) (Fact, error)

// checkFact counts a pos_check whose verdict is no_customer, on the
// transaction's local time (its POS timestamp keeps the store's offset).
func checkFact(e events.Envelope) (Fact, error) {
	if e.Type != events.TypePOSCheck {
		return Fact{}, errSkip
	}
	var c pos.Check
	if err := json.Unmarshal(e.Data, &c); err != nil {
		return Fact{}, fmt.Errorf("decode pos_check data: %w", err)
	}
	if c.Verdict != pos.VerdictNoCustomer {
		return Fact{}, errSkip
	}
	if c.POSTime.IsZero() {
		return Fact{}, errors.New("pos_check without pos_time")
	}
	return Fact{Key: "check/" + e.ID, Kind: FactNoCustomer, Time: c.POSTime, Store: e.Store.ID,
		Region: e.Store.Region, Cashier: c.Cashier, Amount: c.Amount, N: 1}, nil
}

// lineCountData is the part of a line_count event's data that entries
// need. It is decoded here rather than as counting.LineCount so analytics
// depends on the event schema, not on the video side's packages.
type lineCountData struct {
	Line              string         `json:"line"`
	WindowStart       time.Time      `json:"window_start"`
	Counts            map[string]int `json:"counts"`
	EntranceDirection string         `json:"entrance_direction"`
}

// countFact counts the entrance direction of a line_count of an entrance
// line as entries in the window's (UTC) hour. Windows with zero entries
// still make a fact: the hour then exists with its zero, which says the
// door was watched and nobody came, unlike an hour with no camera.
func countFact(e events.Envelope) (Fact, error) {
	if e.Type != events.TypeLineCount {
		return Fact{}, errSkip
	}
	var lc lineCountData
	if err := json.Unmarshal(e.Data, &lc); err != nil {
		return Fact{}, fmt.Errorf("decode line_count data: %w", err)
	}
	if lc.EntranceDirection == "" {
		return Fact{}, errSkip
	}
	n, ok := lc.Counts[lc.EntranceDirection]
	switch {
	case !ok:
		return Fact{}, fmt.Errorf("line %q: entrance direction %q is not among its counts", lc.Line, lc.EntranceDirection)
	case n < 0:
		return Fact{}, fmt.Errorf("line %q: negative count %d", lc.Line, n)
	case lc.WindowStart.IsZero():
		return Fact{}, fmt.Errorf("line %q: no window_start", lc.Line)
	}
	return Fact{Key: "count/" + e.ID, Kind: FactEntries, Time: lc.WindowStart.UTC(), Store: e.Store.ID,
		Region: e.Store.Region, N: int64(n)}, nil
}

// consumeEnvelopes reads one enveloped topic as a member of the service's
// group until ctx is done, adds the facts of each batch in one Store.Add
// and commits the batch only after that Add succeeded (a failing Add is
// retried with backoff; nothing past it is committed). Delivery is at
// least once; the Store's fact keys make a redelivery count once.
func (s *Service) consumeEnvelopes(ctx context.Context, topic string, of factOf) error {
	log := s.log.With("topic", topic)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     s.cfg.Brokers,
		GroupID:     s.cfg.GroupID,
		Topic:       topic,
		StartOffset: kafka.FirstOffset, // a new group counts the history still in the topic
		MaxWait:     500 * time.Millisecond,
		// CommitInterval 0: CommitMessages is synchronous, so a commit
		// that returned means the broker has it.
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("kafka reader: " + fmt.Sprintf(msg, args...))
		}),
	})
	defer func() {
		if err := r.Close(); err != nil {
			log.Warn("analytics: close reader", "err", err)
		}
	}()
	log.Info("analytics: consuming")
	backoff := minBackoff
	for {
		batch, err := fetchBatch(ctx, r)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.fetchErrors.Add(1)
			log.Warn("analytics: fetch", "err", err)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		facts := s.factsOf(batch, of, log)
		if !s.addRetrying(ctx, facts, log) {
			return nil
		}
		if p := s.progress[topic]; p != nil {
			for _, m := range batch {
				p.Done(m.Partition, m.Offset)
			}
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Not fatal: the batch comes again after a rebalance or a
			// restart and counts once.
			s.commitErrors.Add(1)
			log.Warn("analytics: commit", "messages", len(batch), "err", err)
		}
	}
}

// fetchBatch waits for one message, then takes what else arrives within
// batchWait, up to maxBatch. A fetch cancelled by the batch deadline loses
// nothing: kafka-go keeps the message for the next fetch.
func fetchBatch(ctx context.Context, r *kafka.Reader) ([]kafka.Message, error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []kafka.Message{m}
	bctx, cancel := context.WithTimeout(ctx, batchWait)
	defer cancel()
	for len(batch) < maxBatch {
		m, err := r.FetchMessage(bctx)
		if err != nil {
			break // deadline, or an error the next fetchBatch will see again
		}
		batch = append(batch, m)
	}
	return batch, nil
}

func (s *Service) factsOf(batch []kafka.Message, of factOf, log *slog.Logger) []Fact {
	facts := make([]Fact, 0, len(batch))
	for _, m := range batch {
		var e events.Envelope
		err := json.Unmarshal(m.Value, &e)
		if err == nil && e.Store.ID == "" {
			err = errors.New("envelope without store id")
		}
		var f Fact
		if err == nil {
			f, err = of(e)
		}
		switch {
		case errors.Is(err, errSkip):
			s.skipped.Add(1)
		case err != nil:
			s.malformed.Add(1)
			log.Warn("analytics: malformed event skipped", "partition", m.Partition, "offset", m.Offset, "err", err)
		default:
			facts = append(facts, f)
		}
	}
	return facts
}

// handlePOS is the pos.Handler of the POS consumer: an error makes the
// consumer retry the same transaction, so a failing disk delays counting
// rather than losing a transaction.
func (s *Service) handlePOS(ctx context.Context, t pos.Transaction, _ pos.Meta) error {
	facts := FactsOf(t)
	if len(facts) == 0 {
		s.skipped.Add(1)
		return nil
	}
	return s.add(facts)
}

// addRetrying adds facts until it works (true) or ctx is done (false).
func (s *Service) addRetrying(ctx context.Context, facts []Fact, log *slog.Logger) bool {
	backoff := minBackoff
	for {
		err := s.add(facts)
		if err == nil {
			return true
		}
		log.Error("analytics: store add failed; retrying", "facts", len(facts), "backoff", backoff, "err", err)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// add counts facts in the Store and remembers what the next publish must
// look at: the hours they touched and the newest local time.
func (s *Service) add(facts []Fact) error {
	if len(facts) == 0 {
		return nil
	}
	for i := range facts {
		if facts[i].Region == "" {
			facts[i].Region = s.cfg.Regions[facts[i].Store]
		}
	}
	n, err := s.cfg.Store.Add(facts)
	if err != nil {
		s.addErrors.Add(1)
		return err
	}
	s.added.Add(int64(n))
	s.duplicates.Add(int64(len(facts) - n))
	if n > 0 {
		s.dirty.touch(facts, time.Now())
	}
	return nil
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
