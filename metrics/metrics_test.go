package metrics

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func TestCameraCountersReadAtScrapeTime(t *testing.T) {
	m := New("shop-7")
	var door pipeline.Stats
	live := &liveBox{}
	m.AddCamera("door", door.Snapshot, live.stats)

	// A file camera: its source is a real FileSource, which is not live.
	src, err := video.OpenFile(video.Spec{Camera: "aisle", URL: vtest})
	if err != nil {
		t.Fatalf("open %s (opencv-doc installed?): %v", vtest, err)
	}
	defer src.Close()
	var aisle pipeline.Stats
	m.AddCamera("aisle", aisle.Snapshot, LiveStatsOf(src))
	base := serve(t, m.Handler())

	door.Decoded.Add(120)
	door.Sampled.Add(30)
	door.Gated.Add(40)
	door.Dropped.Add(5)
	door.Analysed.Add(44)
	door.Errors.Add(1)
	lastFrame := time.Unix(1700000000, 500_000_000)
	live.set(func(s *video.LiveStats) {
		*s = video.LiveStats{Packets: 900, AccessUnits: 130, Decoded: 125, DecodeErrors: 2, Dropped: 5,
			Connects: 2, Reconnects: 3, Online: true, LastFrame: lastFrame}
	})
	aisle.Decoded.Add(795)
	aisle.Analysed.Add(795)

	mfs := scrape(t, base)
	d := map[string]string{"camera": "door", "store": "shop-7"}
	for name, want := range map[string]float64{
		"storesight_camera_rtp_packets_total":            900,
		"storesight_camera_access_units_total":           130,
		"storesight_camera_frames_decoded_total":         125,
		"storesight_camera_frames_received_total":        120,
		"storesight_camera_frames_sampled_total":         30,
		"storesight_camera_frames_gated_total":           40,
		"storesight_camera_frames_analysed_total":        44,
		"storesight_camera_decode_errors_total":          2,
		"storesight_camera_detect_errors_total":          1,
		"storesight_camera_connects_total":               2,
		"storesight_camera_reconnects_total":             3,
		"storesight_camera_online":                       1,
		"storesight_camera_last_frame_timestamp_seconds": 1700000000.5,
	} {
		if got := value(t, mfs, name, d); got != want {
			t.Errorf("%s{camera=door} = %v, want %v", name, got, want)
		}
	}
	if got := value(t, mfs, "storesight_camera_frames_dropped_total", map[string]string{"camera": "door", "stage": "source"}); got != 5 {
		t.Errorf("dropped at source = %v, want 5", got)
	}
	if got := value(t, mfs, "storesight_camera_frames_dropped_total", map[string]string{"camera": "door", "stage": "queue"}); got != 5 {
		t.Errorf("dropped in queue = %v, want 5", got)
	}
	if mf := mfs["storesight_camera_frames_analysed_total"]; mf.GetType() != dto.MetricType_COUNTER || !strings.Contains(mf.GetHelp(), "detection") {
		t.Errorf("frames_analysed_total: type %v help %q", mf.GetType(), mf.GetHelp())
	}

	// The file camera has pipeline counters but no live-only series.
	a := map[string]string{"camera": "aisle", "store": "shop-7"}
	if got := value(t, mfs, "storesight_camera_frames_decoded_total", a); got != 795 {
		t.Errorf("aisle frames decoded = %v, want 795", got)
	}
	for _, name := range []string{"storesight_camera_online", "storesight_camera_rtp_packets_total", "storesight_camera_connects_total"} {
		if _, ok := find(mfs, name, a); ok {
			t.Errorf("file camera has live-only series %s", name)
		}
	}
	if _, ok := find(mfs, "storesight_camera_frames_dropped_total", map[string]string{"camera": "aisle", "stage": "source"}); ok {
		t.Error("file camera has a source drop series")
	}

	// The next scrape sees the counters as they are now.
	door.Analysed.Add(10)
	live.set(func(s *video.LiveStats) { s.Online = false; s.Reconnects++ })
	mfs = scrape(t, base)
	if got := value(t, mfs, "storesight_camera_frames_analysed_total", d); got != 54 {
		t.Errorf("after 10 more frames, analysed = %v, want 54", got)
	}
	if got := value(t, mfs, "storesight_camera_online", d); got != 0 {
		t.Errorf("offline camera: online = %v, want 0", got)
	}
	if got := value(t, mfs, "storesight_camera_reconnects_total", d); got != 4 {
		t.Errorf("reconnects = %v, want 4", got)
	}
}

