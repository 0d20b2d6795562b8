package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/segmentio/kafka-go"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/internal/rtsptest"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

// rtspMedia encodes vtest.avi for publishing, cached across runs in the
// same directory video's RTSP tests use, so the 10 s clips are shared.
func rtspMedia(t *testing.T, opts rtsptest.MediaOptions) string {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("RTSP e2e tests need %s: %v", bin, err)
		}
	}
	opts.Source = vtestVideo
	opts.Dir = filepath.Join(os.TempDir(), "storesight-media")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := rtsptest.MakeMedia(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// camera is an RTSP relay with an ffmpeg publisher on path "cam": what an
// IP camera looks like to storesight.
type camera struct {
	srv *rtsptest.Server
	pub *rtsptest.Publisher
}

const cameraPath = "cam"

func startCamera(t *testing.T, media string, loop bool) *camera {
	t.Helper()
	srv, err := rtsptest.Start(rtsptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &camera{srv: srv}
	t.Cleanup(func() { c.srv.Close() })
	pub, err := rtsptest.Publish(context.Background(), rtsptest.PublishOptions{
		File: media, URL: srv.URL(cameraPath), Loop: loop, NoLoop: !loop})
	if err != nil {
		t.Fatal(err)
	}
	c.pub = pub
	t.Cleanup(func() { pub.Stop() })
	c.waitPublished(t)
	return c
}

func (c *camera) waitPublished(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.srv.WaitPublished(ctx, cameraPath); err != nil {
		t.Fatalf("%v (ffmpeg: %v)", err, c.pub.LastError())
	}
}

// liveConfig is one RTSP camera with the vtest west line, the embedded
// broker and the metrics endpoint on free ports.
func liveConfig(t *testing.T, url string) *config.Config {
	cfg := config.Default()
	cfg.Store = config.Store{ID: "e2e-store", Region: "test", Timezone: "UTC"}
	cfg.Model.Dir = filepath.Join("..", ".deps", "models")
	cam := config.DefaultCamera()
	cam.ID, cam.Source, cam.Transport = "door", url, "tcp"
	// Half the stream's rate: these tests are about the camera, not the
	// counts, and the box is shared.
	cam.FPS = 5
	line := config.DefaultLine()
	line.Name, line.Points = "west", []config.Point{{300, 150}, {300, 340}}
	cam.Lines = []config.Line{line}
	cfg.Cameras = []config.Camera{cam}
	cfg.Kafka.EmbeddedAddr = "127.0.0.1:0"
	cfg.Kafka.SpillDir = t.TempDir()
	cfg.Outputs.Stdout = false
	cfg.Metrics.Listen = "127.0.0.1:0"
	return cfg
}

// runningApp is an app.App whose Run goes on in the background.
type runningApp struct {
	a      *app.App
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	sum    *app.Summary
	err    error
}

// startApp builds the app (which waits for the camera's first picture) and
// runs it until stop or the end of the test. The embedded broker is kept
// after Run so events can be read; it is closed at cleanup.
func startApp(t *testing.T, cfg *config.Config) *runningApp {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(context.Background(), cfg, app.Options{Log: log, KeepBroker: true, FlushTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningApp{a: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.sum, r.err = a.Run(ctx)
	}()
	t.Cleanup(func() {
		r.stop(t)
		a.Close()
	})
	return r
}

// stop cancels Run and waits for it: every camera, worker, the metrics
// server and the Kafka flush are done when it returns.
func (r *runningApp) stop(t *testing.T) (*app.Summary, error) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case <-r.done:
		case <-time.After(time.Minute):
			t.Fatal("app.Run did not return within a minute of cancel")
		}
	})
	return r.sum, r.err
}

// exited reports whether Run returned on its own (it should not while a live
// camera is configured), with its error.
func (r *runningApp) exited() (bool, error) {
	select {
	case <-r.done:
		return true, r.err
	default:
		return false, nil
	}
}

func (r *runningApp) camera() *pipeline.Camera { return r.a.Cameras()[0] }

