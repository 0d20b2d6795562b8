package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEnvelopeJSONRoundTripInUTC(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2025, 3, 14, 10, 30, 0, 5, paris)
	e, err := NewEnvelope(ID("x"), TypeCrossing, Store{ID: "s1", Region: "eu"}, "cam-0", at, map[string]int{"frame": 3})
	if err != nil {
		t.Fatal(err)
	}
	e.ProcessedAt = time.Date(2025, 3, 14, 9, 30, 1, 0, time.UTC).In(paris)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"time":"2025-03-14T09:30:00.000000005Z"`, `"processed_at":"2025-03-14T09:30:01Z"`,
		`"spec_version":"1"`, `"store":{"id":"s1","region":"eu"}`, `"data":{"frame":3}`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	var back Envelope
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(at) || !back.ProcessedAt.Equal(e.ProcessedAt) || back.ID != e.ID || back.Key() != "s1/cam-0" || string(back.Data) != `{"frame":3}` {
		t.Fatalf("round trip changed the envelope: %+v vs %+v", back, e)
	}
	if err := json.Unmarshal([]byte(`{"id":"x","time":"yesterday","processed_at":"2025-03-14T09:30:01Z"}`), &back); err == nil {
		t.Fatal("a bad time was accepted")
	}
}

func TestNewEnvelopeValidates(t *testing.T) {
	t.Parallel()
	if _, err := NewEnvelope("", TypeCrossing, Store{ID: "s1"}, "c", time.Now(), struct{}{}); err == nil || !strings.Contains(err.Error(), "id") {
		t.Fatalf("missing id: %v", err)
	}
	if _, err := NewEnvelope("x", TypeCrossing, Store{}, "c", time.Now(), struct{}{}); err == nil || !strings.Contains(err.Error(), "store.id") {
		t.Fatalf("missing store: %v", err)
	}
	if _, err := NewEnvelope("x", TypeCrossing, Store{ID: "s"}, "c", time.Time{}, struct{}{}); err == nil || !strings.Contains(err.Error(), "time") {
		t.Fatalf("missing time: %v", err)
	}
	if _, err := NewEnvelope("x", TypeCrossing, Store{ID: "s"}, "c", time.Now(), 42); err == nil {
		t.Fatal("non-object data accepted")
	}
	if _, err := NewEnvelope("x", TypeCrossing, Store{ID: "s"}, "c", time.Now(), func() {}); err == nil {
		t.Fatal("unmarshallable data accepted")
	}
}
