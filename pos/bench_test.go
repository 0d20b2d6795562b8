package pos

import (
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

// BenchmarkPresenceFrame is the cost the register history adds to every
// analysed frame of a register camera: 4 people, 2 registers, a 768x576
// frame (vtest's size) kept as JPEG once per second of video at 10 fps (so
// one frame in ten pays for an encode).
func BenchmarkPresenceFrame(b *testing.B) {
	p := newTestPresence(b, 10*time.Minute, time.Second)
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 120, 60, 0), 576, 768, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0)) // noise: a flat frame would flatter the JPEG encoder
	tracks := []tracker.Track{atR1Customer(1), atR1Staff(2), atR2Customer(3), personAt(4, 150, 10)}
	r := &pipeline.Result{Camera: "cam-1", Width: 768, Height: 576, Image: img, Tracks: tracks}
	t := vt0
	b.ReportAllocs()
	for b.Loop() {
		r.Time = t
		r.Frame++
		t = t.Add(100 * time.Millisecond)
		p.Result(r)
	}
}

// BenchmarkPresenceWindow is one correlator query: a 25 s window of a 10 fps
// camera (251 frames).
func BenchmarkPresenceWindow(b *testing.B) {
	p := newTestPresence(b, 10*time.Minute, 0)
	v := &synthVideo{p: p, cam: "cam-1"}
	tracks := []tracker.Track{atR1Staff(2), personAt(4, 150, 10)}
	v.play(vt0, vt0.Add(5*time.Minute), 100*time.Millisecond, func(time.Time) []tracker.Track { return tracks })
	from := vt0.Add(2 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Window("r1", from, from.Add(25*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}
