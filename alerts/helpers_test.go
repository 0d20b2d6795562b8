package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

// The engine and manager log every step; show them only with -v.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}

const (
	testStore = "store-1"
	personCls = 0
	knifeCls  = 43
)

// t0 is 22:00 UTC: the store of the after-hours tests is closed.
var t0 = time.Date(2026, 3, 14, 22, 0, 0, 0, time.UTC)

var testClasses = func() []string {
	n := make([]string, 80)
	n[personCls], n[knifeCls] = "person", "knife"
	return n
}()

// collector is a Notifier that keeps what it was told.
type collector struct {
	mu sync.Mutex
	as []Alert
}

func (c *collector) Notify(a Alert) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.as = append(c.as, a)
}

func (c *collector) got() []Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.as)
}

// harness runs a Manager and an Engine publishing into a real JSON-lines
// publisher (the offline form of the Kafka stream).
type harness struct {
	t      *testing.T
	m      *Manager
	e      *Engine
	buf    bytes.Buffer
	jl     *pipeline.JSONLines
	notes  collector
	cancel context.CancelFunc
	done   chan error
}

type harnessOpt func(*ManagerConfig, *EngineConfig)

// start builds a harness and runs its manager.
func start(t *testing.T, rules []Rule, opts ...harnessOpt) *harness {
	t.Helper()
	h := build(t, rules, opts...)
	h.run()
	return h
}

// build builds a harness whose manager does not run yet.
func build(t *testing.T, rules []Rule, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, done: make(chan error, 1)}
	h.jl = pipeline.NewJSONLines(&h.buf)
	mc := ManagerConfig{Store: events.Store{ID: testStore}, PublicURL: "http://10.0.0.5:9100", Pub: h.jl,
		Notifier: &h.notes, NotifyLevel: LevelHuman, UpdateEvery: 10 * time.Second}
	ec := EngineConfig{Store: testStore, Rules: rules, PersonClass: personCls, ClassNames: testClasses}
	for _, o := range opts {
		o(&mc, &ec)
	}
	m, err := NewManager(mc)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(ec, m)
	if err != nil {
		t.Fatal(err)
	}
	h.m, h.e = m, e
	t.Cleanup(func() { h.stopRun() })
	return h
}

// run starts the manager.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.m.Run(ctx) }()
}

func (h *harness) stopRun() {
	if h.cancel != nil {
		h.cancel()
		if err := <-h.done; err != nil {
			h.t.Errorf("run: %v", err)
		}
		h.cancel = nil
	}
}

// stop stops the manager (it drains its queue first) and returns every
// published step, each checked against the event schemas and its id.
func (h *harness) stop() []Alert {
	h.t.Helper()
	h.stopRun()
	return h.published()
}

// published reads what the manager published so far; only safe once the
// manager stopped or is idle (the JSON-lines publisher is locked, the
// buffer read is not).
func (h *harness) published() []Alert {
	h.t.Helper()
	if err := h.jl.Flush(); err != nil {
		h.t.Fatal(err)
	}
	var out []Alert
	sc := bufio.NewScanner(bytes.NewReader(h.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, decodeAlert(h.t, sc.Bytes()))
	}
	return out
}

// decodeAlert checks one encoded alert event and returns its data.
func decodeAlert(t *testing.T, raw []byte) Alert {
	t.Helper()
	if err := events.CheckSchemas(raw); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	var e events.Envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	var a Alert
	if err := json.Unmarshal(e.Data, &a); err != nil {
		t.Fatal(err)
	}
	if e.Type != events.TypeAlert || e.Camera != a.Camera || e.Store.ID != testStore || !e.Time.Equal(a.Time) {
		t.Fatalf("envelope %+v does not match alert %+v", e, a)
	}
	if want := events.ID(a.ID, string(a.State), strconv.Itoa(a.Seq)); e.ID != want {
		t.Fatalf("event id %s, want %s", e.ID, want)
	}
	return a
}

// states lists the steps' states.
func states(as []Alert) []State {
	s := make([]State, len(as))
	for i, a := range as {
		s[i] = a.State
	}
	return s
}

// frameAt is the result of frame i of a 10 fps camera.
func frameAt(camera string, i int) *pipeline.Result {
	return &pipeline.Result{Camera: camera, Frame: int64(i), StreamTime: time.Duration(i) * 100 * time.Millisecond,
		Time: timeAt(i), Width: 768, Height: 576, Occupancy: map[string]int{}}
}

func timeAt(i int) time.Time { return t0.Add(time.Duration(i) * 100 * time.Millisecond) }

func final(camera string, last int) *pipeline.Result {
	r := frameAt(camera, last)
	r.Final = true
	return r
}

func box(x1, y1, x2, y2 float64) geom.Box { return geom.Box{X1: x1, Y1: y1, X2: x2, Y2: y2} }

func personTrack(id uint64, b geom.Box) tracker.Track {
	return tracker.Track{ID: id, Box: b, Score: 0.9, Class: personCls, State: tracker.Confirmed, Hits: 10, Age: 10}
}

func det(cls int, score float32, b geom.Box) detectors.Detection {
	return detectors.Detection{Box: b, Score: score, Class: cls}
}

func presence(zone string, visit uint64, ids []uint64, start time.Time, i int, b geom.Box) counting.Presence {
	return counting.Presence{Zone: zone, Visit: visit, TrackID: ids[len(ids)-1], TrackIDs: ids, Start: start,
		Last: timeAt(i), Dwell: timeAt(i).Sub(start), Box: b, Frame: int64(i)}
}

func alertID(camera, rule, zone string, started time.Time, track uint64) string {
	return events.ID(testStore, camera, rule, zone, strconv.FormatInt(started.UnixNano(), 10), strconv.FormatUint(track, 10))
}
