package pipeline

import (
	"bytes"
	"testing"

	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/tracker"
)

func TestMOTWriterClipsAndDropsBoxesOutsideThePicture(t *testing.T) {
	var buf bytes.Buffer
	w := NewMOTWriter(&buf, "cam")
	w.Result(&Result{Camera: "cam", Frame: 4, Width: 768, Height: 576, Tracks: []tracker.Track{
		{ID: 1, Box: geom.Box{X1: 10, Y1: 20, X2: 40, Y2: 110}, Score: 0.9},
		{ID: 2, Box: geom.Box{X1: 750, Y1: 500, X2: 790, Y2: 600}, Score: 0.5},    // sticks out: clipped
		{ID: 3, Box: geom.Box{X1: 770, Y1: 100, X2: 800, Y2: 190}, Score: 0.4},    // wholly right of the picture
		{ID: 4, Box: geom.Box{X1: 100, Y1: -90, X2: 130, Y2: -0.001}, Score: 0.4}, // above it, rounds to zero height
	}})
	w.Result(&Result{Camera: "other", Frame: 4, Width: 768, Height: 576, Tracks: []tracker.Track{{ID: 9, Box: geom.Box{X1: 1, Y1: 1, X2: 5, Y2: 5}}}})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "5,1,10.00,20.00,30.00,90.00,0.9000,-1,-1,-1\n" +
		"5,2,750.00,500.00,18.00,76.00,0.5000,-1,-1,-1\n"
	if got := buf.String(); got != want {
		t.Errorf("MOT rows:\n%s\nwant:\n%s", got, want)
	}
}
