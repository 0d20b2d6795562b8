package pos

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

func newTestIngest(t *testing.T, brokers []string, edit func(*IngestConfig)) (*Ingest, *DeadLetters) {
	t.Helper()
	dlq := NewDeadLetters(brokers, "", testLogger())
	t.Cleanup(func() { dlq.Close() })
	cfg := IngestConfig{Brokers: brokers, DeadLetters: dlq, Log: testLogger()}
	if edit != nil {
		edit(&cfg)
	}
	in, err := NewIngest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in, dlq
}

func post(t *testing.T, url, token string, body []byte) (int, IngestResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/pos/transactions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r IngestResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode response (%d): %v", resp.StatusCode, err)
	}
	return resp.StatusCode, r
}

func decodeDeadLetters(t *testing.T, msgs []kafka.Message) []DeadLetter {
	t.Helper()
	var out []DeadLetter
	for _, m := range msgs {
		var dl DeadLetter
		if err := json.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		out = append(out, dl)
	}
	return out
}

func TestIngestBodies(t *testing.T) {
	brokers := startKafka(t)
	in, dlq := newTestIngest(t, brokers, nil)
	srv := httptest.NewServer(in.Handler())
	defer srv.Close()

	// One object, sent pretty-printed: written exactly as received.
	single := []byte("{\n  \"store\": \"s1\", \"register\": \"r1\", \"cashier\": \"c7\", \"transaction_id\": \"h-1\",\n" +
		"  \"type\": \"sale\", \"amount\": 10.5, \"currency\": \"EUR\", \"tender\": \"card\", \"timestamp\": \"2026-11-16T10:00:00+01:00\"\n}")
	if code, r := post(t, srv.URL, "", append(single, '\n')); code != http.StatusOK || r.Accepted != 1 || len(r.Rejected) != 0 {
		t.Fatalf("single: %d %+v", code, r)
	}

	// An array: two valid, one invalid (rejected with its index and id).
	arr := []byte(`[` + string(msg(t, map[string]any{"transaction_id": "h-2"})) + `, ` +
		string(msg(t, map[string]any{"transaction_id": "h-3", "type": "refnd"})) + `,` + "\n" +
		string(msg(t, map[string]any{"transaction_id": "h-4", "register": "r2"})) + `]`)
	code, r := post(t, srv.URL, "", arr)
	wantRejected := []Rejected{{Index: 1, TransactionID: "h-3",
		Errors: []string{`type: "refnd" is not one of sale, void, refund, partial_cancel, no_sale`}}}
	if code != http.StatusBadRequest || r.Accepted != 2 || !reflect.DeepEqual(r.Rejected, wantRejected) {
		t.Fatalf("array: %d %+v", code, r)
	}

	// NDJSON with a blank line, a CRLF and a line that is not JSON.
	nd := string(msg(t, map[string]any{"transaction_id": "h-5"})) + "\r\n\n" + `{"store":"s1", oops` + "\n" +
		string(msg(t, map[string]any{"transaction_id": "h-6", "store": "s2"})) + "\n"
	code, r = post(t, srv.URL, "", []byte(nd))
	if code != http.StatusBadRequest || r.Accepted != 2 || len(r.Rejected) != 1 ||
		r.Rejected[0].Index != 1 || r.Rejected[0].Line != 3 || !strings.HasPrefix(r.Rejected[0].Errors[0], "message: not JSON") {
		t.Fatalf("ndjson: %d %+v", code, r)
	}

	// Nothing usable.
	if code, r := post(t, srv.URL, "", []byte(" \n ")); code != http.StatusBadRequest || r.Error == "" {
		t.Errorf("empty body: %d %+v", code, r)
	}

	// The topic holds the 5 valid ones, keyed store/register; single
	// objects and NDJSON lines byte for byte, array elements compacted.
	got := map[string]kafka.Message{}
	for _, m := range readTopic(t, brokers, DefaultTopic) {
		tx, err := Parse(m.Value)
		if err != nil {
			t.Fatalf("topic holds an invalid transaction %s: %v", m.Value, err)
		}
		if string(m.Key) != tx.KafkaKey() {
			t.Errorf("%s: key %q", tx.ID, m.Key)
		}
		if _, dup := got[tx.ID]; dup {
			t.Errorf("%s written twice", tx.ID)
		}
		got[tx.ID] = m
	}
	if len(got) != 5 {
		t.Errorf("topic holds %d transactions, want 5 (h-1, h-2, h-4, h-5, h-6)", len(got))
	}
	if !bytes.Equal(got["h-1"].Value, single) {
		t.Errorf("single object rewritten:\n%s", got["h-1"].Value)
	}
	if !bytes.Equal(got["h-5"].Value, msg(t, map[string]any{"transaction_id": "h-5"})) {
		t.Errorf("NDJSON line rewritten: %s", got["h-5"].Value)
	}
	if !bytes.Equal(got["h-4"].Value, msg(t, map[string]any{"transaction_id": "h-4", "register": "r2"})) {
		t.Errorf("array element: %s", got["h-4"].Value)
	}

	// The two rejects are dead letters from HTTP.
	dls := decodeDeadLetters(t, readTopic(t, brokers, DefaultDeadLetterTopic))
	reasons := map[string]int{}
	for _, dl := range dls {
		reasons[dl.Reason]++
		if dl.Source.Kind != SourceHTTP || !strings.HasPrefix(dl.Source.Remote, "127.0.0.1:") || dl.Raw == "" {
			t.Errorf("dead letter %+v", dl)
		}
	}
	if len(dls) != 2 || reasons[ReasonInvalid] != 1 || reasons[ReasonNotJSON] != 1 {
		t.Errorf("dead letters %+v", dls)
	}
	if s := in.Stats(); s != (IngestStats{Requests: 4, Accepted: 5, Rejected: 2}) {
		t.Errorf("stats %+v", s)
	}
	if s := dlq.Stats(); s.Sent[ReasonInvalid] != 1 || s.Sent[ReasonNotJSON] != 1 {
		t.Errorf("dlq stats %+v", s)
	}
}

