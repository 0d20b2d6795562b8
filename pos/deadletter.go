package pos

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/events"
)

// DefaultDeadLetterTopic is where rejected POS messages go.
const DefaultDeadLetterTopic = "storesight.pos.dlq"

// DeadLetterReasonHeader is the Kafka header carrying DeadLetter.Reason,
// so a DLQ consumer can route without decoding the value.
const DeadLetterReasonHeader = "storesight-dlq-reason"

// maxDeadLetterErrors bounds the reasons listed: a thousand bad line
// items need not be listed one by one to be fixed.
const maxDeadLetterErrors = 100

// maxDeadLetterRaw bounds the copy of the rejected message kept in a dead
// letter: enough to see what a POS sent, not a way to fill the DLQ.
const maxDeadLetterRaw = 64 << 10

// DeadLetter is the JSON value of a message on the dead-letter topic: a
// POS message that was rejected, why, and where it came from. Nothing
// rejected is dropped silently.
type DeadLetter struct {
	// ID is deterministic, so a message rejected twice (a redelivery, a
	// retried HTTP request) has the same id and DLQ readers can
	// de-duplicate: events.ID("pos_dlq", topic, partition, offset) for
	// Kafka, events.ID("pos_dlq", "http", sha256 hex of the raw item) for
	// HTTP.
	ID string `json:"id"`
	// Reason is ReasonInvalid, ReasonTooLarge or ReasonNotJSON.
	Reason     string           `json:"reason"`
	Errors     []string         `json:"errors"`
	Source     DeadLetterSource `json:"source"`
	ReceivedAt time.Time        `json:"received_at"`
	// Store and Register are set when the message had them as strings,
	// even if it was invalid otherwise.
	Store    string `json:"store,omitempty"`
	Register string `json:"register,omitempty"`
	// Raw is the message as received when it is UTF-8, RawBase64 its
	// base64 otherwise; either holds at most the first 64 KiB of it.
	Raw       string `json:"raw,omitempty"`
	RawBase64 string `json:"raw_base64,omitempty"`
	// Truncated says Raw or RawBase64 holds only the start of the message.
	Truncated bool `json:"truncated,omitempty"`
}

// Source kinds.
const (
	SourceKafka = "kafka"
	SourceHTTP  = "http"
)

// DeadLetterSource says where a rejected message came from: a Kafka
// topic, partition and offset, or an HTTP client's address (never its
// credentials).
type DeadLetterSource struct {
	Kind      string
	Topic     string
	Partition int
	Offset    int64
	Remote    string
}

// MarshalJSON writes topic, partition and offset only for Kafka, where
// partition 0 and offset 0 are real positions, and remote only for HTTP.
func (s DeadLetterSource) MarshalJSON() ([]byte, error) {
	if s.Kind == SourceKafka {
		return json.Marshal(struct {
			Kind      string `json:"kind"`
			Topic     string `json:"topic"`
			Partition int    `json:"partition"`
			Offset    int64  `json:"offset"`
		}{s.Kind, s.Topic, s.Partition, s.Offset})
	}
	return json.Marshal(struct {
		Kind   string `json:"kind"`
		Remote string `json:"remote,omitempty"`
	}{s.Kind, s.Remote})
}

// UnmarshalJSON reads either form MarshalJSON writes.
func (s *DeadLetterSource) UnmarshalJSON(b []byte) error {
	var v struct {
		Kind      string `json:"kind"`
		Topic     string `json:"topic"`
		Partition int    `json:"partition"`
		Offset    int64  `json:"offset"`
		Remote    string `json:"remote"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("pos: dead letter source: %w", err)
	}
	*s = DeadLetterSource{Kind: v.Kind, Topic: v.Topic, Partition: v.Partition, Offset: v.Offset, Remote: v.Remote}
	return nil
}

// newDeadLetter describes raw, rejected by Parse with err.
func newDeadLetter(raw []byte, err error, src DeadLetterSource, received time.Time) DeadLetter {
	dl := DeadLetter{Reason: ReasonInvalid, Source: src, ReceivedAt: received}
	var ie *InvalidError
	if errors.As(err, &ie) {
		dl.Reason, dl.Errors = ie.Kind, ie.Reasons
	} else {
		dl.Errors = []string{err.Error()}
	}
	if n := len(dl.Errors); n > maxDeadLetterErrors {
		dl.Errors = append(dl.Errors[:maxDeadLetterErrors:maxDeadLetterErrors], fmt.Sprintf("... and %d more", n-maxDeadLetterErrors))
	}
	switch src.Kind {
	case SourceKafka:
		dl.ID = events.ID("pos_dlq", src.Topic, strconv.Itoa(src.Partition), strconv.FormatInt(src.Offset, 10))
	default:
		sum := sha256.Sum256(raw)
		dl.ID = events.ID("pos_dlq", src.Kind, hex.EncodeToString(sum[:]))
	}
	if dl.Reason != ReasonTooLarge {
		dl.Store, dl.Register = storeAndRegister(raw)
	}
	keep := raw
	if len(keep) > maxDeadLetterRaw {
		keep, dl.Truncated = keep[:maxDeadLetterRaw], true
	}
	if utf8.Valid(raw) {
		for len(keep) > 0 && !utf8.Valid(keep) { // cut inside a character
			keep = keep[:len(keep)-1]
		}
		dl.Raw = string(keep)
	} else {
		dl.RawBase64 = base64.StdEncoding.EncodeToString(keep)
	}
	return dl
}

// storeAndRegister reads the two fields that route a dead letter, if the
// message is an object that has them as strings.
func storeAndRegister(raw []byte) (store, register string) {
	var v struct {
		Store    any `json:"store"`
		Register any `json:"register"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return "", ""
	}
	store, _ = v.Store.(string)
	register, _ = v.Register.(string)
	if textProblem(store, MaxIDLength) != "" || textProblem(register, MaxIDLength) != "" {
		return "", "" // not safe to echo into a key
	}
	return store, register
}

