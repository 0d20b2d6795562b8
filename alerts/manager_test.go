package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pipeline"
)

// waitFor polls cond until it holds; the deadline only bounds a hang, it
// does not measure speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// quickKnife confirms on one frame, so a test can raise with one Result.
var quickKnife = Rule{Name: "knife", Kind: KindWeapon, Classes: []int{knifeCls}, MinScore: 0.5, Near: 0.1, Frames: 1, Window: 1}

// knifeFrame is frame i of camera with a person holding a knife of score s
// (s = 0: nobody holds anything).
func knifeFrame(camera string, i int, s float32) *pipeline.Result {
	r := frameAt(camera, i)
	holder := box(100, 100, 200, 400)
	r.Tracks = append(r.Tracks, personTrack(2, holder))
	if s > 0 {
		r.Detections = append(r.Detections, det(knifeCls, s, box(205, 240, 225, 260)))
	}
	return r
}

func activeIDs(m *Manager) []string {
	var ids []string
	for _, a := range m.Active() {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestManagerAcknowledgeLifecycle(t *testing.T) {
	h := start(t, []Rule{quickKnife}, func(mc *ManagerConfig, _ *EngineConfig) { mc.UpdateEvery = time.Second })
	ctx := context.Background()

	// Alert A: acknowledged while open; the machine goes on silently.
	h.e.Result(knifeFrame("till", 0, 0.6))
	idA := alertID("till", "knife", "", timeAt(0), 2)
	waitFor(t, "alert A active", func() bool { return slices.Equal(activeIDs(h.m), []string{idA}) })
	if err := h.m.Acknowledge(ctx, idA, "+1 555 123 4567", false); err != nil {
		t.Fatal(err)
	}
	if ids := activeIDs(h.m); len(ids) != 0 {
		t.Fatalf("active after ack: %v", ids)
	}
	for i := 1; i <= 100; i++ { // better frames every second, then 5 s clear
		s := float32(0)
		if i <= 40 {
			s = 0.6 + float32(i)/100
		}
		h.e.Result(knifeFrame("till", i, s))
	}
	if err := h.m.Acknowledge(ctx, idA, "someone else", true); !errors.Is(err, ErrClosed) {
		t.Fatalf("second ack: %v, want ErrClosed", err)
	}
	if err := h.m.Acknowledge(ctx, "0123456789abcdef0123456789abcdef", "ops", false); !errors.Is(err, ErrUnknownAlert) {
		t.Fatalf("unknown ack: %v, want ErrUnknownAlert", err)
	}
	if err := h.m.Acknowledge(ctx, idA, "  ", false); err == nil {
		t.Fatal("ack without a name accepted")
	}

	// Alert B: resolved, then marked a false alarm by an API caller.
	h.e.Result(knifeFrame("door", 0, 0.7))
	idB := alertID("door", "knife", "", timeAt(0), 2)
	waitFor(t, "alert B active", func() bool { return slices.Contains(activeIDs(h.m), idB) })
	h.e.Result(knifeFrame("door", 60, 0)) // 6 s without: resolved
	waitFor(t, "alert B resolved", func() bool { return !slices.Contains(activeIDs(h.m), idB) })
	if err := h.m.Acknowledge(ctx, idB, "api:ops", true); err != nil {
		t.Fatalf("false alarm after resolved: %v", err)
	}
	if err := h.m.Acknowledge(ctx, idB, "api:ops", false); !errors.Is(err, ErrClosed) {
		t.Fatalf("ack after false alarm: %v, want ErrClosed", err)
	}

	got := byID(h.stop())
	a, b := got[idA], got[idB]
	checkSeq(t, a)
	checkSeq(t, b)
	if want := []State{StateRaised, StateAcknowledged}; !slices.Equal(states(a), want) {
		t.Fatalf("A steps %v, want %v (nothing after the acknowledgement)", states(a), want)
	}
	ack := a[1]
	if ack.By != "+*******4567" || ack.Message != "Acknowledged by +*******4567: Knife next to a person (camera till), score 0.60" ||
		ack.Frame != 0 || ack.Score != 0.6 {
		t.Fatalf("ack step %+v", ack)
	}
	if want := []State{StateRaised, StateResolved, StateFalseAlarm}; !slices.Equal(states(b), want) {
		t.Fatalf("B steps %v, want %v", states(b), want)
	}
	if fa := b[2]; fa.By != "api:ops" || !fa.Ended.Equal(timeAt(0)) ||
		fa.Message != "False alarm per api:ops: Knife next to a person (camera door), score 0.70" {
		t.Fatalf("false alarm step %+v", fa)
	}
	// Weapons are a threat to life: people hear every published step.
	if n := h.notes.got(); len(n) != len(a)+len(b) {
		t.Fatalf("notified %d steps, want %d", len(n), len(a)+len(b))
	}
	if err := h.m.Acknowledge(ctx, idB, "late", false); !errors.Is(err, ErrStopped) {
		t.Fatalf("ack after stop: %v, want ErrStopped", err)
	}
}

func TestManagerNotifyLevelGatesNotifierOnly(t *testing.T) {
	rules := []Rule{quickKnife, {Name: "queue", Kind: KindOccupancy, Zone: "queue", Max: 1}}
	h := start(t, rules, func(mc *ManagerConfig, _ *EngineConfig) { mc.NotifyLevel = LevelLife })
	r := knifeFrame("till", 0, 0.8)
	r.Occupancy["queue"] = 2
	h.e.Result(r)
	h.e.Result(final("till", 0))
	got := h.stop()
	if len(got) != 4 {
		t.Fatalf("published %d steps, want raised and resolved of both alerts: %+v", len(got), got)
	}
	notes := h.notes.got()
	if len(notes) != 2 || notes[0].Kind != KindWeapon || notes[0].State != StateRaised || notes[1].State != StateResolved {
		t.Fatalf("notified %+v, want the weapon alert's two steps only", notes)
	}
}

func TestManagerHandler(t *testing.T) {
	h := start(t, []Rule{quickKnife})
	srv := httptest.NewServer(h.m.Handler())
	defer srv.Close()
	get := func() []Alert {
		t.Helper()
		resp, err := http.Get(srv.URL + "/alerts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var as []Alert
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET /alerts: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(resp.Body).Decode(&as); err != nil || as == nil {
			t.Fatalf("GET /alerts: %v (%v)", err, as)
		}
		return as
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if as := get(); len(as) != 0 {
		t.Fatalf("active before any alert: %+v", as)
	}
	h.e.Result(knifeFrame("till", 0, 0.6))
	h.e.Result(knifeFrame("door", 0, 0.6))
	waitFor(t, "two active alerts", func() bool { return len(h.m.Active()) == 2 })
	as := get()
	if len(as) != 2 || as[0].State != StateRaised || as[0].Seq != 1 {
		t.Fatalf("GET /alerts: %+v", as)
	}
	id := as[0].ID
	if code, _ := post("/alerts/"+id+"/ack", nil); code != http.StatusBadRequest {
		t.Fatalf("ack without by: %d", code)
	}
	if code, _ := post("/alerts/"+id+"/ack", url.Values{"by": {strings.Repeat("x", 101)}}); code != http.StatusBadRequest {
		t.Fatalf("ack with a huge by: %d", code)
	}
	code, body := post("/alerts/"+id+"/ack", url.Values{"by": {"+15551230000"}})
	var a Alert
	if err := json.Unmarshal([]byte(body), &a); code != http.StatusOK || err != nil ||
		a.State != StateAcknowledged || a.Seq != 2 || a.By != "+*******0000" || a.ID != id {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, _ := post("/alerts/"+id+"/false-alarm", url.Values{"by": {"ops"}}); code != http.StatusConflict {
		t.Fatalf("false alarm after ack: %d", code)
	}
	if code, _ := post("/alerts/ffffffffffffffffffffffffffffffff/ack", url.Values{"by": {"ops"}}); code != http.StatusNotFound {
		t.Fatalf("ack of an unknown alert: %d", code)
	}
	if code, body := post("/alerts/"+as[1].ID+"/false-alarm", url.Values{"by": {"ops"}}); code != http.StatusOK ||
		!strings.Contains(body, `"state":"false_alarm"`) {
		t.Fatalf("false alarm: %d %s", code, body)
	}
	if as := get(); len(as) != 0 {
		t.Fatalf("active after closing both: %+v", as)
	}
	resp, err := http.Get(srv.URL + "/alerts/" + id + "/ack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET on ack: %d", resp.StatusCode)
	}
}

// Cameras run concurrently; each keeps its own rule state.
func TestEngineConcurrentCameras(t *testing.T) {
	h := start(t, []Rule{quickKnife, {Name: "queue", Kind: KindOccupancy, Zone: "queue", Max: 0, For: time.Second}})
	cams := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	for _, cam := range cams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s := float32(0)
				if i%100 < 20 { // two knife episodes per camera
					s = 0.9
				}
				r := knifeFrame(cam, i, s)
				r.Occupancy["queue"] = 1
				h.e.Result(r)
			}
			h.e.Result(final(cam, 199))
		}()
	}
	wg.Wait()
	got := byID(h.stop())
	perCam := map[string][]Kind{}
	for _, steps := range got {
		checkSeq(t, steps)
		if len(steps) < 2 || steps[0].State != StateRaised || steps[len(steps)-1].State != StateResolved {
			t.Fatalf("steps %v", states(steps))
		}
		perCam[steps[0].Camera] = append(perCam[steps[0].Camera], steps[0].Kind)
	}
	for _, cam := range cams {
		ks := perCam[cam]
		slices.Sort(ks)
		if want := []Kind{KindOccupancy, KindWeapon, KindWeapon}; !slices.Equal(ks, want) {
			t.Fatalf("camera %s alerts %v, want %v", cam, ks, want)
		}
	}
}

// After Run returns, steps are dropped instead of blocking the camera
// worker, and a fresh Run is refused.
func TestManagerStoppedDropsSteps(t *testing.T) {
	h := start(t, []Rule{quickKnife})
	h.e.Result(knifeFrame("till", 0, 0.6))
	if got := h.stop(); len(got) != 1 {
		t.Fatalf("published %d steps before stop, want the raise", len(got))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2*stepQueue; i++ { // more than the queue holds
			h.e.Result(knifeFrame("cam-"+strconv.Itoa(i), 0, 0.6))
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("engine blocked on a stopped manager")
	}
	if err := h.m.Run(context.Background()); err == nil {
		t.Fatal("second Run accepted")
	}
	if got := h.published(); len(got) != 1 {
		t.Fatalf("published %d steps after stop", len(got))
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567":      "+*******4567",
		"+1 (555) 123-4567": "+*******4567",
		"+*******4567":      "+*******4567",
		"ops@store-1":       "ops@store-1",
		"api:ops":           "api:ops",
		"12345":             "12345",
		// Numbers inside text, as in a by field or an error message.
		"John +1 555 123 4567":                 "John +*******4567",
		"call 555-123-4567 or (555) 987.6543.": "call ******4567 or ******6543.",
		"cam 12, zone 3":                       "cam 12, zone 3",
		"+15551234567/+15557654321":            "+*******4567/+*******4321",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewManagerAndEngineRejectBadConfig(t *testing.T) {
	good := ManagerConfig{Store: events.Store{ID: "s"}, Pub: pipeline.NewJSONLines(io.Discard)}
	if _, err := NewManager(good); err != nil {
		t.Fatal(err)
	}
	for name, mc := range map[string]ManagerConfig{
		"no store":     {Pub: good.Pub},
		"no publisher": {Store: good.Store},
		"bad level":    {Store: good.Store, Pub: good.Pub, NotifyLevel: 5},
		"negative gap": {Store: good.Store, Pub: good.Pub, UpdateEvery: -time.Second},
	} {
		if _, err := NewManager(mc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m, _ := NewManager(good)
	bad := map[string]Rule{
		"no name":             {Kind: KindLoitering, Zone: "z", Dwell: time.Second},
		"unknown kind":        {Name: "r", Kind: "fire"},
		"loitering no zone":   {Name: "r", Kind: KindLoitering, Dwell: time.Second},
		"loitering no dwell":  {Name: "r", Kind: KindLoitering, Zone: "z"},
		"occupancy no zone":   {Name: "r", Kind: KindOccupancy, Max: 3},
		"occupancy neg max":   {Name: "r", Kind: KindOccupancy, Zone: "z", Max: -1},
		"weapon no classes":   {Name: "r", Kind: KindWeapon},
		"weapon person class": {Name: "r", Kind: KindWeapon, Classes: []int{personCls}},
		"weapon bad class":    {Name: "r", Kind: KindWeapon, Classes: []int{80}},
		"weapon bad score":    {Name: "r", Kind: KindWeapon, Classes: []int{knifeCls}, MinScore: 1.5},
		"weapon frames>win":   {Name: "r", Kind: KindWeapon, Classes: []int{knifeCls}, Frames: 4, Window: 3},
		"after hours no plan": {Name: "r", Kind: KindAfterHours},
		"bad level":           {Name: "r", Kind: KindLoitering, Zone: "z", Dwell: time.Second, Level: 7},
		"negative clear":      {Name: "r", Kind: KindLoitering, Zone: "z", Dwell: time.Second, Clear: -time.Second},
	}
	for name, r := range bad {
		if _, err := NewEngine(EngineConfig{Store: "s", Rules: []Rule{r}, ClassNames: testClasses}, m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dup := Rule{Name: "r", Kind: KindLoitering, Zone: "z", Dwell: time.Second}
	if _, err := NewEngine(EngineConfig{Store: "s", Rules: []Rule{dup, dup}}, m); err == nil {
		t.Error("duplicate rule names accepted")
	}
	e, err := NewEngine(EngineConfig{Store: "s", Rules: []Rule{{Name: "w", Kind: KindWeapon, Classes: []int{knifeCls}}}}, m)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.rules[0]; r.Level != LevelLife || r.Clear != DefaultClear || r.Frames != DefaultFrames || r.Window != DefaultWindow {
		t.Fatalf("defaults not applied: %+v", r)
	}
}