// What the HTTP ingest writes is what the consumer reads.
func TestIngestToConsumer(t *testing.T) {
	brokers := startKafka(t)
	in, dlq := newTestIngest(t, brokers, nil)
	srv := httptest.NewServer(in.Handler())
	defer srv.Close()
	body := []byte(`[` + string(msg(t, map[string]any{"transaction_id": "e-1", "type": "refund"})) + `,` +
		string(msg(t, map[string]any{"transaction_id": "e-2", "amount": "0.005"})) + `]`)
	if code, r := post(t, srv.URL, "", body); code != http.StatusOK || r.Accepted != 2 {
		t.Fatalf("post: %d %+v", code, r)
	}
	rec := &handlerLog{}
	c, err := NewConsumer(ConsumerConfig{Brokers: brokers, GroupID: "g-e2e", DeadLetters: dlq, Log: testLogger()}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	stop := runConsumer(t, c)
	eventually(t, "both transactions handled", func() bool { return len(rec.ids()) == 2 })
	stop()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, tx := range rec.got {
		if tx.ID == "e-2" && tx.Amount != 5 {
			t.Errorf("e-2 amount %d thousandths, want 5", tx.Amount)
		}
		if tx.ID == "e-1" && (tx.Type != TypeRefund || tx.Amount != 49900) {
			t.Errorf("e-1 %+v", tx)
		}
	}
}

func TestIngestAuth(t *testing.T) {
	brokers := startKafka(t)
	in, _ := newTestIngest(t, brokers, func(c *IngestConfig) { c.APIToken = "s3cret" })
	srv := httptest.NewServer(in.Handler())
	defer srv.Close()
	body := msg(t, map[string]any{"transaction_id": "a-1"})
	for _, tok := range []string{"", "wrong", "S3CRET", "s3cret2"} {
		if code, _ := post(t, srv.URL, tok, body); code != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", tok, code)
		}
	}
	if code, r := post(t, srv.URL, "s3cret", body); code != http.StatusOK || r.Accepted != 1 {
		t.Errorf("right token: %d %+v", code, r)
	}
	if n := len(readTopic(t, brokers, DefaultTopic)); n != 1 {
		t.Errorf("%d messages on the topic, want 1 (only the authorised post)", n)
	}

	// Without a token only loopback clients may post.
	open, _ := newTestIngest(t, brokers, nil)
	for remote, want := range map[string]int{"203.0.113.9:40000": http.StatusForbidden, "[::1]:40000": http.StatusOK,
		"127.0.0.1:40000": http.StatusOK, "garbage": http.StatusForbidden} {
		req := httptest.NewRequest(http.MethodPost, "/pos/transactions", bytes.NewReader(body))
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		open.Handler().ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("remote %s: %d, want %d", remote, w.Code, want)
		}
	}
	// Only POST.
	req := httptest.NewRequest(http.MethodGet, "/pos/transactions", nil)
	w := httptest.NewRecorder()
	open.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}

