package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// posMsg is one raw message for the POS topic, as a POS system would
// produce it: its own JSON (or, for the malformed ones, whatever it sent),
// keyed store/register.
type posMsg struct {
	key   string
	value []byte
}

// posJSON encodes a transaction the way a POS integration would send it.
func posJSON(t *testing.T, tx pos.Transaction) []byte {
	t.Helper()
	b, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// produceRaw writes msgs to topic with kafka-go, synchronously and acked by
// every replica, partitioned by key like a POS producer (and the HTTP
// ingest) would, so one register's messages keep their order.
func produceRaw(t *testing.T, brokers []string, topic string, msgs []posMsg) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
		BatchSize:    len(msgs),
	}
	defer w.Close()
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Key: []byte(m.key), Value: m.value}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, km...); err != nil {
		t.Fatalf("produce %d messages to %s: %v", len(msgs), topic, err)
	}
}

// postPOS posts body to the app's POST /pos/transactions with the bearer
// token (none when ""), and returns the status and the decoded answer.
func postPOS(t *testing.T, addr, token, body string) (int, pos.IngestResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/pos/transactions", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out pos.IngestResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /pos/transactions answered %d with %q: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

// envelopesOf reads every message of an enveloped topic, checks each
// against the event schemas (envelope and data) and its Kafka key against
// the envelope's, and fails on a repeated event id: a content-addressed
// or deterministic id seen twice is a duplicate publish.
func envelopesOf(t *testing.T, brokers []string, topic string) []events.Envelope {
	t.Helper()
	ids := map[string]bool{}
	var out []events.Envelope
	for _, m := range consume(t, brokers, topic) {
		if err := events.CheckSchemas(m.Value); err != nil {
			t.Errorf("%s offset %d/%d: %v\n%s", topic, m.Partition, m.Offset, err, m.Value)
			continue
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatalf("%s offset %d/%d: %v", topic, m.Partition, m.Offset, err)
		}
		if string(m.Key) != e.Key() {
			t.Errorf("%s %s event %s: Kafka key %q, envelope key %q", topic, e.Type, e.ID, m.Key, e.Key())
		}
		if ids[e.ID] {
			t.Errorf("%s: event id %s published twice", topic, e.ID)
		}
		ids[e.ID] = true
		out = append(out, e)
	}
	return out
}

// dataOf decodes an envelope's data into v.
func dataOf(t *testing.T, e events.Envelope, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatalf("%s event %s: %v\n%s", e.Type, e.ID, err, e.Data)
	}
}

// deadLetter is one message of the DLQ topic, decoded.
type deadLetter struct {
	pos.DeadLetter
	key, header string
}

// deadLettersOf reads the DLQ topic.
func deadLettersOf(t *testing.T, brokers []string, topic string) []deadLetter {
	t.Helper()
	var out []deadLetter
	for _, m := range consume(t, brokers, topic) {
		var dl deadLetter
		if err := json.Unmarshal(m.Value, &dl.DeadLetter); err != nil {
			t.Fatalf("%s offset %d/%d: %v\n%s", topic, m.Partition, m.Offset, err, m.Value)
		}
		dl.key = string(m.Key)
		for _, h := range m.Headers {
			if h.Key == pos.DeadLetterReasonHeader {
				dl.header = string(h.Value)
			}
		}
		out = append(out, dl)
	}
	return out
}

// videoTime is the camera time of decode frame f of a 10 fps file that
// starts at start.
func videoTime(start time.Time, f int) time.Time {
	return start.Add(time.Duration(f) * 100 * time.Millisecond)
}

// money parses a decimal amount written in the test.
func money(t *testing.T, s string) pos.Money {
	t.Helper()
	m, err := pos.ParseMoney(s)
	if err != nil {
		t.Fatalf("money %q: %v", s, err)
	}
	return m
}

// zoneOffset is t's UTC offset in seconds.
func zoneOffset(ts time.Time) int {
	_, off := ts.Zone()
	return off
}

// describe renders v as JSON for failure messages.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
