package alerts

import (
	"fmt"
	"time"

	"github.com/storesight/storesight/geom"
)

// Level is how well an alert is verified, in the spirit of
// ANSI/TMA-AVS-01: the higher, the more certain and the more urgent. Only
// alerts at or above the configured notify level interrupt a person.
type Level int

const (
	// LevelUnverified: something happened that no frame sequence confirmed.
	LevelUnverified Level = 0
	// LevelIndication: video shows a condition worth recording (e.g. a zone
	// over its occupancy limit) but not a verified human threat.
	LevelIndication Level = 1
	// LevelHuman: a person is confirmed present over several frames.
	LevelHuman Level = 2
	// LevelProperty: confirmed threat to property.
	LevelProperty Level = 3
	// LevelLife: confirmed threat to life (e.g. a weapon next to a person).
	LevelLife Level = 4
)

func (l Level) String() string {
	switch l {
	case LevelUnverified:
		return "unverified"
	case LevelIndication:
		return "indication"
	case LevelHuman:
		return "human presence"
	case LevelProperty:
		return "threat to property"
	case LevelLife:
		return "threat to life"
	}
	return fmt.Sprintf("level %d", int(l))
}

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l >= LevelUnverified && l <= LevelLife }

// State is a step in an alert's life.
type State string

const (
	// StateRaised is the first step: the rule's condition was confirmed.
	StateRaised State = "raised"
	// StateUpdated: the alert changed (level, best evidence, value) while open.
	StateUpdated State = "updated"
	// StateResolved: the condition no longer holds (or the stream ended).
	StateResolved State = "resolved"
	// StateAcknowledged: a person took responsibility for the alert.
	StateAcknowledged State = "acknowledged"
	// StateFalseAlarm: a person marked the alert as a false alarm.
	StateFalseAlarm State = "false_alarm"
)

// Closed reports whether no further machine step follows (a person
// closed the alert).
func (s State) Closed() bool { return s == StateAcknowledged || s == StateFalseAlarm }

// Kind is the rule type that produced an alert.
type Kind string

const (
	KindLoitering  Kind = "loitering"
	KindWeapon     Kind = "weapon"
	KindAfterHours Kind = "after_hours"
	KindOccupancy  Kind = "occupancy"
	// KindNoCustomer: a cash refund, void or drawer opening rung up while
	// no person stood in the register's customer zone (package pos).
	KindNoCustomer Kind = "no_customer"
)

// Alert is one alert as of one step of its life; it is the data of an
// alert event. ID is stable across steps; each step's event id is derived
// from (ID, State, Seq), so a re-sent step keeps its event id.
type Alert struct {
	ID     string `json:"alert_id"`
	Rule   string `json:"rule"`
	Kind   Kind   `json:"kind"`
	Camera string `json:"camera"`
	Zone   string `json:"zone,omitempty"`
	Level  Level  `json:"level"`
	State  State  `json:"state"`
	// Seq numbers the steps: 1 is raised, each later step adds one.
	Seq int `json:"seq"`
	// Started is the event time of the first evidence (e.g. when the
	// loiterer entered the zone); Time is the event time of this step
	// (wall time for a person's acknowledgement).
	Started time.Time `json:"started"`
	Time    time.Time `json:"time"`
	// Ended is set once resolved.
	Ended    time.Time `json:"ended,omitzero"`
	TrackIDs []uint64  `json:"track_ids"`
	// Class is the detected object class behind the alert (person, knife).
	Class string  `json:"class"`
	Score float32 `json:"score"`
	// Box is the best frame's box of the object behind the alert,
	// [x1, y1, x2, y2] in pixels of the analysed stream.
	Box [4]float64 `json:"box"`
	// Frame is the decode index of the best frame.
	Frame int64 `json:"frame"`
	// Value is the rule's measure: dwell seconds (loitering), people
	// (occupancy), confirming frames (weapon, after_hours).
	Value float64 `json:"value"`
	// Message is one short human sentence, as sent by SMS.
	Message string `json:"message"`
	// Snapshot is the URL of the best frame's JPEG with the box drawn.
	Snapshot string `json:"snapshot,omitempty"`
	// By names who acknowledged or marked a false alarm (a masked phone
	// number, or an API caller).
	By string `json:"by,omitempty"`
	// POS is the register transaction behind a no_customer alert.
	POS *POSRef `json:"pos,omitempty"`
}

// POSRef names the register transaction an alert is about. Amount is a
// decimal string as the POS sent it (e.g. "49.90"), so no float rounding
// touches money.
type POSRef struct {
	TransactionID string    `json:"transaction_id"`
	Register      string    `json:"register"`
	Cashier       string    `json:"cashier"`
	Type          string    `json:"type"`
	Tender        string    `json:"tender,omitempty"`
	Amount        string    `json:"amount"`
	Currency      string    `json:"currency,omitempty"`
	POSTime       time.Time `json:"pos_time"`
}

// BoxOf writes b as an Alert box.
func BoxOf(b geom.Box) [4]float64 { return [4]float64{b.X1, b.Y1, b.X2, b.Y2} }
