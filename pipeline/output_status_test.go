package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/video"
)

func TestCameraStatusEventMatchesSchema(t *testing.T) {
	store := events.Store{ID: "shop-1", Region: "north"}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ls := video.LiveStats{Packets: 900, Decoded: 300, DecodeErrors: 2, Reconnects: 1}
	off, err := CameraStatusEvent(store, "detect", video.Status{Camera: "door", Time: at, Reason: "no picture for 5s"}, ls)
	if err != nil {
		t.Fatal(err)
	}
	on, err := CameraStatusEvent(store, "detect", video.Status{Camera: "door", Online: true, Time: at.Add(7 * time.Second)}, ls)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := CameraStatusEvent(store, "detect", video.Status{Camera: "door", Time: at, Reason: "no picture for 5s"}, ls)
	if off.ID != again.ID || off.ID == on.ID {
		t.Fatalf("ids: offline %s, same again %s, online %s", off.ID, again.ID, on.ID)
	}
	for _, e := range []events.Envelope{off, on} {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := events.CheckSchemas(raw); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	if !strings.Contains(string(off.Data), `"state":"offline"`) || off.Camera != "door" || !off.Time.Equal(at) {
		t.Fatalf("offline event %s", off.Data)
	}
	// A state the schema does not know must fail the check.
	bad := off
	bad.Data = json.RawMessage(strings.Replace(string(off.Data), `"offline"`, `"sleeping"`, 1))
	raw, _ := json.Marshal(bad)
	if err := events.CheckSchemas(raw); err == nil || !strings.Contains(err.Error(), "want one of") {
		t.Fatalf("unknown state passed the schema: %v", err)
	}
}
