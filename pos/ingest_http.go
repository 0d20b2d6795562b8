package pos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/internal/apiauth"
)

// Limits of one ingest request.
const (
	DefaultMaxBody     = 1 << 20 // bytes
	MaxRequestItems    = 10000   // transactions
	ingestWriteTimeout = 10 * time.Second
)

// IngestConfig configures the HTTP ingest.
type IngestConfig struct {
	Brokers []string
	Topic   string // default DefaultTopic
	// DeadLetters receives every rejected item (required).
	DeadLetters *DeadLetters
	// APIToken, when set, is required as a bearer token. Without it only
	// loopback clients are served (the same rule as the alert API): a
	// forged refund stream would otherwise be one POST away.
	APIToken string
	MaxBody  int64 // default DefaultMaxBody
	Log      *slog.Logger
}

// Ingest receives POS transactions over HTTP, for POS systems that cannot
// produce to Kafka, and writes the valid ones to the POS topic, where the
// Consumer treats them exactly like directly produced ones.
type Ingest struct {
	cfg IngestConfig
	w   *kafka.Writer
	log *slog.Logger

	requests, accepted, rejected, writeErrors atomic.Int64
}

// IngestStats counts what an Ingest did.
type IngestStats struct {
	Requests    int64 `json:"requests"`
	Accepted    int64 `json:"accepted"`
	Rejected    int64 `json:"rejected"`
	WriteErrors int64 `json:"write_errors"`
}

// NewIngest checks cfg and returns an Ingest; Close releases its writer.
func NewIngest(cfg IngestConfig) (*Ingest, error) {
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("pos: ingest: no brokers")
	case cfg.DeadLetters == nil:
		return nil, errors.New("pos: ingest: dead letters are required (rejected transactions must go somewhere)")
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	log := cfg.Log.With("component", "pos.ingest", "topic", cfg.Topic)
	return &Ingest{
		cfg: cfg,
		log: log,
		w: &kafka.Writer{
			Addr:         kafka.TCP(cfg.Brokers...),
			Topic:        cfg.Topic,
			Balancer:     &kafka.Hash{}, // by key store/register: a register's transactions stay in order
			RequiredAcks: kafka.RequireAll,
			// Each request is one synchronous write; don't wait for more.
			BatchTimeout:           time.Millisecond,
			BatchSize:              MaxRequestItems,
			MaxAttempts:            3,
			WriteTimeout:           ingestWriteTimeout,
			AllowAutoTopicCreation: true,
			ErrorLogger:            kafkaLogger(log),
		},
	}, nil
}

// Handler serves POST /pos/transactions (mount it unstripped). The body
// is one JSON object, a JSON array of objects, or NDJSON (one object per
// line). Each valid transaction is written to the topic, keyed
// store/register, as received (array elements compacted); each invalid
// one goes to the dead-letter topic. The answer is JSON
//
//	{"accepted": n, "rejected": [{"index": i, "line": l, "transaction_id": "..", "errors": [..]}]}
//
// with 200 when nothing was rejected, 400 when something was (the valid
// ones are still accepted), 413 for a body over MaxBody or MaxRequestItems,
// 401/403 without authorisation, and 503 when Kafka did not take the
// writes (retry: transactions are de-duplicated downstream, dead letters
// have deterministic ids).
func (i *Ingest) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pos/transactions", i.serve)
	return mux
}

