package pipeline

import (
	"fmt"
	"strconv"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/video"
)

// CameraStatus is the data of a camera_status event.
type CameraStatus struct {
	State        string `json:"state"` // online or offline
	Reason       string `json:"reason"`
	Stream       string `json:"stream"` // detect or main
	Packets      int64  `json:"packets"`
	Decoded      int64  `json:"decoded"`
	DecodeErrors int64  `json:"decode_errors"`
	Dropped      int64  `json:"dropped"`
	Reconnects   int64  `json:"reconnects"`
}

// CameraStatusEvent builds the event of a camera going offline or coming
// back. Its id is a function of the camera, stream, state and time of the
// change, so a retried produce carries the same id.
func CameraStatusEvent(store events.Store, stream string, st video.Status, ls video.LiveStats) (events.Envelope, error) {
	state := "offline"
	if st.Online {
		state = "online"
	}
	data := CameraStatus{
		State: state, Reason: st.Reason, Stream: stream,
		Packets: ls.Packets, Decoded: ls.Decoded, DecodeErrors: ls.DecodeErrors,
		Dropped: ls.Dropped, Reconnects: ls.Reconnects,
	}
	id := events.ID(store.ID, st.Camera, events.TypeCameraStatus, stream, state, strconv.FormatInt(st.Time.UnixNano(), 10))
	e, err := events.NewEnvelope(id, events.TypeCameraStatus, store, st.Camera, st.Time, data)
	if err != nil {
		return e, fmt.Errorf("camera status event: %w", err)
	}
	return e, nil
}
