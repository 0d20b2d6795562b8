package sms

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

const (
	itStore   = "store-1"
	personCls = 0
	knifeCls  = 43
)

// memPub keeps the manager's published events: the Kafka sink's place.
type memPub struct {
	mu sync.Mutex
	es []events.Envelope
}

func (p *memPub) Publish(e events.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.es = append(p.es, e)
	return nil
}

// steps decodes the published alert steps, oldest first.
func (p *memPub) steps(t *testing.T) []alerts.Alert {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []alerts.Alert
	for _, e := range p.es {
		var a alerts.Alert
		if err := json.Unmarshal(e.Data, &a); err != nil || e.Type != events.TypeAlert {
			t.Fatalf("event %s %s: %v", e.Type, e.ID, err)
		}
		out = append(out, a)
	}
	return out
}

// startManager runs a real alert manager with an engine holding one
// weapon rule that confirms on a single frame; it notifies notifier.
func startManager(t *testing.T, notifier alerts.Notifier) (*alerts.Manager, *alerts.Engine, *memPub) {
	t.Helper()
	pub := &memPub{}
	log, _ := testLog(t)
	m, err := alerts.NewManager(alerts.ManagerConfig{
		Store: events.Store{ID: itStore}, PublicURL: "http://10.0.0.5:9100", Pub: pub,
		NotifyLevel: alerts.LevelHuman, Notifier: notifier, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 80)
	names[personCls], names[knifeCls] = "person", "knife"
	e, err := alerts.NewEngine(alerts.EngineConfig{
		Store: itStore, PersonClass: personCls, ClassNames: names, Log: log,
		Rules: []alerts.Rule{{Name: "knife", Kind: alerts.KindWeapon, Classes: []int{knifeCls},
			MinScore: 0.5, Near: 0.1, Frames: 1, Window: 1}},
	}, m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager Run: %v", err)
		}
	})
	return m, e, pub
}

// knifeResult is frame i of camera: a person holding a knife.
func knifeResult(camera string, i int) *pipeline.Result {
	holder := geom.Box{X1: 100, Y1: 100, X2: 200, Y2: 400}
	return &pipeline.Result{
		Camera: camera, Frame: int64(i), StreamTime: time.Duration(i) * 100 * time.Millisecond,
		Time: alertTime.Add(time.Duration(i) * 100 * time.Millisecond), Width: 768, Height: 576,
		Occupancy: map[string]int{},
		Tracks: []tracker.Track{{ID: 2, Box: holder, Score: 0.9, Class: personCls, State: tracker.Confirmed,
			Hits: 10, Age: 10}},
		Detections: []detectors.Detection{{Box: geom.Box{X1: 205, Y1: 240, X2: 225, Y2: 260}, Score: 0.8,
			Class: knifeCls}},
	}
}

// postReply posts a reply to the webhook over HTTP, signed as Twilio signs
// it for the public URL, and returns the TwiML answer.
func postReply(t *testing.T, srvURL string, form url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srvURL+"/sms/inbound", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sign(testToken, hookURL, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %s %s", resp.Status, b)
	}
	return string(b)
}

// The whole path with the real parts: the engine confirms a knife, the
// manager raises the alert, the notifier texts the store manager at the
// test Twilio server, the manager's signed "ACK <ref>" reaches the webhook,
// the manager publishes the acknowledged step, and the region is never
// texted.
func TestManagerAlertTextedAckedByReplyNoEscalation(t *testing.T) {
	f := newFakeTwilio(t)
	log, _ := testLog(t)
	clk := &fakeClock{t: alertTime}
	cfg := baseConfig(t, f, log)
	cfg.Now = clk.Now
	cfg.WebhookURL = hookURL
	cfg.Chain = []Tier{
		{Name: "store", Numbers: []string{numStore}},
		{Name: "region", Numbers: []string{numRegion}, After: 5 * time.Minute},
	}
	var mgr *alerts.Manager
	cfg.Ack = func(ctx context.Context, id, by string, falseAlarm bool) error {
		return mgr.Acknowledge(ctx, id, by, falseAlarm)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mgr, eng, pub := startManager(t, n)
	r := run(t, n)
	hook := httptest.NewServer(n.Handler())
	defer hook.Close()

	eng.Result(knifeResult("till", 0))
	eventually(t, "store manager texted", func() bool { return len(f.messagesTo(numStore)) == 1 })
	text := f.messagesTo(numStore)[0]
	m := refRe.FindStringSubmatch(text)
	if m == nil || !strings.Contains(text, "Knife") {
		t.Fatalf("text %q: no weapon or no ref", text)
	}
	raised := pub.steps(t)
	if len(raised) != 1 || raised[0].State != alerts.StateRaised || raised[0].Level != alerts.LevelLife {
		t.Fatalf("published %+v, want the raise", raised)
	}

	answer := postReply(t, hook.URL, inbound(numStore, "ACK "+m[1], "SM00000000000000000000000000000301"))
	if !strings.Contains(answer, "Alert "+m[1]+" acknowledged") {
		t.Errorf("answer %s", answer)
	}
	steps := pub.steps(t)
	if len(steps) != 2 || steps[1].State != alerts.StateAcknowledged || steps[1].By != "+*******0001" ||
		steps[1].ID != raised[0].ID || steps[1].Seq != 2 {
		t.Fatalf("published %+v, want the raise and the acknowledgement by +*******0001", steps)
	}
	if len(mgr.Active()) != 0 {
		t.Errorf("active after the acknowledgement: %+v", mgr.Active())
	}

	// The region's delay passes: nobody else is texted.
	eventually(t, "notifier closed the alert", func() bool { return r.record(t, raised[0].ID).Closed })
	clk.Add(10 * time.Minute)
	r.inspect(t, func() {})
	eventually(t, "settled", func() bool { return r.settled(t) })
	if got := f.messagesTo(numRegion); len(got) != 0 {
		t.Errorf("region texted after the acknowledgement: %q", got)
	}
	if got := len(f.postsMade()); got != 1 {
		t.Errorf("%d texts sent, want 1", got)
	}
	if s := r.Stats(); s.Acks != 1 || s.Sent != 1 {
		t.Errorf("stats %+v", s)
	}
}
