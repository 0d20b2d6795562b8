package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SpecVersion is the version of the envelope format. It changes only on a
// breaking change; additive changes keep it.
const SpecVersion = "1"

// Event types. Each has a schema in schemas/<type>.schema.json.
const (
	// TypeCrossing is one track crossing one counting line.
	TypeCrossing = "crossing"
	// TypeLineCount is the per-window count of crossings of one line.
	TypeLineCount = "line_count"
	// TypeZoneOccupancy is the per-window occupancy of one zone.
	TypeZoneOccupancy = "zone_occupancy"
	// TypeCameraStatus is a live camera going offline or coming back.
	TypeCameraStatus = "camera_status"
	// TypeAlert is one step in the life of an alert (raised, updated,
	// resolved, acknowledged, false alarm).
	TypeAlert = "alert"
	// TypePOSCheck is the verdict on one register transaction against the
	// video of its register's customer zone (package pos).
	TypePOSCheck = "pos_check"
	// TypeRisk is one entity's (cashier, store, region, HQ) exception
	// figures and risk score for one period (package analytics).
	TypeRisk = "risk"
	// TypeConversion is one store's entries and transactions in one hour
	// (package analytics).
	TypeConversion = "conversion"
)

// Store identifies the shop an event comes from.
type Store struct {
	ID     string `json:"id"`
	Region string `json:"region,omitempty"`
}

// Envelope is the common wrapper of every event. Data holds the
// type-specific payload as encoded JSON so the sink, the spill file and
// consumers can pass it along without knowing its Go type.
type Envelope struct {
	ID          string
	Type        string
	SpecVersion string
	Store       Store
	Camera      string
	// Time is the event time: when it happened in the camera's stream.
	Time time.Time
	// ProcessedAt is when storesight produced the event (wall clock).
	ProcessedAt time.Time
	Data        json.RawMessage
}

// envelopeJSON is the wire form; times are strings so they are always
// written as RFC 3339 in UTC whatever location the caller's time.Time has.
type envelopeJSON struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	SpecVersion string          `json:"spec_version"`
	Store       Store           `json:"store"`
	Camera      string          `json:"camera"`
	Time        string          `json:"time"`
	ProcessedAt string          `json:"processed_at"`
	Data        json.RawMessage `json:"data"`
}

// NewEnvelope builds a valid envelope: data is marshalled to JSON (it must
// encode to an object), ProcessedAt is now, SpecVersion is current.
func NewEnvelope(id, typ string, store Store, camera string, eventTime time.Time, data any) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: marshal %s data: %w", typ, err)
	}
	e := Envelope{
		ID:          id,
		Type:        typ,
		SpecVersion: SpecVersion,
		Store:       store,
		Camera:      camera,
		Time:        eventTime.UTC(),
		ProcessedAt: time.Now().UTC(),
		Data:        raw,
	}
	if err := e.Validate(); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// Validate checks what every consumer relies on: the fields that make up
// the key, the id and the topic, and that Data is a JSON object. It does
// not check Data against the type's schema (that is the producer's tests'
// job, see the schema tests) to keep Publish cheap.
func (e Envelope) Validate() error {
	var missing []string
	if e.ID == "" {
		missing = append(missing, "id")
	}
	if e.Type == "" {
		missing = append(missing, "type")
	}
	if e.Store.ID == "" {
		missing = append(missing, "store.id")
	}
	if e.Time.IsZero() {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("events: invalid envelope %q: missing %v", e.ID, missing)
	}
	d := bytes.TrimSpace(e.Data)
	if len(d) == 0 || d[0] != '{' || !json.Valid(d) {
		return fmt.Errorf("events: invalid envelope %q: data must be a JSON object", e.ID)
	}
	return nil
}

// Key is the Kafka message key: "store_id/camera_id", so one camera's
// events hash to one partition and stay in order. Events that come from no
// single camera (risk, conversion) have an empty Camera and are keyed by
// the store id alone.
func (e Envelope) Key() string {
	if e.Camera == "" {
		return e.Store.ID
	}
	return e.Store.ID + "/" + e.Camera
}

// Source is the CloudEvents source attribute: "storesight/<store>/<camera>",
// or "storesight/<store>" without a camera.
func (e Envelope) Source() string { return "storesight/" + e.Key() }

// MarshalJSON writes the wire form, times as RFC 3339 with nanoseconds in UTC.
func (e Envelope) MarshalJSON() ([]byte, error) {
	sv := e.SpecVersion
	if sv == "" {
		sv = SpecVersion
	}
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return json.Marshal(envelopeJSON{
		ID:          e.ID,
		Type:        e.Type,
		SpecVersion: sv,
		Store:       e.Store,
		Camera:      e.Camera,
		Time:        formatTime(e.Time),
		ProcessedAt: formatTime(e.ProcessedAt),
		Data:        data,
	})
}

// UnmarshalJSON reads the wire form written by MarshalJSON.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	var w envelopeJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("events: decode envelope: %w", err)
	}
	t, err := parseTime(w.Time)
	if err != nil {
		return fmt.Errorf("events: envelope %q time: %w", w.ID, err)
	}
	pt, err := parseTime(w.ProcessedAt)
	if err != nil {
		return fmt.Errorf("events: envelope %q processed_at: %w", w.ID, err)
	}
	*e = Envelope{
		ID:          w.ID,
		Type:        w.Type,
		SpecVersion: w.SpecVersion,
		Store:       w.Store,
		Camera:      w.Camera,
		Time:        t,
		ProcessedAt: pt,
		Data:        w.Data,
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var errEmptyTime = errors.New("empty")

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errEmptyTime
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
