package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// exported drops what Parse records for error messages so that configs can
// be compared by value.
func exported(c *Config) Config {
	out := *c
	out.file, out.keyLines = "", nil
	return out
}

func TestParseAppliesDefaults(t *testing.T) {
	const doc = `store:
  id: shop-001
cameras:
  - id: entrance
    source: video.avi
    lines:
      - name: door
        points: [[100, 300], [600, 300]]
    zones:
      - name: queue
        polygon: [[0, 0], [100, 0], [100, 100]]
`
	got, err := Parse([]byte(doc), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Store.ID = "shop-001"
	cam := DefaultCamera()
	cam.ID, cam.Source = "entrance", "video.avi"
	line := DefaultLine()
	line.Name, line.Points = "door", []Point{{100, 300}, {600, 300}}
	cam.Lines = []Line{line}
	cam.Zones = []Zone{{Name: "queue", Polygon: []Point{{0, 0}, {100, 0}, {100, 100}}}}
	want.Cameras = []Camera{cam}
	if !reflect.DeepEqual(exported(got), exported(want)) {
		t.Fatalf("got\n%+v\nwant\n%+v", exported(got), exported(want))
	}
	// Spot-check the defaults themselves so a wrong Default() cannot pass.
	if got.Model.Name != "yolox_nano_416_coco" || got.Model.ScoreThreshold != 0 || got.Model.NMSThreshold != 0 ||
		!reflect.DeepEqual(got.Model.Classes, []string{"person"}) || got.Model.Threads != 2 {
		t.Errorf("model defaults: %+v", got.Model)
	}
	if got.Store.Timezone != "UTC" || got.Tracker.LostBuffer != 30 || got.Tracker.MinHits != 3 {
		t.Errorf("store/tracker defaults: %+v %+v", got.Store, got.Tracker)
	}
	c := got.Cameras[0]
	if c.Queue != 4 || c.FPS != 0 || c.Loop || c.Lines[0].Forward != "in" || c.Lines[0].Backward != "out" ||
		c.Lines[0].Band != 8 || c.Lines[0].ConfirmFrames != 2 {
		t.Errorf("camera/line defaults: %+v", c)
	}
	k := got.Kafka
	if len(k.Brokers) != 0 || k.EmbeddedAddr != "127.0.0.1:9092" || k.ClientID != "storesight" ||
		k.Topics.Crossings != "storesight.crossings" || k.Topics.Counts != "storesight.counts" ||
		k.QueueSize != 1024 || k.SpillDir != ".storesight/spill" {
		t.Errorf("kafka defaults: %+v", k)
	}
	if !got.Outputs.Stdout || got.Log.Level != "info" || got.Log.Format != "text" {
		t.Errorf("outputs/log defaults: %+v %+v", got.Outputs, got.Log)
	}
}

func TestParseOverridesOnlyGivenKeys(t *testing.T) {
	const doc = `store: {id: s1, timezone: Europe/Berlin}
model:
  score_threshold: 0.5
  classes: [person, bicycle]
  threads: ~
tracker:
  min_hits: 1
cameras:
  - id: a
    source: rtsp://user:pw@10.0.0.2/stream
    fps: 5
    queue: 2
  - id: b
    source: file:///videos/b.mp4
    loop: true
    start_time: 2024-05-01T09:00:00+02:00
    width: 640
    height: 480
    lines:
      - {name: l, points: [[0, 0], [10, 0]], forward: down, backward: up, band: 3, confirm_frames: 5}
kafka:
  brokers: [k1:9092, "k2:9093"]
outputs:
  stdout: false
  events_file: events.jsonl
log: {level: debug, format: json}
`
	c, err := Parse([]byte(doc), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.ScoreThreshold != 0.5 || c.Model.NMSThreshold != 0 || c.Model.Threads != 2 {
		t.Errorf("model: %+v (null must keep the default, unset keys too)", c.Model)
	}
	if !reflect.DeepEqual(c.Model.Classes, []string{"person", "bicycle"}) {
		t.Errorf("classes must be replaced, not appended to: %v", c.Model.Classes)
	}
	if c.Tracker.MinHits != 1 || c.Tracker.HighThreshold != 0.5 {
		t.Errorf("tracker: %+v", c.Tracker)
	}
	if a := c.Cameras[0]; a.FPS != 5 || a.Queue != 2 || a.SourceKind() != SourceRTSP {
		t.Errorf("camera a: %+v", a)
	}
	b := c.Cameras[1]
	if !b.Loop || b.Width != 640 || b.Height != 480 || b.Queue != 4 || b.FilePath() != "/videos/b.mp4" {
		t.Errorf("camera b: %+v", b)
	}
	if l := b.Lines[0]; l.Forward != "down" || l.Backward != "up" || l.Band != 3 || l.ConfirmFrames != 5 {
		t.Errorf("line: %+v (an explicit band must be kept)", l)
	}
	if !reflect.DeepEqual(c.Kafka.Brokers, []string{"k1:9092", "k2:9093"}) || c.Outputs.Stdout || c.Outputs.EventsFile != "events.jsonl" {
		t.Errorf("kafka/outputs: %+v %+v", c.Kafka, c.Outputs)
	}
	if c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("log: %+v", c.Log)
	}
}

func TestParseMergeKeys(t *testing.T) {
	const doc = `store: {id: s1}
x-camera: &cam
  source: shared.avi
  fps: 2
cameras:
  - <<: *cam
    id: a
  - <<: *cam
    id: b
    fps: 7
`
	// x-camera is not a key of the schema; drop it from the check by
	// expecting exactly that one error.
	_, err := Parse([]byte(doc), "f.yml")
	if err == nil || err.Error() != "f.yml:2: x-camera: unknown key" {
		t.Fatalf("got %v", err)
	}
	const doc2 = `store: {id: s1}
cameras:
  - &a
    id: a
    source: shared.avi
    fps: 2
  - <<: *a
    id: b
    fps: 7
`
	c, err := Parse([]byte(doc2), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Cameras[1]; b.ID != "b" || b.Source != "shared.avi" || b.FPS != 7 || b.Queue != 4 {
		t.Errorf("merged camera: %+v (explicit keys must win over <<)", b)
	}
}

// TestExampleLoadsAndDocumentsEveryOption keeps storesight.example.yml
// honest: it must load, set every key of the schema, and show the defaults.
func TestExampleLoadsAndDocumentsEveryOption(t *testing.T) {
	c, err := Load("../storesight.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	// Rules of different kinds use different keys, so the keys of a rule
	// may be documented in any of the example's rules.
	documented := map[string]bool{}
	for p := range c.keyLines {
		documented[ruleIndex.ReplaceAllString(p, "rules[0]")] = true
	}
	for _, path := range schemaKeys(reflect.TypeOf(Config{}), "") {
		if !documented[path] {
			t.Errorf("storesight.example.yml does not document %s", path)
		}
	}
	if len(c.Cameras) != 1 || len(c.Cameras[0].Lines) != 1 || len(c.Cameras[0].Zones) != 1 {
		t.Fatalf("example should show one camera with one line and one zone: %+v", c.Cameras)
	}

	// Apart from what the example must fill in, every value is the default.
	cam, line := c.Cameras[0], c.Cameras[0].Lines[0]
	got := exported(c)
	got.Store.ID, got.Cameras = "", []Camera{}
	// Examples of what has no default: opening hours, rules, people to text.
	got.Store.Hours, got.Store.Holidays, got.Model.Classes = Hours{}, nil, []string{"person"}
	got.Alerts.Rules, got.SMS.From, got.SMS.Escalation, got.SMS.QuietHours = []Rule{}, "", []Tier{}, nil
	got.POS.Registers, got.Analytics.Regions = []Register{}, []Region{}
	if want := exported(Default()); !reflect.DeepEqual(got, want) {
		t.Errorf("example values differ from Default():\n got %+v\nwant %+v", got, want)
	}
	cam.ID, cam.Source, cam.Lines, cam.Zones = "", "", nil, nil
	if want := DefaultCamera(); !reflect.DeepEqual(cam, want) {
		t.Errorf("example camera differs from DefaultCamera():\n got %+v\nwant %+v", cam, want)
	}
	line.Name, line.Points, line.Entrance = "", nil, ""
	if want := DefaultLine(); !reflect.DeepEqual(line, want) {
		t.Errorf("example line differs from DefaultLine():\n got %+v\nwant %+v", line, want)
	}
}

var ruleIndex = regexp.MustCompile(`rules\[[0-9]+\]`)

// schemaKeys lists every key path of the schema, descending into the first
// element of lists of structs.
func schemaKeys(t reflect.Type, prefix string) []string {
	var keys []string
	fields, names := fieldsOf(t)
	for _, name := range names {
		p := joinKey(prefix, name)
		keys = append(keys, p)
		ft := t.Field(fields[name]).Type
		switch {
		case ft.Kind() == reflect.Struct:
			keys = append(keys, schemaKeys(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, schemaKeys(ft.Elem(), joinIndex(p, 0))...)
		}
	}
	return keys
}

func TestSchemaKeysCoversNestedLists(t *testing.T) {
	keys := strings.Join(schemaKeys(reflect.TypeOf(Config{}), ""), " ")
	for _, k := range []string{"store.timezone", "cameras[0].lines[0].confirm_frames", "cameras[0].zones[0].polygon", "kafka.topics.counts"} {
		if !strings.Contains(" "+keys+" ", " "+k+" ") {
			t.Errorf("schemaKeys misses %s", k)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("does-not-exist.yml")
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.yml") {
		t.Fatalf("got %v", err)
	}
}

func TestValidateConfigBuiltInCode(t *testing.T) {
	c := Default()
	err := c.Validate()
	if err == nil {
		t.Fatal("defaults alone have no store id and no camera")
	}
	if want := "store.id: required\ncameras: at least one camera is required (or analytics.enabled for an analytics-only process)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	c.Store.ID = "s"
	cam := DefaultCamera()
	cam.ID, cam.Source = "c", "/v.avi"
	c.Cameras = append(c.Cameras, cam)
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	c.Cameras[0].Queue = 0
	if err := c.Validate(); err == nil || err.Error() != "cameras[0].queue: must be >= 1, got 0" {
		t.Errorf("got %v", err)
	}
}
