package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates the topics that do not exist yet (CreateTopics is
// routed to the controller). Zero partitions or replicationFactor leave the
// choice to the broker's defaults. It fails only when the cluster cannot be
// reached or refuses the request; per-topic refusals other than "already
// exists" are returned joined.
func EnsureTopics(ctx context.Context, brokers []string, partitions, replicationFactor int, topics ...string) error {
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	return ensureTopics(ctx, c, partitions, replicationFactor, topics)
}

func ensureTopics(ctx context.Context, c *kafka.Client, partitions, replicationFactor int, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	if partitions <= 0 {
		partitions = -1
	}
	if replicationFactor <= 0 {
		replicationFactor = -1
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replicationFactor})
	}
	resp, err := c.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("events: create topics %v: %w", topics, err)
	}
	var errs []error
	for t, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("topic %s: %w", t, err))
		}
	}
	if len(errs) > 0 {
		return &topicError{errors.Join(errs...)}
	}
	return nil
}

// topicError is a refusal by the broker (policy, authorisation), as opposed
// to not reaching it.
type topicError struct{ err error }

func (e *topicError) Error() string { return "events: create topics: " + e.err.Error() }
func (e *topicError) Unwrap() error { return e.err }

// ensureTopics is the sink's first step before writing. A broker that
// refuses topic creation is logged and not asked again: the topics may be
// managed by an operator, and writes will say if they really are missing.
func (s *KafkaSink) ensureTopics() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteTimeout)
	defer cancel()
	err := ensureTopics(ctx, s.client, s.cfg.Partitions, s.cfg.ReplicationFactor, s.cfg.topicList())
	var te *topicError
	if errors.As(err, &te) {
		s.log.Warn("broker refused to create topics; writing anyway", "err", err)
		return nil
	}
	return err
}
