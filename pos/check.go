package pos

import (
	"fmt"
	"time"

	"github.com/storesight/storesight/events"
)

// Verdict is the outcome of checking a transaction against the video.
type Verdict string

// Verdicts.
const (
	// VerdictNoCustomer: the video covers the window and nobody stood in
	// the customer zone: a no_customer alert is raised.
	VerdictNoCustomer Verdict = "no_customer"
	// VerdictCustomerPresent: someone stood in the customer zone during
	// the window.
	VerdictCustomerPresent Verdict = "customer_present"
	// VerdictNoVideo: the video does not cover the window (camera down,
	// frames missing, history gone, or it never came within MaxWait);
	// nothing is concluded, and no alert is ever raised on it.
	VerdictNoVideo Verdict = "no_video"
)

// Check is the data of a pos_check event: one checked transaction, the
// window of video it was checked against and the verdict. It is plain
// JSON both ways (times RFC 3339, money a decimal string), so consumers
// can decode it into this type.
type Check struct {
	TransactionID string `json:"transaction_id"`
	Register      string `json:"register"`
	Cashier       string `json:"cashier"`
	Type          Type   `json:"type"`
	Tender        Tender `json:"tender,omitempty"`
	Amount        Money  `json:"amount"`
	Currency      string `json:"currency"`
	// POSTime is the transaction's timestamp as the POS sent it, with its
	// UTC offset (the store's local day comes from it).
	POSTime time.Time `json:"pos_time"`
	// CameraTime is POSTime plus the clock offset: when the transaction
	// happened on the camera's clock (UTC).
	CameraTime time.Time `json:"camera_time"`
	// ClockOffsetSeconds is the offset applied, in seconds.
	ClockOffsetSeconds float64 `json:"clock_offset_s"`
	// WindowStart and WindowEnd bound the video checked (camera time, UTC).
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Verdict     Verdict   `json:"verdict"`
	// Frames is the number of analysed frames in the window.
	Frames int `json:"frames"`
	// CustomerMax is the most people at once in the customer zone;
	// CustomerFrames the frames with at least one; CustomerTracks their
	// track ids.
	CustomerMax    int      `json:"customer_max"`
	CustomerFrames int      `json:"customer_frames"`
	CustomerTracks []uint64 `json:"customer_tracks"`
	// StaffMax is the most people at once in the staff zone (0 when the
	// register has none).
	StaffMax int `json:"staff_max"`
	// AlertID is the no_customer alert raised for it, if any.
	AlertID string `json:"alert_id,omitempty"`
}

// CheckID is the event id of the check of one transaction: the same
// transaction checked again (after a restart, a re-delivery) gets the
// same id, so consumers de-duplicate it.
func CheckID(store, register, transactionID string, typ Type) string {
	return events.ID(events.TypePOSCheck, store, register, transactionID, string(typ))
}

// CheckEvent builds the pos_check event of c: camera = the register's
// camera, event time = c.CameraTime.
func CheckEvent(store events.Store, camera string, c Check) (events.Envelope, error) {
	if c.CustomerTracks == nil {
		c.CustomerTracks = []uint64{} // the schema wants an array, never null
	}
	id := CheckID(store.ID, c.Register, c.TransactionID, c.Type)
	e, err := events.NewEnvelope(id, events.TypePOSCheck, store, camera, c.CameraTime, c)
	if err != nil {
		return e, fmt.Errorf("pos: check event of transaction %s: %w", c.TransactionID, err)
	}
	return e, nil
}
