package config

import (
	"errors"
	"strings"
	"testing"
)

// valid is a minimal good config; cases append to it, so its lines are
// 1 store, 2 id, 3 cameras, 4 camera id, 5 source, and appended text
// starts at line 6.
const valid = `store:
  id: shop-001
cameras:
  - id: entrance
    source: video.avi
`

func TestParseErrorsCiteFileLineAndKey(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // every error, in order
	}{
		{"yaml syntax", "store:\n  id: a: b\n",
			[]string{"f.yml:2: invalid YAML: mapping values are not allowed in this context"}},
		{"yaml control character", "store:\n  id: a\x01\n",
			[]string{"f.yml:2: invalid YAML: control characters are not allowed"}},
		{"yaml unknown alias", valid + "model:\n  name: *nope\n",
			[]string{"f.yml:7: invalid YAML: unknown anchor 'nope' referenced"}},
		{"unknown key", valid + "    sorce: b.avi\n",
			[]string{`f.yml:6: cameras[0].sorce: unknown key (did you mean "source"?)`}},
		{"unknown top-level key", valid + "camera: {}\n",
			[]string{`f.yml:6: camera: unknown key (did you mean "cameras"?)`}},
		{"unknown key far from any", valid + "frobnicate: 1\n",
			[]string{`f.yml:6: frobnicate: unknown key`}},
		{"duplicate key", valid + "    source: other.avi\n",
			[]string{"f.yml:6: cameras[0].source: duplicate key (first at line 5)"}},
		{"wrong type number", valid + "    fps: fast\n",
			[]string{`f.yml:6: cameras[0].fps: expected a number, got "fast"`}},
		{"wrong type integer", valid + "model:\n  threads: 2.5\n",
			[]string{"f.yml:7: model.threads: expected an integer, got 2.5"}},
		{"wrong type bool", valid + "    loop: sometimes\n",
			[]string{`f.yml:6: cameras[0].loop: expected true or false, got "sometimes"`}},
		{"wrong type mapping", valid + "kafka: localhost:9092\n",
			[]string{`f.yml:6: kafka: expected a mapping, got "localhost:9092"`}},
		{"wrong type list", valid + "    lines: door\n",
			[]string{`f.yml:6: cameras[0].lines: expected a list, got "door"`}},
		{"wrong type list suppresses follow-up", "store: {id: s}\ncameras: 5\n",
			[]string{"f.yml:2: cameras: expected a list, got 5"}},
		{"root not a mapping", "- a\n- b\n",
			[]string{"f.yml:1: expected a mapping, got a list"}},
		{"two documents", valid + "---\nstore: {id: x}\n",
			[]string{"f.yml:6: only one YAML document is allowed"}},
		{"out of range", valid + "model:\n  score_threshold: 1.5\n  nms_threshold: -0.1\n",
			[]string{"f.yml:7: model.score_threshold: must be in [0, 1) (0 = the model's manifest value), got 1.5",
				"f.yml:8: model.nms_threshold: must be in [0, 1] (0 = the model's manifest value), got -0.1"}},
		{"duration without unit", valid + "    stall_timeout: 5\n",
			[]string{"f.yml:6: cameras[0].stall_timeout: expected a duration such as 5s or 250ms, got 5"}},
		{"duration garbage", valid + "    start_timeout: soon\n",
			[]string{`f.yml:6: cameras[0].start_timeout: expected a duration such as 5s or 250ms, got "soon"`}},
		{"live options out of range", valid + "    transport: quic\n    stall_timeout: 100ms\n    motion:\n      min_area: 1.5\n      still_refresh: 0s\n",
			[]string{`f.yml:6: cameras[0].transport: want tcp, udp or auto, got "quic"`,
				"f.yml:7: cameras[0].stall_timeout: must be at least 500ms, got 100ms",
				"f.yml:9: cameras[0].motion.min_area: must be in (0, 1), got 1.5",
				"f.yml:10: cameras[0].motion.still_refresh: must be > 0, got 0s"}},
		{"main source needs rtsp", valid + "    main_source: /tmp/x.mp4\n",
			[]string{`f.yml:6: cameras[0].main_source: must be an rtsp:// URL, got "/tmp/x.mp4"`,
				"f.yml:6: cameras[0].main_source: only for rtsp cameras (source is a file)"}},
		{"metrics address", valid + "metrics:\n  listen: nowhere\n",
			[]string{`f.yml:7: metrics.listen: want host:port, got "nowhere"`}},
		{"NaN is out of range", valid + "tracker:\n  match_threshold: .nan\n",
			[]string{"f.yml:7: tracker.match_threshold: must be in (0, 1], got NaN"}},
		{"tracker cross-field", valid + "tracker:\n  low_threshold: 0.7\n",
			[]string{"f.yml:7: tracker.low_threshold: must not exceed high_threshold (0.5), got 0.7"}},
		{"new track threshold below high", valid + "tracker:\n  new_track_threshold: 0.4\n",
			[]string{"f.yml:7: tracker.new_track_threshold: must be at least high_threshold (0.5), got 0.4"}},
		{"duplicate camera id", valid + "  - id: entrance\n    source: b.avi\n",
			[]string{`f.yml:6: cameras[1].id: duplicate camera id "entrance" (first used at line 4)`}},
		{"bad camera id", "store: {id: s}\ncameras:\n  - id: Entrance Door\n    source: a.avi\n",
			[]string{`f.yml:3: cameras[0].id: must match [a-z0-9._-]+, got "Entrance Door"`}},
		{"missing camera id cites the camera", "store: {id: s}\ncameras:\n  - source: a.avi\n",
			[]string{"f.yml:3: cameras[0].id: required"}},
		{"line with 3 points", valid + "    lines:\n      - name: door\n        points: [[0, 0], [1, 1], [2, 2]]\n",
			[]string{"f.yml:8: cameras[0].lines[0].points: need exactly 2 points, got 3"}},
		{"point with 3 values", valid + "    lines:\n      - name: door\n        points: [[0, 0, 0], [1, 1]]\n",
			[]string{"f.yml:8: cameras[0].lines[0].points[0]: a point is [x, y], got 3 values"}},
		{"point coordinate not a number", valid + "    lines:\n      - name: door\n        points: [[0, a], [1, 1]]\n",
			[]string{`f.yml:8: cameras[0].lines[0].points[0][1]: expected a number, got "a"`}},
		{"line points block style", valid + "    lines:\n      - name: door\n        points:\n          - [0, 0]\n          - [-5, 1]\n",
			[]string{"f.yml:10: cameras[0].lines[0].points[1]: coordinates must be finite and >= 0, got [-5, 1]"}},
		{"identical points", valid + "    lines:\n      - name: door\n        points: [[3, 4], [3, 4]]\n",
			[]string{"f.yml:8: cameras[0].lines[0].points: the 2 points must be distinct, got [3, 4] twice"}},
		{"line fields", valid + "    lines:\n      - name: door\n        points: [[0, 0], [9, 0]]\n        forward: in\n        backward: in\n        band: -1\n        confirm_frames: 0\n",
			[]string{`f.yml:10: cameras[0].lines[0].backward: must differ from forward ("in")`,
				"f.yml:11: cameras[0].lines[0].band: must be > 0 pixels, got -1",
				"f.yml:12: cameras[0].lines[0].confirm_frames: must be >= 1, got 0"}},
		{"duplicate line name", valid + "    lines:\n      - {name: door, points: [[0, 0], [9, 0]]}\n      - {name: door, points: [[0, 5], [9, 5]]}\n",
			[]string{`f.yml:8: cameras[0].lines[1].name: duplicate line name "door" in this camera (first used at line 7)`}},
		{"missing line points", valid + "    lines:\n      - name: door\n",
			[]string{"f.yml:7: cameras[0].lines[0].points: need exactly 2 points, got 0"}},
		{"zone too few points", valid + "    zones:\n      - name: q\n        polygon: [[0, 0], [1, 1]]\n",
			[]string{"f.yml:8: cameras[0].zones[0].polygon: need at least 3 points, got 2"}},
		{"zone zero area", valid + "    zones:\n      - name: q\n        polygon: [[0, 0], [1, 1], [2, 2]]\n",
			[]string{"f.yml:8: cameras[0].zones[0].polygon: polygon has zero area (all points on one line)"}},
		{"bad timezone", "store:\n  id: s\n  timezone: Mars/Olympus_Mons\ncameras: [{id: a, source: a.avi}]\n",
			[]string{`f.yml:3: store.timezone: unknown time zone "Mars/Olympus_Mons" (want an IANA name such as Europe/Berlin)`}},
		{"zero cameras", "store: {id: s}\ncameras: []\n",
			[]string{"f.yml:2: cameras: at least one camera is required (or analytics.enabled for an analytics-only process)"}},
		{"no cameras key", "store:\n  id: s\n",
			[]string{"f.yml:1: cameras: at least one camera is required (or analytics.enabled for an analytics-only process)"}},
		{"empty file", "",
			[]string{"f.yml: store.id: required", "f.yml: cameras: at least one camera is required (or analytics.enabled for an analytics-only process)"}},
		{"rtsp only options", "store: {id: s}\ncameras:\n  - id: a\n    source: rtsp://cam/1\n    loop: true\n    start_time: 2024-01-01T00:00:00Z\n",
			[]string{"f.yml:5: cameras[0].loop: only file sources can loop",
				"f.yml:6: cameras[0].start_time: only for file sources (live streams carry their own time)"}},
		{"bad start time", valid + "    start_time: yesterday\n",
			[]string{`f.yml:6: cameras[0].start_time: want an RFC3339 time such as 2024-05-01T09:00:00+02:00, got "yesterday"`}},
		{"unsupported scheme, password redacted", "store: {id: s}\ncameras:\n  - id: a\n    source: http://admin:hunter2@cam/1\n",
			[]string{`f.yml:4: cameras[0].source: "http://admin:xxxxx@cam/1" is not a file path, file:///absolute/path URL or rtsp://host/... URL`}},
		{"width without height", valid + "    width: 640\n",
			[]string{"f.yml:6: cameras[0].width: height must be set too (or both 0)"}},
		{"kafka", valid + "kafka:\n  brokers: [kafka1]\n  topics: {counts: \"bad topic\"}\n  queue_size: 0\n",
			[]string{`f.yml:7: kafka.brokers[0]: want host:port, got "kafka1"`,
				`f.yml:8: kafka.topics.counts: want a Kafka topic name ([a-zA-Z0-9._-], 1 to 249 characters), got "bad topic"`,
				"f.yml:9: kafka.queue_size: must be >= 1, got 0"}},
		{"log", valid + "log:\n  level: verbose\n  format: xml\n",
			[]string{`f.yml:7: log.level: want debug, info, warn or error, got "verbose"`,
				`f.yml:8: log.format: want text or json, got "xml"`}},
		{"everything collected in file order", "store:\n  id: BAD\n  extra: 1\nmodel:\n  threads: x\ncameras: []\n",
			[]string{`f.yml:2: store.id: must match [a-z0-9._-]+, got "BAD"`,
				"f.yml:3: store.extra: unknown key",
				`f.yml:5: model.threads: expected an integer, got "x"`,
				"f.yml:6: cameras: at least one camera is required (or analytics.enabled for an analytics-only process)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc), "f.yml")
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			if c != nil {
				t.Errorf("config returned along with an error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yml" {
				t.Errorf("error is not a *config.Error for f.yml: %#v", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("password leaked: %v", err)
			}
		})
	}
}

func TestErrorsUnwrapToIndividualProblems(t *testing.T) {
	_, err := Parse([]byte("store:\n  id: s\n  timezone: Nowhere\nmodel:\n  threads: 0\ncameras: []\n"), "conf/s.yml")
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("want a joined error, got %T", err)
	}
	var got []Error
	for _, e := range joined.Unwrap() {
		ce, ok := e.(*Error)
		if !ok {
			t.Fatalf("%T in joined error", e)
		}
		got = append(got, *ce)
	}
	want := []Error{
		{File: "conf/s.yml", Line: 3, Path: "store.timezone", Msg: `unknown time zone "Nowhere" (want an IANA name such as Europe/Berlin)`},
		{File: "conf/s.yml", Line: 5, Path: "model.threads", Msg: "must be >= 1, got 0"},
		{File: "conf/s.yml", Line: 6, Path: "cameras", Msg: "at least one camera is required (or analytics.enabled for an analytics-only process)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yml", Line: 3, Path: "x.y", Msg: "m"}, "a.yml:3: x.y: m"},
		{Error{File: "a.yml", Path: "x", Msg: "m"}, "a.yml: x: m"},
		{Error{Line: 3, Path: "x", Msg: "m"}, "line 3: x: m"},
		{Error{Path: "x", Msg: "m"}, "x: m"},
		{Error{File: "a.yml", Line: 1, Msg: "m"}, "a.yml:1: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestLoadCitesThePathGiven(t *testing.T) {
	path := t.TempDir() + "/storesight.yml"
	if err := writeFile(path, valid+"model:\n  nms_threshold: 2\n"); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":7: model.nms_threshold: must be in [0, 1] (0 = the model's manifest value), got 2"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