func TestIngestTooLarge(t *testing.T) {
	brokers := startKafka(t)
	in, _ := newTestIngest(t, brokers, func(c *IngestConfig) { c.MaxBody = 4096 })
	srv := httptest.NewServer(in.Handler())
	defer srv.Close()
	var body []byte
	for len(body) <= 4096 {
		body = append(append(body, msg(t, nil)...), '\n')
	}
	code, r := post(t, srv.URL, "", body)
	if code != http.StatusRequestEntityTooLarge || r.Accepted != 0 || !strings.Contains(r.Error, "more than 4096 bytes") {
		t.Fatalf("too large: %d %+v", code, r)
	}
	if n := len(readTopic(t, brokers, DefaultTopic)); n != 0 {
		t.Errorf("%d transactions written from a refused body", n)
	}
	dls := decodeDeadLetters(t, readTopic(t, brokers, DefaultDeadLetterTopic))
	if len(dls) != 1 || dls[0].Reason != ReasonTooLarge || dls[0].Source.Kind != SourceHTTP || len(dls[0].Raw) != 4096 {
		t.Errorf("dead letters %+v", dls)
	}
}

func TestIngestKafkaDown(t *testing.T) {
	down := []string{freeAddr(t)}
	in, _ := newTestIngest(t, down, nil)
	srv := httptest.NewServer(in.Handler())
	defer srv.Close()
	code, r := post(t, srv.URL, "", msg(t, nil))
	if code != http.StatusServiceUnavailable || r.Accepted != 0 || r.Error == "" {
		t.Errorf("kafka down: %d %+v", code, r)
	}
	if s := in.Stats(); s.WriteErrors != 1 || s.Accepted != 0 {
		t.Errorf("stats %+v", s)
	}
	// The dead-letter topic down: the valid ones are in, the answer says retry.
	brokers := startKafka(t)
	dead := NewDeadLetters(down, "", testLogger())
	defer dead.Close()
	in2, err := NewIngest(IngestConfig{Brokers: brokers, DeadLetters: dead, Log: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	srv2 := httptest.NewServer(in2.Handler())
	defer srv2.Close()
	body := append(append(msg(t, nil), '\n'), "not json\n"...)
	code, r = post(t, srv2.URL, "", body)
	if code != http.StatusServiceUnavailable || r.Accepted != 1 || len(r.Rejected) != 1 {
		t.Errorf("dlq down: %d %+v", code, r)
	}
}

func TestNewIngestChecksConfig(t *testing.T) {
	if _, err := NewIngest(IngestConfig{Brokers: []string{"x:1"}}); err == nil {
		t.Error("no dead letters accepted")
	}
	if _, err := NewIngest(IngestConfig{DeadLetters: &DeadLetters{}}); err == nil {
		t.Error("no brokers accepted")
	}
}
