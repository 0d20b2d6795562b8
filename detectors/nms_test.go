package detectors

import (
	"testing"

	"github.com/storesight/storesight/geom"
)

func TestNMS(t *testing.T) {
	box := func(x1, y1, x2, y2 float64) geom.Box { return geom.Box{X1: x1, Y1: y1, X2: x2, Y2: y2} }
	dets := []Detection{
		{Box: box(0, 0, 10, 10), Score: 0.6, Class: 0}, // IoU 0.81 with the 0.9 box: suppressed
		{Box: box(0, 0, 10, 11), Score: 0.9, Class: 0}, // kept, best
		{Box: box(0, 0, 10, 10), Score: 0.7, Class: 2}, // same place, other class: kept
		{Box: box(5, 0, 15, 10), Score: 0.8, Class: 0}, // IoU 0.31 with the 0.9 box: kept
		{Box: box(100, 100, 120, 140), Score: 0.3, Class: 0},
		{Box: box(6, 0, 16, 10), Score: 0.5, Class: 0}, // IoU 0.82 with the 0.8 box: suppressed
	}
	got := NMS(dets, 0.45)
	want := []float32{0.9, 0.8, 0.7, 0.3}
	if len(got) != len(want) {
		t.Fatalf("kept %d: %+v", len(got), got)
	}
	for i, s := range want {
		if got[i].Score != s {
			t.Errorf("kept[%d] score %v, want %v", i, got[i].Score, s)
		}
	}
	if got[2].Class != 2 {
		t.Errorf("other-class box lost: %+v", got[2])
	}

	// The threshold is strict: IoU exactly at it is kept.
	pair := []Detection{
		{Box: box(0, 0, 10, 10), Score: 0.9},
		{Box: box(0, 0, 10, 5), Score: 0.8}, // IoU 0.5
	}
	if n := len(NMS(pair, 0.5)); n != 2 {
		t.Errorf("IoU == threshold: kept %d, want 2", n)
	}
	pair = []Detection{
		{Box: box(0, 0, 10, 10), Score: 0.9},
		{Box: box(0, 0, 10, 5), Score: 0.8},
	}
	if n := len(NMS(pair, 0.49)); n != 1 {
		t.Errorf("IoU above threshold: kept %d, want 1", n)
	}
	if len(NMS(nil, 0.5)) != 0 {
		t.Error("empty input")
	}
}

func TestNMSChain(t *testing.T) {
	// A suppresses B, B would have suppressed C, but C does not overlap A
	// enough: greedy NMS keeps A and C because B is gone.
	dets := []Detection{
		{Box: geom.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}, Score: 0.9},
		{Box: geom.Box{X1: 3, Y1: 0, X2: 13, Y2: 10}, Score: 0.8},
		{Box: geom.Box{X1: 6, Y1: 0, X2: 16, Y2: 10}, Score: 0.7},
	}
	got := NMS(dets, 0.5)
	if len(got) != 2 || got[0].Score != 0.9 || got[1].Score != 0.7 {
		t.Errorf("got %+v", got)
	}
}