func TestEverySeriesHasStoreLabel(t *testing.T) {
	m := New("shop-7")
	var st pipeline.Stats
	m.AddCamera("door", st.Snapshot, (&liveBox{}).stats)
	mfs := scrape(t, serve(t, m.Handler()))
	for _, want := range []string{"go_goroutines", "process_cpu_seconds_total", "storesight_camera_online", "storesight_detect_seconds"} {
		if _, ok := mfs[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	for name, mf := range mfs {
		for _, s := range mf.GetMetric() {
			if !hasLabels(s, map[string]string{"store": "shop-7"}) {
				t.Errorf("%s has no store label: %v", name, s.GetLabel())
			}
		}
	}
}

func TestAddCameraReplaces(t *testing.T) {
	m := New("s")
	var old, restarted pipeline.Stats
	old.Analysed.Add(100)
	restarted.Analysed.Add(3)
	m.AddCamera("door", old.Snapshot, nil)
	m.AddCamera("door", restarted.Snapshot, nil)
	mfs := scrape(t, serve(t, m.Handler()))
	if n := len(mfs["storesight_camera_frames_analysed_total"].GetMetric()); n != 1 {
		t.Fatalf("%d series for one camera id, want 1", n)
	}
	if got := value(t, mfs, "storesight_camera_frames_analysed_total", map[string]string{"camera": "door"}); got != 3 {
		t.Errorf("analysed = %v, want the restarted camera's 3", got)
	}
}

func histogram(t *testing.T, mfs map[string]*dto.MetricFamily, name, camera string) *dto.Histogram {
	t.Helper()
	m, ok := find(mfs, name, map[string]string{"camera": camera})
	if !ok {
		t.Fatalf("no %s{camera=%q}", name, camera)
	}
	return m.GetHistogram()
}

// bucket is the cumulative count of observations <= le.
func bucket(t *testing.T, h *dto.Histogram, le float64) uint64 {
	t.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	t.Fatalf("no bucket le=%v", le)
	return 0
}

func TestOutputObservesResults(t *testing.T) {
	m := New("s")
	var st pipeline.Stats
	m.AddCamera("door", st.Snapshot, nil)
	base := serve(t, m.Handler())

	// Registered cameras show empty histograms before their first frame.
	mfs := scrape(t, base)
	if h := histogram(t, mfs, "storesight_detect_seconds", "door"); h.GetSampleCount() != 0 {
		t.Fatalf("detect count before any frame = %d", h.GetSampleCount())
	}
	if _, ok := mfs["storesight_crossings_total"]; ok {
		t.Error("crossings series before any crossing")
	}

	out := m.Output()
	out.Result(&pipeline.Result{Camera: "door", Frame: 7, Detect: 40 * time.Millisecond, Latency: 120 * time.Millisecond,
		Crossings: []counting.Crossing{{Line: "entrance", Direction: "in"}, {Line: "entrance", Direction: "out"}, {Line: "entrance", Direction: "in"}}})
	out.Result(&pipeline.Result{Camera: "door", Frame: 8, Detect: 4 * time.Millisecond, Latency: 2500 * time.Millisecond})
	// The final result flushes pending crossings but measured no frame.
	out.Result(&pipeline.Result{Camera: "door", Final: true, Crossings: []counting.Crossing{{Line: "entrance", Direction: "out"}}})

	mfs = scrape(t, base)
	det := histogram(t, mfs, "storesight_detect_seconds", "door")
	if det.GetSampleCount() != 2 || math.Abs(det.GetSampleSum()-0.044) > 1e-9 {
		t.Errorf("detect count %d sum %v, want 2 and 0.044", det.GetSampleCount(), det.GetSampleSum())
	}
	if b := bucket(t, det, 0.005); b != 1 {
		t.Errorf("detect le=0.005: %d, want 1", b)
	}
	if b := bucket(t, det, 0.03); b != 1 {
		t.Errorf("detect le=0.03: %d, want 1", b)
	}
	if b := bucket(t, det, 0.05); b != 2 {
		t.Errorf("detect le=0.05: %d, want 2", b)
	}
	lat := histogram(t, mfs, "storesight_frame_latency_seconds", "door")
	if lat.GetSampleCount() != 2 || bucket(t, lat, 0.15) != 1 || bucket(t, lat, 5) != 2 || bucket(t, lat, 2) != 1 {
		t.Errorf("latency histogram %v", lat)
	}
	for dir, want := range map[string]float64{"in": 2, "out": 2} {
		got := value(t, mfs, "storesight_crossings_total", map[string]string{"camera": "door", "line": "entrance", "direction": dir, "store": "s"})
		if got != want {
			t.Errorf("crossings %s = %v, want %v", dir, got, want)
		}
	}
}

// TestKafkaSinkCounters reads a real KafkaSink publishing to the embedded
// broker over TCP.
func TestKafkaSinkCounters(t *testing.T) {
	m := New("s1")
	base := serve(t, m.Handler())
	for name := range scrape(t, base) {
		if strings.HasPrefix(name, "storesight_kafka_") {
			t.Errorf("%s exported before a sink was added", name)
		}
	}

	b, err := events.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sink, err := events.NewKafkaSink(events.Config{Brokers: b.Addrs(), SpillDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m.AddKafka(sink.Stats)
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	for i := range 3 {
		c := counting.Crossing{Line: "door", Direction: "in", TrackID: uint64(i), Frame: int64(i), Time: at}
		e, err := events.NewEnvelope(events.ID("crossing", "s1", "cam", string(rune('a'+i))), events.TypeCrossing,
			events.Store{ID: "s1"}, "cam", at, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}

	mfs := scrape(t, base)
	want := map[string]float64{
		"storesight_kafka_events_published_total": 3,
		"storesight_kafka_events_spilled_total":   0,
		"storesight_kafka_events_dropped_total":   0,
		"storesight_kafka_events_failed_total":    0,
		"storesight_kafka_events_queued":          0,
		"storesight_kafka_spill_bytes":            0,
	}
	for name, w := range want {
		if got := value(t, mfs, name, map[string]string{"store": "s1"}); got != w {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	if st := sink.Stats(); float64(st.WriteErrors) != value(t, mfs, "storesight_kafka_write_errors_total", nil) {
		t.Errorf("write errors differ from the sink's %d", st.WriteErrors)
	}
}

func TestCollectorsLintClean(t *testing.T) {
	m := New("s")
	var st pipeline.Stats
	live := &liveBox{}
	live.set(func(s *video.LiveStats) { s.Online = true; s.LastFrame = time.Now() })
	m.AddCamera("door", st.Snapshot, live.stats)
	m.AddCamera("aisle", st.Snapshot, notLive)
	m.AddKafka(func() events.Stats { return events.Stats{Published: 1} })
	m.Output().Result(&pipeline.Result{Camera: "door", Detect: time.Millisecond, Latency: time.Millisecond,
		Crossings: []counting.Crossing{{Line: "l", Direction: "in"}}})

	probs, err := testutil.CollectAndLint(m.cameras)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("camera collector: %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(m.cameras); n != 15+7 {
		t.Errorf("camera collector produced %d series, want 15 for the live camera and 7 for the file camera", n)
	}
	probs, err = testutil.CollectAndLint(m.kafka)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("kafka collector: %s: %s", p.Metric, p.Text)
	}
	probs, err = testutil.GatherAndLint(m.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("registry: %s: %s", p.Metric, p.Text)
	}
}

// TestConcurrentScrapes scrapes while cameras are added and results
// observed, for the race detector.
func TestConcurrentScrapes(t *testing.T) {
	m := New("s")
	base := serve(t, m.Handler())
	var st pipeline.Stats
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		out := m.Output()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := []string{"a", "b", "c"}[i%3]
			m.AddCamera(id, st.Snapshot, notLive)
			st.Analysed.Add(1)
			out.Result(&pipeline.Result{Camera: id, Detect: time.Millisecond, Latency: 2 * time.Millisecond,
				Crossings: []counting.Crossing{{Line: "l", Direction: "in"}}})
			m.AddReadiness("r", func() error { return nil })
		}
	}()
	for range 20 {
		scrape(t, base)
		get(t, base+"/readyz")
	}
	close(stop)
	wg.Wait()
	mfs := scrape(t, base)
	if got := value(t, mfs, "storesight_camera_frames_analysed_total", map[string]string{"camera": "a"}); got != float64(st.Analysed.Load()) {
		t.Errorf("analysed = %v, want %d", got, st.Analysed.Load())
	}
}

func TestAddDetectorExportsPoolStats(t *testing.T) {
	m := New("s1")
	m.AddDetector(func() pipeline.PoolStats {
		return pipeline.PoolStats{Runs: 7, Frames: 12, Busy: 1500 * time.Millisecond, Sessions: 2}
	})
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"storesight_detector_runs_total": 7, "storesight_detector_frames_total": 12,
		"storesight_detector_busy_seconds_total": 1.5, "storesight_detector_sessions": 2,
	}
	for _, mf := range mfs {
		w, ok := want[mf.GetName()]
		if !ok {
			continue
		}
		delete(want, mf.GetName())
		mt := mf.GetMetric()[0]
		got := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		if got != w {
			t.Errorf("%s = %v, want %v", mf.GetName(), got, w)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing %v", want)
	}
}