// DeadLetters writes dead letters to the DLQ topic with a synchronous
// kafka-go Writer (every replica acknowledges before Send returns), keyed
// "store/register" like the input so a register's rejects stay in order,
// or "unknown". It is safe for concurrent use.
type DeadLetters struct {
	w   *kafka.Writer
	log *slog.Logger

	mu     sync.Mutex
	sent   map[string]int64
	failed int64
}

// DeadLetterStats counts dead letters written, by reason, and failed
// writes.
type DeadLetterStats struct {
	Sent   map[string]int64 `json:"sent"`
	Failed int64            `json:"failed"`
}

// NewDeadLetters returns a writer for topic (DefaultDeadLetterTopic if
// empty). log may be nil.
func NewDeadLetters(brokers []string, topic string, log *slog.Logger) *DeadLetters {
	if topic == "" {
		topic = DefaultDeadLetterTopic
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "pos.dlq", "topic", topic)
	return &DeadLetters{
		w: &kafka.Writer{
			Addr:         kafka.TCP(brokers...),
			Topic:        topic,
			Balancer:     &kafka.Hash{},
			RequiredAcks: kafka.RequireAll,
			// Sends are one at a time and synchronous; kafka-go's default
			// 1 s batch timer would delay each of them.
			BatchTimeout:           time.Millisecond,
			MaxAttempts:            3,
			WriteTimeout:           10 * time.Second,
			AllowAutoTopicCreation: true,
			ErrorLogger:            kafkaLogger(log),
		},
		log:  log,
		sent: map[string]int64{},
	}
}

// Send writes dl and returns once the broker has it, or the error.
func (d *DeadLetters) Send(ctx context.Context, dl DeadLetter) error {
	return d.SendAll(ctx, []DeadLetter{dl})
}

// SendAll writes several dead letters in one produce call.
func (d *DeadLetters) SendAll(ctx context.Context, dls []DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(dls))
	for i, dl := range dls {
		v, err := json.Marshal(dl)
		if err != nil {
			return fmt.Errorf("pos: encode dead letter %s: %w", dl.ID, err)
		}
		key := "unknown"
		if dl.Store != "" {
			key = dl.Store + "/" + dl.Register
		}
		msgs[i] = kafka.Message{Key: []byte(key), Value: v,
			Headers: []kafka.Header{{Key: DeadLetterReasonHeader, Value: []byte(dl.Reason)}}}
	}
	if err := d.w.WriteMessages(ctx, msgs...); err != nil {
		d.mu.Lock()
		d.failed += int64(len(dls))
		d.mu.Unlock()
		return fmt.Errorf("pos: write %d dead letter(s) to %s: %w", len(dls), d.w.Topic, err)
	}
	d.mu.Lock()
	for _, dl := range dls {
		d.sent[dl.Reason]++
	}
	d.mu.Unlock()
	for _, dl := range dls {
		d.log.Info("pos message rejected", "id", dl.ID, "reason", dl.Reason, "source", dl.Source.Kind,
			"store", dl.Store, "register", dl.Register, "errors", dl.Errors)
	}
	return nil
}

// Stats returns the counts so far.
func (d *DeadLetters) Stats() DeadLetterStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := DeadLetterStats{Sent: make(map[string]int64, len(d.sent)), Failed: d.failed}
	for k, v := range d.sent {
		s.Sent[k] = v
	}
	return s
}

// Close flushes and closes the writer.
func (d *DeadLetters) Close() error {
	if err := d.w.Close(); err != nil {
		return fmt.Errorf("pos: close dead letter writer: %w", err)
	}
	return nil
}

// kafkaLogger passes kafka-go's error log (connection failures and
// retries) to slog.
func kafkaLogger(log *slog.Logger) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		log.Warn("kafka: " + fmt.Sprintf(msg, args...))
	})
}
