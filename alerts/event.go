package alerts

import (
	"fmt"
	"strconv"

	"github.com/storesight/storesight/events"
)

// AlertEvent builds the event of one step of an alert. Its id is a function
// of (alert id, state, seq), so a re-sent step keeps its id and consumers
// can de-duplicate; the event time is the step's time.
func AlertEvent(store events.Store, a Alert) (events.Envelope, error) {
	id := events.ID(a.ID, string(a.State), strconv.Itoa(a.Seq))
	if a.TrackIDs == nil {
		a.TrackIDs = []uint64{} // the schema wants an array, never null
	}
	e, err := events.NewEnvelope(id, events.TypeAlert, store, a.Camera, a.Time, a)
	if err != nil {
		return e, fmt.Errorf("alert event %s %s #%d: %w", a.ID, a.State, a.Seq, err)
	}
	return e, nil
}
