package pos

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

// Synthetic video for the presence and correlator tests: 160x120 frames,
// camera cam-1 sees registers r1 (customer zone x 0-60, staff zone x
// 100-160) and r2 (customer zone x 60-100, no staff zone); cam-2 sees r3.

const (
	vidW, vidH  = 160, 120
	personClass = 0
	knifeClass  = 43
	camStore    = "store-7"
)

// vt0 is the start of the synthetic video.
var vt0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

func zoneRect(x1, y1, x2, y2 float64) geom.Polygon {
	return geom.Polygon{{X: x1, Y: y1}, {X: x2, Y: y1}, {X: x2, Y: y2}, {X: x1, Y: y2}}
}

func testRegisters() []Register {
	return []Register{
		{ID: "r1", Camera: "cam-1", CustomerZone: zoneRect(0, 0, 60, 120), StaffZone: zoneRect(100, 0, 160, 120)},
		{ID: "r2", Camera: "cam-1", CustomerZone: zoneRect(60, 0, 100, 120)},
		{ID: "r3", Camera: "cam-2", CustomerZone: zoneRect(0, 0, 160, 120)},
	}
}

func silentLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestPresence(t testing.TB, history, snapEvery time.Duration) *Presence {
	t.Helper()
	p, err := NewPresence(PresenceConfig{Registers: testRegisters(), PersonClass: personClass,
		History: history, SnapshotEvery: snapEvery, Log: silentLog()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// personAt is a confirmed person track whose box's bottom-centre is (x, y).
func personAt(id uint64, x, y float64) tracker.Track {
	return tracker.Track{ID: id, Box: geom.Box{X1: x - 10, Y1: y - 40, X2: x + 10, Y2: y},
		Score: 0.9, Class: personClass, State: tracker.Confirmed, Hits: 10, Age: 10}
}

// Where people stand.
var (
	atR1Customer = func(id uint64) tracker.Track { return personAt(id, 30, 100) }
	atR1Staff    = func(id uint64) tracker.Track { return personAt(id, 130, 100) }
	atR2Customer = func(id uint64) tracker.Track { return personAt(id, 80, 100) }
)

// frameImage is a grey frame, borrowed by every result like the pipeline's.
func frameImage(t testing.TB) gocv.Mat {
	t.Helper()
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), vidH, vidW, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { img.Close() })
	return img
}

// video feeds frames of one camera every step from `from` (included) to
// `to` (excluded); people(t) are the tracks at t.
type synthVideo struct {
	p     *Presence
	cam   string
	img   gocv.Mat // zero: frames without picture
	frame int64
}

func (v *synthVideo) play(from, to time.Time, step time.Duration, people func(t time.Time) []tracker.Track) {
	for t := from; t.Before(to); t = t.Add(step) {
		var tracks []tracker.Track
		if people != nil {
			tracks = people(t)
		}
		v.p.Result(&pipeline.Result{Camera: v.cam, Frame: v.frame, Time: t, Width: vidW, Height: vidH,
			Image: v.img, Tracks: tracks})
		v.frame++
	}
}

func (v *synthVideo) end() { v.p.Result(&pipeline.Result{Camera: v.cam, Final: true}) }

// pubRecorder is a publisher that keeps what it got.
type pubRecorder struct {
	mu  sync.Mutex
	evs []events.Envelope
}

func newPubRecorder() *pubRecorder { return &pubRecorder{} }

func (r *pubRecorder) Publish(e events.Envelope) error {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
	return nil
}

func (r *pubRecorder) events(typ string) []events.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Envelope
	for _, e := range r.evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// waitUntil polls cond until it holds; failing after a generous deadline
// only catches a hang, it asserts nothing about speed.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
