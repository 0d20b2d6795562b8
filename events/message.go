package events

import (
	"encoding/json"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// CloudEvents Kafka protocol binding, binary content mode: the attributes
// travel as ce_ headers so generic CloudEvents consumers can route and
// filter without parsing the value. The value is the whole envelope (not
// just data) so consumers that ignore headers lose nothing.
const (
	HeaderID          = "ce_id"
	HeaderType        = "ce_type"
	HeaderSource      = "ce_source"
	HeaderSpecVersion = "ce_specversion"
	HeaderTime        = "ce_time"
	HeaderContentType = "content-type"

	cloudEventsSpecVersion = "1.0"
	contentTypeJSON        = "application/json"
)

// Message encodes an envelope as the Kafka message the sink writes to topic.
func Message(topic string, e Envelope) (kafka.Message, error) {
	value, err := json.Marshal(e)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("events: encode envelope %q: %w", e.ID, err)
	}
	return message(topic, e, value), nil
}

func message(topic string, e Envelope, value []byte) kafka.Message {
	return kafka.Message{
		Topic: topic,
		Key:   []byte(e.Key()),
		Value: value,
		Headers: []kafka.Header{
			{Key: HeaderID, Value: []byte(e.ID)},
			{Key: HeaderType, Value: []byte(e.Type)},
			{Key: HeaderSource, Value: []byte(e.Source())},
			{Key: HeaderSpecVersion, Value: []byte(cloudEventsSpecVersion)},
			{Key: HeaderTime, Value: []byte(formatTime(e.Time))},
			{Key: HeaderContentType, Value: []byte(contentTypeJSON)},
		},
		// The record timestamp is processing time, not event time: analysing
		// an old recording would otherwise write timestamps older than the
		// topic's retention and the broker would delete them at once.
		Time: e.ProcessedAt,
	}
}