// IngestResponse is the JSON answer to a POST.
type IngestResponse struct {
	Accepted int        `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
	Error    string     `json:"error,omitempty"`
}

// Rejected is one rejected item of a POST.
type Rejected struct {
	Index         int      `json:"index"`          // 0-based position among the body's items
	Line          int      `json:"line,omitempty"` // 1-based line, for NDJSON bodies
	TransactionID string   `json:"transaction_id,omitempty"`
	Errors        []string `json:"errors"`
}

// item is one transaction-to-be of a request body.
type item struct {
	raw  []byte
	line int
}

func (i *Ingest) serve(w http.ResponseWriter, r *http.Request) {
	if !i.authorized(w, r) {
		return
	}
	i.requests.Add(1)
	received := time.Now()
	src := DeadLetterSource{Kind: SourceHTTP, Remote: r.RemoteAddr}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, i.cfg.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		i.refuseTooLarge(w, r, body, src, received, fmt.Sprintf("body: more than %d bytes", i.cfg.MaxBody))
		return
	case err != nil:
		writeIngestJSON(w, http.StatusBadRequest, IngestResponse{Error: "reading body: " + err.Error()})
		return
	}
	items := splitBody(body)
	switch {
	case len(items) == 0:
		writeIngestJSON(w, http.StatusBadRequest, IngestResponse{Error: "no transactions in body"})
		return
	case len(items) > MaxRequestItems:
		i.refuseTooLarge(w, r, body, src, received, fmt.Sprintf("body: %d transactions, at most %d", len(items), MaxRequestItems))
		return
	}
	resp := IngestResponse{Rejected: []Rejected{}}
	var msgs []kafka.Message
	var dls []DeadLetter
	for n, it := range items {
		t, err := Parse(it.raw)
		if err != nil {
			dl := newDeadLetter(it.raw, err, src, received)
			dls = append(dls, dl)
			resp.Rejected = append(resp.Rejected, Rejected{Index: n, Line: it.line, TransactionID: transactionID(it.raw), Errors: dl.Errors})
			continue
		}
		msgs = append(msgs, kafka.Message{Key: []byte(t.KafkaKey()), Value: it.raw})
	}
	if err := i.w.WriteMessages(r.Context(), msgs...); err != nil {
		i.writeErrors.Add(1)
		i.log.Warn("write transactions", "n", len(msgs), "remote", r.RemoteAddr, "err", err)
		writeIngestJSON(w, http.StatusServiceUnavailable, IngestResponse{Rejected: []Rejected{},
			Error: "could not write to Kafka; retry later"})
		return
	}
	resp.Accepted = len(msgs)
	i.accepted.Add(int64(len(msgs)))
	if err := i.cfg.DeadLetters.SendAll(r.Context(), dls); err != nil {
		i.writeErrors.Add(1)
		i.log.Warn("write dead letters", "n", len(dls), "remote", r.RemoteAddr, "err", err)
		resp.Error = "the valid transactions were accepted, but the rejections could not be recorded; retry later"
		writeIngestJSON(w, http.StatusServiceUnavailable, resp)
		return
	}
	i.rejected.Add(int64(len(dls)))
	code := http.StatusOK
	if len(resp.Rejected) > 0 {
		code = http.StatusBadRequest
	}
	writeIngestJSON(w, code, resp)
}

// refuseTooLarge dead-letters the start of an oversized request and
// answers 413.
func (i *Ingest) refuseTooLarge(w http.ResponseWriter, r *http.Request, body []byte, src DeadLetterSource, received time.Time, reason string) {
	dl := newDeadLetter(body, &InvalidError{Kind: ReasonTooLarge, Reasons: []string{reason}}, src, received)
	if err := i.cfg.DeadLetters.Send(r.Context(), dl); err != nil {
		i.writeErrors.Add(1)
		i.log.Warn("write dead letter", "remote", r.RemoteAddr, "err", err)
	} else {
		i.rejected.Add(1)
	}
	writeIngestJSON(w, http.StatusRequestEntityTooLarge, IngestResponse{Rejected: []Rejected{}, Error: reason})
}

// splitBody cuts a body into items: a whole-body JSON array gives its
// elements (compacted: the only re-encoding), any other whole-body JSON
// value is one item, and anything else is read as NDJSON, one item per
// non-blank line (so one bad line spoils only itself).
func splitBody(body []byte) []item {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil
	}
	if json.Valid(trimmed) {
		if trimmed[0] != '[' {
			return []item{{raw: trimmed}}
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err == nil {
			items := make([]item, len(elems))
			for n, e := range elems {
				var c bytes.Buffer
				if json.Compact(&c, e) == nil {
					e = c.Bytes()
				}
				items[n] = item{raw: e}
			}
			return items
		}
	}
	var items []item
	for n, line := range bytes.Split(body, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			items = append(items, item{raw: line, line: n + 1})
		}
	}
	return items
}

// transactionID reads transaction_id from a rejected item, if it has one
// that is safe to echo.
func transactionID(raw []byte) string {
	var v struct {
		ID any `json:"transaction_id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	id, _ := v.ID.(string)
	if textProblem(id, MaxIDLength) != "" {
		return ""
	}
	return id
}

// authorized applies the rule of IngestConfig.APIToken, answering 401 or
// 403 when the request may not post.
func (i *Ingest) authorized(w http.ResponseWriter, r *http.Request) bool {
	switch apiauth.Check(r, i.cfg.APIToken) {
	case apiauth.NeedToken:
		apiauth.Challenge(w, "storesight pos")
		writeIngestJSON(w, http.StatusUnauthorized, IngestResponse{Rejected: []Rejected{}, Error: "a valid bearer token is required"})
		return false
	case apiauth.NotLocal:
		writeIngestJSON(w, http.StatusForbidden, IngestResponse{Rejected: []Rejected{},
			Error: "without an API token, transactions are accepted only from this host"})
		return false
	}
	return true
}

func writeIngestJSON(w http.ResponseWriter, code int, v IngestResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// Stats returns the counts so far.
func (i *Ingest) Stats() IngestStats {
	return IngestStats{Requests: i.requests.Load(), Accepted: i.accepted.Load(),
		Rejected: i.rejected.Load(), WriteErrors: i.writeErrors.Load()}
}

// Close flushes and closes the Kafka writer; the handler then answers 503.
func (i *Ingest) Close() error {
	if err := i.w.Close(); err != nil {
		return fmt.Errorf("pos: close ingest writer: %w", err)
	}
	return nil
}
