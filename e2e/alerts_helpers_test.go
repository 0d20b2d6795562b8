package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/events"
)

// vtestPath is the pedestrian clip Debian's opencv-doc ships: 768x576,
// 10 fps, 795 frames.
const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// publicURL is where the tests claim managers' phones reach the box; a
// documentation address (RFC 5737), never contacted.
const publicURL = "http://192.0.2.10:9108"

// alertRun is what one run of the product with alert rules left behind.
type alertRun struct {
	sum     *app.Summary
	stories map[string]*alertStory // by alert id
	posts   []twilioPost
	gets    int
	log     string
	snaps   string // alerts.snapshots.dir
	smsDir  string // sms.state_dir
	start   time.Time
}

// runAlerts loads the YAML config (with {{TMP}} and {{MODELS}} filled in),
// runs it to the end of its file through the whole product - decoder, the
// real ONNX model, tracker, dwell, alert engine and manager, the embedded
// Kafka broker over TCP, snapshots, and SMS through twilio-go to tw - and
// reads back every alert step from Kafka with kafka-go.
func runAlerts(t *testing.T, yml string, tw *twilioServer) *alertRun {
	t.Helper()
	dir := t.TempDir()
	yml = strings.ReplaceAll(yml, "{{TMP}}", dir)
	yml = strings.ReplaceAll(yml, "{{MODELS}}", filepath.Join(repoRoot, ".deps", "models"))
	path := filepath.Join(dir, "storesight.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{cfg.Alerts.Snapshots.Dir, cfg.SMS.StateDir, cfg.Kafka.SpillDir} {
		if !strings.HasPrefix(d, dir+string(filepath.Separator)) {
			t.Fatalf("state directory %s is not under the test's temporary directory %s", d, dir)
		}
	}
	start, ok := cfg.Cameras[0].FirstFrameTime()
	if !ok {
		t.Fatal("the camera needs a fixed start_time")
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, app.Options{
		Log: log, KeepBroker: true, FlushTimeout: 30 * time.Second, TwilioClient: tw.client(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	sum, err := a.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Kafka == nil || sum.Kafka.Failed != 0 || sum.Kafka.Dropped != 0 || sum.EventsFailed != 0 {
		t.Fatalf("kafka: %+v, %d events failed", sum.Kafka, sum.EventsFailed)
	}
	r := &alertRun{
		sum: sum, log: logs.String(), start: start,
		snaps: cfg.Alerts.Snapshots.Dir, smsDir: cfg.SMS.StateDir,
		stories: readAlertStories(t, a.KafkaBrokers(), cfg),
	}
	// What the app counted on the way to Kafka is what Kafka holds.
	steps := map[string]int64{}
	for _, st := range r.stories {
		for _, a := range st.Steps {
			steps[string(a.State)]++
		}
	}
	if sum.Alerts == nil {
		t.Fatal("no alert stats in the run's summary")
	}
	if !maps.Equal(sum.Alerts.Steps, steps) {
		t.Errorf("summary alert steps %v, on the alerts topic %v", sum.Alerts.Steps, steps)
	}
	var problems []string
	r.posts, r.gets, problems = tw.received()
	for _, p := range problems {
		t.Errorf("twilio protocol: %s", p)
	}
	return r
}

// alertStory is every step of one alert, in seq order.
type alertStory struct {
	Steps []alerts.Alert
}

func (s *alertStory) raised() alerts.Alert   { return s.Steps[0] }
func (s *alertStory) resolved() alerts.Alert { return s.Steps[len(s.Steps)-1] }

// readAlertStories consumes the alerts topic and checks every message on
// the way: schema-valid, an alert event keyed store/camera, a unique event
// id that is the documented function of (alert id, state, seq), the
// envelope time the step's time. It groups the steps by alert and checks
// each alert's life: raised (seq 1), updated steps, resolved last, seq
// without gaps, and the fields that name the alert unchanged throughout.
func readAlertStories(t *testing.T, brokers []string, cfg *config.Config) map[string]*alertStory {
	t.Helper()
	ids := map[string]bool{}
	stories := map[string]*alertStory{}
	for _, m := range consume(t, brokers, cfg.Kafka.Topics.Alerts) {
		if err := events.CheckSchemas(m.Value); err != nil {
			t.Fatalf("alert event at offset %d: %v\n%s", m.Offset, err, m.Value)
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatalf("message at offset %d: %v", m.Offset, err)
		}
		var a alerts.Alert
		if err := json.Unmarshal(e.Data, &a); err != nil {
			t.Fatal(err)
		}
		if e.Type != events.TypeAlert || e.Store.ID != cfg.Store.ID || e.Camera != a.Camera ||
			string(m.Key) != cfg.Store.ID+"/"+a.Camera {
			t.Fatalf("offset %d: type %q store %+v camera %q key %q for alert on camera %q", m.Offset, e.Type, e.Store, e.Camera, m.Key, a.Camera)
		}
		if ids[e.ID] {
			t.Fatalf("duplicate event id %s (alert %s %s #%d)", e.ID, a.ID, a.State, a.Seq)
		}
		ids[e.ID] = true
		if want := events.ID(a.ID, string(a.State), strconv.Itoa(a.Seq)); e.ID != want {
			t.Errorf("event id %s, want events.ID(alert, state, seq) = %s", e.ID, want)
		}
		if !e.Time.Equal(a.Time) {
			t.Errorf("alert %s #%d: envelope time %v, step time %v", a.ID, a.Seq, e.Time, a.Time)
		}
		s := stories[a.ID]
		if s == nil {
			s = &alertStory{}
			stories[a.ID] = s
		}
		s.Steps = append(s.Steps, a)
	}
	for id, s := range stories {
		sort.Slice(s.Steps, func(i, j int) bool { return s.Steps[i].Seq < s.Steps[j].Seq })
		first, last := s.raised(), s.resolved()
		for i, a := range s.Steps {
			want := alerts.StateUpdated
			switch i {
			case 0:
				want = alerts.StateRaised
			case len(s.Steps) - 1:
				want = alerts.StateResolved
			}
			if a.Seq != i+1 || a.State != want {
				t.Errorf("alert %s (%s): step %d is %s #%d, want %s #%d", id, first.Rule, i, a.State, a.Seq, want, i+1)
			}
			if a.Rule != first.Rule || a.Kind != first.Kind || a.Zone != first.Zone || a.Camera != first.Camera ||
				a.Level != first.Level || !a.Started.Equal(first.Started) {
				t.Errorf("alert %s: step %d (%+v) changed what names the alert (%+v)", id, a.Seq, a, first)
			}
			if a.Time.Before(first.Started) || (i > 0 && a.Time.Before(s.Steps[i-1].Time)) {
				t.Errorf("alert %s: step %d at %v, before the previous step or the start", id, a.Seq, a.Time)
			}
		}
		if len(s.Steps) < 2 {
			t.Errorf("alert %s (%s): %d step(s), want at least raised and resolved", id, first.Rule, len(s.Steps))
		}
		if last.Ended.IsZero() || last.Ended.Before(first.Started) || last.Ended.After(last.Time) {
			t.Errorf("alert %s (%s): resolved with ended %v, started %v, time %v", id, first.Rule, last.Ended, first.Started, last.Time)
		}
	}
	return stories
}

// byRule returns the alerts of one rule, oldest start first.
func (r *alertRun) byRule(rule string) []*alertStory {
	var out []*alertStory
	for _, s := range r.stories {
		if s.raised().Rule == rule {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].raised().Started.Before(out[j].raised().Started) })
	return out
}

// frame is the decode index shown at event time ts (10 fps files).
func (r *alertRun) frame(ts time.Time) int64 {
	return int64(math.Round(ts.Sub(r.start).Seconds() * 10))
}

// checkSnapshot checks the raised step's snapshot: the link is
// public_url/snapshots/<alert id>.jpg, and the file behind it is in
// alerts.snapshots.dir and decodes as a JPEG of the analysed frame's size.
func (r *alertRun) checkSnapshot(t *testing.T, a alerts.Alert, w, h int) {
	t.Helper()
	if want := publicURL + "/snapshots/" + a.ID + ".jpg"; a.Snapshot != want {
		t.Errorf("alert %s: snapshot link %q, want %q", a.ID, a.Snapshot, want)
		return
	}
	path := filepath.Join(r.snaps, a.ID+".jpg")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("alert %s: %v", a.ID, err)
		return
	}
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) {
		t.Errorf("%s is not a JPEG (starts % x)", path, b[:min(len(b), 4)])
	}
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() || img.Cols() != w || img.Rows() != h {
		t.Errorf("%s decodes as %dx%d (empty %v), want %dx%d", path, img.Cols(), img.Rows(), img.Empty(), w, h)
	}
}

