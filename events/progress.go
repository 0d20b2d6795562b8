package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Progress tracks how far a consumer got in each partition of one topic,
// so that a run over a recorded video can wait until everything already
// in the topic (POS transactions produced before or during the run) has
// been handled before it stops. Safe for concurrent use.
type Progress struct {
	Brokers []string
	Topic   string

	mu   sync.Mutex
	next map[int]int64 // partition -> offset after the last one handled
}

// Done records that the message at offset of partition was handled
// (committed or deliberately skipped).
func (p *Progress) Done(partition int, offset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = map[int]int64{}
	}
	if offset+1 > p.next[partition] {
		p.next[partition] = offset + 1
	}
}

// EndOffsets returns each partition's high watermark (the offset the next
// message will get) of topic.
func EndOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("events: metadata of %s: %w", topic, err)
	}
	var req []kafka.OffsetRequest
	for _, t := range meta.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("events: metadata of %s: %w", topic, t.Error)
		}
		for _, pt := range t.Partitions {
			req = append(req, kafka.LastOffsetOf(pt.ID))
		}
	}
	ends := map[int]int64{}
	if len(req) == 0 {
		return ends, nil
	}
	resp, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("events: end offsets of %s: %w", topic, err)
	}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("events: end offset of %s/%d: %w", topic, po.Partition, po.Error)
		}
		ends[po.Partition] = po.LastOffset
	}
	return ends, nil
}

// WaitCaughtUp waits until every message that is in the topic now has been
// handled, polling every 50ms, or until ctx ends.
func (p *Progress) WaitCaughtUp(ctx context.Context) error {
	ends, err := EndOffsets(ctx, p.Brokers, p.Topic)
	if err != nil {
		return err
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if p.reached(ends) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("events: waiting for the consumer of %s to catch up: %w", p.Topic, ctx.Err())
		case <-t.C:
		}
	}
}

func (p *Progress) reached(ends map[int]int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for part, end := range ends {
		if end > 0 && p.next[part] < end {
			return false
		}
	}
	return true
}