func (r *runningApp) live(t *testing.T) video.LiveStats {
	t.Helper()
	ls, ok := r.camera().Source.(video.LiveSource)
	if !ok {
		t.Fatalf("camera source %T is not a live source", r.camera().Source)
	}
	return ls.LiveStats()
}

// waitUntil polls cond every 20 ms until it holds or limit passes.
func waitUntil(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrapeCamera fetches /metrics over HTTP and returns the camera's samples
// by metric name, with the stage label appended for the dropped counter
// (frames_dropped_total{stage="queue"}).
func scrapeCamera(t *testing.T, addr, camera string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "storesight_camera_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			key, cam := name, ""
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "camera":
					cam = l.GetValue()
				case "stage":
					key += `{stage="` + l.GetValue() + `"}`
				}
			}
			if cam != camera {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// topicWatch streams a topic's messages, from the first offset of every
// partition, while the test runs: one kafka-go reader goroutine per
// partition, stopped at cleanup.
type topicWatch struct {
	ch     chan kafka.Message
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func watchTopic(t *testing.T, brokers []string, topic string) *topicWatch {
	t.Helper()
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	conn, err := kafka.DialContext(dctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &topicWatch{ch: make(chan kafka.Message, 256), cancel: cancel}
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID, MaxWait: 100 * time.Millisecond})
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						w.mu.Lock()
						w.err = fmt.Errorf("read %s/%d: %w", topic, p.ID, err)
						w.mu.Unlock()
					}
					return
				}
				select {
				case w.ch <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	t.Cleanup(w.stop)
	return w
}

func (w *topicWatch) stop() {
	w.cancel()
	w.wg.Wait()
}

// next returns the next message, or an error after limit.
func (w *topicWatch) next(limit time.Duration) (kafka.Message, error) {
	select {
	case m := <-w.ch:
		return m, nil
	case <-time.After(limit):
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err != nil {
			return kafka.Message{}, w.err
		}
		return kafka.Message{}, fmt.Errorf("no message within %v", limit)
	}
}

// statusEvent is a camera_status event read from Kafka.
type statusEvent struct {
	events.Envelope
	Status pipeline.CameraStatus
}

func (e statusEvent) String() string {
	return fmt.Sprintf("%s at %s (reason %q, decoded %d, reconnects %d)",
		e.Status.State, e.Time.Format("15:04:05.000"), e.Status.Reason, e.Status.Decoded, e.Status.Reconnects)
}

// nextStatus waits up to limit for the next camera_status event and checks
// it against the schema and the camera.
func nextStatus(t *testing.T, w *topicWatch, camera string, limit time.Duration, waitingFor string) statusEvent {
	t.Helper()
	m, err := w.next(limit)
	if err != nil {
		t.Fatalf("waiting for the camera_status %s event: %v", waitingFor, err)
	}
	e, err := decodeStatus(m)
	if err != nil {
		t.Fatal(err)
	}
	if e.Camera != camera || e.Status.Stream != "detect" {
		t.Fatalf("status event for camera %q stream %q, want %q detect", e.Camera, e.Status.Stream, camera)
	}
	if e.Status.State != waitingFor {
		t.Fatalf("camera_status event %v, want %s", e, waitingFor)
	}
	return e
}

func decodeStatus(m kafka.Message) (statusEvent, error) {
	if err := events.CheckSchemas(m.Value); err != nil {
		return statusEvent{}, fmt.Errorf("camera_status at offset %d: %w", m.Offset, err)
	}
	var e statusEvent
	if err := json.Unmarshal(m.Value, &e.Envelope); err != nil {
		return e, fmt.Errorf("camera_status at offset %d: %w", m.Offset, err)
	}
	if e.Type != events.TypeCameraStatus {
		return e, errors.New("event type " + e.Type + " on the status topic")
	}
	if err := json.Unmarshal(e.Data, &e.Status); err != nil {
		return e, fmt.Errorf("camera_status data: %w", err)
	}
	return e, nil
}
