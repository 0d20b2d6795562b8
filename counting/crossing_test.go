package counting

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/storesight/storesight/geom"
)

func TestCrossingJSON(t *testing.T) {
	c := Crossing{
		Line: "door", Direction: "in", TrackID: 42, Frame: 1234,
		StreamTime: 61*time.Second + 234567*time.Microsecond,
		Time:       time.Date(2024, 5, 1, 10, 1, 1, 234567000, time.UTC),
		Point:      geom.Point{X: 100.5, Y: 200},
		Score:      0.75,
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"line":"door","direction":"in","track_id":42,"frame":1234,"stream_time_ms":61234,"time":"2024-05-01T10:01:01.234567Z","point":{"x":100.5,"y":200},"score":0.75}`
	if string(b) != want {
		t.Fatalf("json\n got %s\nwant %s", b, want)
	}
	var back Crossing
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c.StreamTime = 61234 * time.Millisecond
	if back != c {
		t.Errorf("round trip = %+v, want %+v", back, c)
	}
	if err := json.Unmarshal([]byte(`{"frame":"x"}`), &back); err == nil {
		t.Error("bad json decoded")
	}
}