// smsAbout returns the texts whose body links the alert's snapshot.
func (r *alertRun) smsAbout(a alerts.Alert) []twilioPost {
	var out []twilioPost
	for _, p := range r.posts {
		if strings.Contains(p.Form.Get("Body"), a.Snapshot) {
			out = append(out, p)
		}
	}
	return out
}

var ackRef = regexp.MustCompile(`Reply ACK ([0-9]{4,}) or FALSE ([0-9]{4,})$`)

// checkTexts checks the texts of one alert: exactly one create request per
// tier-0 number, each with exactly the form fields To, From and Body, From
// the configured sender, the body linking the snapshot and asking for "ACK
// <ref>" with one ref for the alert; it returns the ref.
func (r *alertRun) checkTexts(t *testing.T, a alerts.Alert, numbers ...string) string {
	t.Helper()
	posts := r.smsAbout(a)
	var to []string
	ref := ""
	for _, p := range posts {
		var keys []string
		for k := range p.Form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, []string{"Body", "From", "To"}) {
			t.Errorf("alert %s: text form fields %v, want exactly [Body From To]", a.ID, keys)
		}
		for _, k := range keys {
			if len(p.Form[k]) != 1 {
				t.Errorf("alert %s: form field %s given %d times", a.ID, k, len(p.Form[k]))
			}
		}
		if p.Form.Get("From") != fakeFrom {
			t.Errorf("alert %s: From %q, want %q", a.ID, p.Form.Get("From"), fakeFrom)
		}
		body := p.Form.Get("Body")
		m := ackRef.FindStringSubmatch(body)
		switch {
		case m == nil || m[1] != m[2]:
			t.Errorf("alert %s: body %q does not end in \"Reply ACK <ref> or FALSE <ref>\"", a.ID, body)
		case ref == "":
			ref = m[1]
		case m[1] != ref:
			t.Errorf("alert %s: refs %s and %s in its texts, want one", a.ID, ref, m[1])
		}
		if !strings.Contains(body, " "+a.Snapshot+" ") {
			t.Errorf("alert %s: body %q lacks the snapshot link %s", a.ID, body, a.Snapshot)
		}
		if _, err := url.Parse(a.Snapshot); err != nil {
			t.Errorf("alert %s: snapshot link: %v", a.ID, err)
		}
		to = append(to, p.Form.Get("To"))
	}
	if len(posts) > 0 {
		t.Logf("%s: %d texts, e.g. %q", a.Rule, len(posts), posts[0].Form.Get("Body"))
	}
	sort.Strings(to)
	want := slices.Clone(numbers)
	sort.Strings(want)
	if !slices.Equal(to, want) {
		t.Errorf("alert %s (%s): texted %v, want one text to each of %v", a.ID, a.Rule, to, want)
	}
	return ref
}

// checkSecrets fails if the run's log shows the auth token or an unmasked
// phone number of the chain.
func (r *alertRun) checkSecrets(t *testing.T) {
	t.Helper()
	if strings.Contains(r.log, fakeToken) {
		t.Error("the Twilio auth token appears in the log")
	}
	for _, n := range []string{fakeMgr1, fakeMgr2, fakeHQ, strings.TrimPrefix(fakeMgr1, "+"), strings.TrimPrefix(fakeMgr2, "+")} {
		if strings.Contains(r.log, n) {
			t.Errorf("phone number %s appears unmasked in the log", n)
		}
	}
}

// checkJournal checks that the SMS outbox journal was kept in the
// configured (temporary) state directory.
func (r *alertRun) checkJournal(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(r.smsDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "outbox.jsonl") {
		t.Errorf("sms.state_dir %s holds %v, want the outbox journal outbox.jsonl", r.smsDir, names)
	}
}

// syncBuffer is a bytes.Buffer the app's goroutines may log to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
