package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/events"
)

// crossingLatency is one crossing event as a downstream consumer sees it.
type crossingLatency struct {
	frame     time.Time // event time: the wall time of the frame that showed the crossing
	processed time.Time // when the pipeline built the event
	consumed  time.Time // when the consumer had it
}

// crossingConsumer reads the crossings topic of the embedded broker from
// the start, on every partition, while the benchmark runs, and stamps each
// event with the wall time it arrived. Its goroutines stop on Stop.
type crossingConsumer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	got  []crossingLatency
	errs []error
}

func startCrossingConsumer(ctx context.Context, brokers []string, topic string) (*crossingConsumer, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no Kafka brokers")
	}
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", brokers[0], err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &crossingConsumer{cancel: cancel}
	for _, p := range parts {
		// MinBytes 1: the broker answers a fetch as soon as one event is
		// there, so the consumer adds no batching delay of its own.
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: brokers, Topic: topic, Partition: p.ID,
			MinBytes: 1, MaxBytes: 1 << 20, MaxWait: time.Second,
		})
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer r.Close()
			c.read(ctx, r)
		}()
	}
	return c, nil
}

func (c *crossingConsumer) read(ctx context.Context, r *kafka.Reader) {
	for {
		m, err := r.ReadMessage(ctx)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				c.fail(fmt.Errorf("read %s/%d: %w", m.Topic, m.Partition, err))
			}
			return
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			c.fail(fmt.Errorf("crossing at offset %d: %w", m.Offset, err))
			continue
		}
		if e.Type != events.TypeCrossing {
			continue
		}
		c.mu.Lock()
		c.got = append(c.got, crossingLatency{frame: e.Time, processed: e.ProcessedAt, consumed: now})
		c.mu.Unlock()
	}
}

func (c *crossingConsumer) fail(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

// Stop ends the readers and returns what they read.
func (c *crossingConsumer) Stop() ([]crossingLatency, error) {
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got, errors.Join(c.errs...)
}

// latencyStats are the quantiles of frame-to-Kafka latency over the
// crossings whose frames fall in [from, to).
type latencyStats struct {
	N        int
	P50, P99 time.Duration // frame -> consumed
	// KafkaP50 and KafkaP99 are the Kafka leg alone: event built ->
	// consumed (the sink's queue, produce, broker, fetch).
	KafkaP50, KafkaP99 time.Duration
	// CommitP50 and CommitP99 are the rest: frame -> event built, which is
	// mostly the counter waiting for confirmation frames; Late counts the
	// crossings built over lateCommit after their frame, which the counter
	// only commits when it forgets the track.
	CommitP50, CommitP99 time.Duration
	Late                 int
}

// lateCommit separates crossings confirmed by later frames (a few analysis
// intervals) from those committed when their track is forgotten (lost_buffer
// analysed frames, 6 s at 5 fps).
const lateCommit = 2 * time.Second

func crossingLatencies(got []crossingLatency, from, to time.Time) latencyStats {
	var total, leg, commit []time.Duration
	late := 0
	for _, c := range got {
		if c.frame.Before(from) || !c.frame.Before(to) {
			continue
		}
		total = append(total, c.consumed.Sub(c.frame))
		leg = append(leg, c.consumed.Sub(c.processed))
		commit = append(commit, c.processed.Sub(c.frame))
		if c.processed.Sub(c.frame) > lateCommit {
			late++
		}
	}
	return latencyStats{
		N:   len(total),
		P50: quantile(total, 0.5), P99: quantile(total, 0.99),
		KafkaP50: quantile(leg, 0.5), KafkaP99: quantile(leg, 0.99),
		CommitP50: quantile(commit, 0.5), CommitP99: quantile(commit, 0.99),
		Late: late,
	}
}

// quantile is the nearest-rank q-quantile (0 for no samples): the smallest
// sample that at least q of the samples do not exceed.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
