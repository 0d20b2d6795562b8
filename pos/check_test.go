package pos

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/events"
)

func sampleCheck() Check {
	ct := vt0.Add(20 * time.Second)
	return Check{TransactionID: "T-1", Register: "r1", Cashier: "c7", Type: TypeRefund, Tender: TenderCash,
		Amount: 49900, Currency: "EUR", POSTime: ct.Add(-2 * time.Second).In(posZone), CameraTime: ct,
		ClockOffsetSeconds: 2, WindowStart: ct.Add(-20 * time.Second), WindowEnd: ct.Add(5 * time.Second),
		Verdict: VerdictCustomerPresent, Frames: 251, CustomerMax: 2, CustomerFrames: 40, CustomerTracks: []uint64{4, 9}, StaffMax: 1}
}

// A consumer (the analytics service) decodes the event's data into Check
// and gets back what was sent; money stays a decimal string on the wire.
func TestCheckEventRoundTrip(t *testing.T) {
	c := sampleCheck()
	e, err := CheckEvent(events.Store{ID: camStore, Region: "north"}, "cam-1", c)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := events.CheckSchemas(raw); err != nil {
		t.Errorf("%v\n%s", err, raw)
	}
	var back events.Envelope
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	var got Check
	if err := json.Unmarshal(back.Data, &got); err != nil {
		t.Fatal(err)
	}
	if !got.POSTime.Equal(c.POSTime) || got.POSTime.Format(time.RFC3339) != "2026-11-16T10:00:18+01:00" {
		t.Errorf("pos_time came back as %v", got.POSTime)
	}
	for _, p := range []*Check{&got, &c} {
		p.POSTime, p.CameraTime = p.POSTime.UTC(), p.CameraTime.UTC()
		p.WindowStart, p.WindowEnd = p.WindowStart.UTC(), p.WindowEnd.UTC()
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, c)
	}
	if !strings.Contains(string(back.Data), `"amount":"49.9"`) || back.Camera != "cam-1" || !back.Time.Equal(c.CameraTime) ||
		back.ID != CheckID(camStore, "r1", "T-1", TypeRefund) || back.Type != events.TypePOSCheck {
		t.Errorf("event %s", raw)
	}
	// No tracks is an empty array, never null.
	c.CustomerTracks = nil
	e, _ = CheckEvent(events.Store{ID: camStore}, "cam-1", c)
	if !strings.Contains(string(e.Data), `"customer_tracks":[]`) {
		t.Errorf("data %s", e.Data)
	}
}

// The schema is strict enough to catch what a consumer would choke on.
func TestCheckSchemaCatchesViolations(t *testing.T) {
	e, err := CheckEvent(events.Store{ID: camStore}, "cam-1", sampleCheck())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(e)
	for name, c := range map[string]struct {
		edit func(d map[string]any)
		want string
	}{
		"verdict":        {func(d map[string]any) { d["verdict"] = "maybe" }, "$.data.verdict"},
		"amount float":   {func(d map[string]any) { d["amount"] = 49.9 }, "$.data.amount"},
		"negative":       {func(d map[string]any) { d["amount"] = "-1" }, "$.data.amount"},
		"no pos_time":    {func(d map[string]any) { delete(d, "pos_time") }, `"pos_time"`},
		"extra":          {func(d map[string]any) { d["score"] = 1 }, `"score"`},
		"track zero":     {func(d map[string]any) { d["customer_tracks"] = []any{0} }, "customer_tracks[0]"},
		"alert id":       {func(d map[string]any) { d["alert_id"] = "x" }, "$.data.alert_id"},
		"frames negated": {func(d map[string]any) { d["frames"] = -1 }, "$.data.frames"},
	} {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		c.edit(v["data"].(map[string]any))
		b, _ := json.Marshal(v)
		err := events.CheckSchemas(b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a violation at %s", name, err, c.want)
		}
	}
}
