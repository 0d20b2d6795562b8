package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/internal/rtsptest"
)

// The vtest video: 795 frames at 10 fps.
const (
	vtestFrames = 795
	vtestFPS    = 10
	vtestFrame  = time.Second / vtestFPS
	// rtspGOP is the key frame interval of the published H.264, 1 s as IP
	// cameras commonly send.
	rtspGOP = 10
)

// Tolerances of TestRTSPCountsMatchFile. The RTSP run's crossings are
// compared with the file run's, less those the live stream could not see:
// storesight joins the stream after ffmpeg has started and decodes from
// the first key frame it gets (file frame 10 or 20), and a person must be
// tracked for tracker.min_hits frames and stay confirm_frames past a line
// before a crossing counts, so the file's crossings before that are not
// expected (with yolox_nano the file run counts two, at frames 7 and 12).
// What remains different is not a bug:
//   - the H.264 re-encode (x264 veryfast at its default quality) changes
//     pixels slightly, so YOLOX scores and boxes move by a little; a person
//     near the score threshold, or two people passing each other on a line,
//     can come out as one track more or less, which changes a count by one;
//   - a live camera drops frames when analysis falls behind real time (the
//     failure message gives the drop counts; a box busy with other work
//     loses more, and then counts fewer).
//
// Measured on the 2-core box with 0 and with 7 frames dropped: two counts
// one lower than the file's, the total two lower. Two per count allows
// both effects to meet in one count; the total is bounded tighter than
// four times that because the effects are independent and partly cancel.
// With 48 frames dropped (other jobs loading the box to 4x its cores) the
// total came out six lower: the test fails then, and says why.
const (
	rtspCountTolerance = 2
	rtspTotalTolerance = 3
)

// vtestConfig is configs/vtest.yml with free ports and a temporary spill
// directory.
func vtestConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("../configs/vtest.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Kafka.EmbeddedAddr = "127.0.0.1:0"
	cfg.Kafka.SpillDir = t.TempDir()
	cfg.SMS.StateDir, cfg.Alerts.Snapshots.Dir = t.TempDir(), t.TempDir()
	cfg.Model.Dir = filepath.Join("..", ".deps", "models")
	cfg.Outputs.Stdout = false
	return cfg
}

// analyseVtestFile runs configs/vtest.yml on the file offline (every frame,
// nothing dropped) and returns its crossings.
func analyseVtestFile(t *testing.T) []counting.Crossing {
	t.Helper()
	cfg := vtestConfig(t)
	cfg.Cameras[0].Realtime = false
	cfg.Outputs.EventsFile = filepath.Join(t.TempDir(), "events.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, app.Options{Offline: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	sum, err := a.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := sum.Cameras[0].Stats; st.Analysed != vtestFrames || st.Dropped != 0 {
		t.Fatalf("file run: %+v, want all %d frames analysed", st, vtestFrames)
	}
	return readCrossingEvents(t, cfg.Outputs.EventsFile, cfg.Cameras[0].ID)
}

// firstPacketTime waits for the publisher's first RTP packet at the relay
// and returns when it arrived: some tens of milliseconds (45 measured)
// after the NTP time ffmpeg gives the stream's first frame, since ffmpeg
// starts that clock before its RTSP handshake.
func firstPacketTime(t *testing.T, srv *rtsptest.Server) time.Time {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().PacketsIn == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the publisher sent no RTP packet within 10 s of RECORD")
		}
		time.Sleep(time.Millisecond)
	}
	return time.Now()
}

// TestRTSPCountsMatchFile publishes vtest.avi, re-encoded to H.264 at its
// native 768x576 and 10 fps, once over RTSP, runs the product on it as a
// live camera (every frame analysed, events to the embedded Kafka broker
// over TCP) until the video has played, and compares the crossings read
// back from Kafka with the same configuration run on the file and with the
// hand labels.
func TestRTSPCountsMatchFile(t *testing.T) {
	media := rtspMedia(t, rtsptest.MediaOptions{Codec: "h264", GOP: rtspGOP})
	fileCrossings := analyseVtestFile(t)

	cam := startCamera(t, media, false)
	firstPacket := firstPacketTime(t, cam.srv)
	cfg := vtestConfig(t)
	c := &cfg.Cameras[0]
	c.Source, c.StartTime, c.Transport, c.FPS = cam.srv.URL(cameraPath), "", "tcp", 0
	run := startApp(t, cfg)
	brokers := run.a.KafkaBrokers()

	// ffmpeg exits at the end of the file; the Publisher would start it
	// again 200 ms later, so it is stopped as soon as that is seen.
	if !waitUntil(vtestFrames*vtestFrame+time.Minute, func() bool { return cam.pub.LastError() != nil }) {
		t.Fatal("the publisher did not reach the end of the video")
	}
	cam.pub.Stop()
	if err := cam.pub.LastError(); !strings.Contains(err.Error(), "end of input") {
		t.Fatalf("ffmpeg stopped before the end of the video: %v", err)
	}
	// Let the last pictures through the source queue and the pipeline.
	drained := waitUntil(10*time.Second, func() bool {
		ls, st := run.live(t), run.camera().Stats.Snapshot()
		return ls.Decoded == st.Decoded+ls.Dropped &&
			st.Decoded == st.Sampled+st.Dropped+st.Gated+st.Analysed+st.Errors
	})
	sum, err := run.stop(t)
	if err != nil {
		t.Fatalf("app.Run: %v", err)
	}
	if !drained {
		t.Errorf("frames still queued 10 s after the end of the video")
	}
	st, ls := sum.Cameras[0].Stats, run.live(t)
	if sum.EventsFailed != 0 || sum.Kafka.Published != uint64(sum.EventsPublished+sum.StatusEvents+alertSteps(sum)) {
		t.Fatalf("events: %d crossing/count, %d status and %d alert events handed to the sink, %d failed; kafka stats %+v",
			sum.EventsPublished, sum.StatusEvents, alertSteps(sum), sum.EventsFailed, *sum.Kafka)
	}
	for _, topic := range []string{cfg.Kafka.Topics.Counts, cfg.Kafka.Topics.Status} {
		for _, m := range consume(t, brokers, topic) {
			if err := events.CheckSchemas(m.Value); err != nil {
				t.Errorf("%s offset %d: %v", topic, m.Offset, err)
			}
		}
	}
	var got []counting.Crossing
	for _, m := range consume(t, brokers, cfg.Kafka.Topics.Crossings) {
		if err := events.CheckSchemas(m.Value); err != nil {
			t.Fatalf("crossing at offset %d: %v", m.Offset, err)
		}
		var e events.Envelope
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		var cr counting.Crossing
		if err := json.Unmarshal(e.Data, &cr); err != nil {
			t.Fatal(err)
		}
		if e.Type != events.TypeCrossing || e.Camera != c.ID || !e.Time.Equal(cr.Time) {
			t.Fatalf("crossing event %s: type %s camera %s time %v, crossing time %v", e.ID, e.Type, e.Camera, e.Time, cr.Time)
		}
		got = append(got, cr)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Frame < got[j].Frame })

	// The file frame of the first live picture. Seq counts decoded pictures
	// from the first one, which is a key frame: file frame k, a multiple of
	// the GOP. Event times are the camera's NTP times, which ffmpeg starts
	// at the stream's first frame, so time since the first packet, in
	// frames, minus Seq is about k for every event. It is only about k:
	// ffmpeg's clock starts a little before its first packet, and the
	// relay's first RTCP sender report to a new reader was measured ~95 ms
	// (one frame) off the later ones, so events of the first 10 s come out a
	// frame early. Rounding to the GOP absorbs both; the result must agree
	// with the pictures decoded, which it can only do if every picture from
	// k to the end was decoded once, and then Seq+k is the file frame
	// exactly.
	start, lo, hi := -1, math.Inf(1), math.Inf(-1)
	if len(got) > 0 {
		offs := make([]float64, len(got))
		for i, cr := range got {
			offs[i] = float64(cr.Time.Sub(firstPacket))/float64(vtestFrame) - float64(cr.Frame)
			lo, hi = math.Min(lo, offs[i]), math.Max(hi, offs[i])
		}
		slices.Sort(offs)
		start = rtspGOP * int(math.Round(offs[len(offs)/2]/rtspGOP))
	}
	diag := fmt.Sprintf("live source: %d pictures decoded (first = file frame %d), %d decode errors, %d dropped by the source, %d reconnects; pipeline: %d analysed, %d dropped",
		ls.Decoded, start, ls.DecodeErrors, ls.Dropped, ls.Reconnects, st.Analysed, st.Dropped)
	t.Logf("first live picture is file frame %d (event times put it between %.2f and %.2f)", start, lo, hi)
	t.Log(diag)
	exact := start >= 0 && ls.DecodeErrors == 0 && ls.Decoded == int64(vtestFrames-start)
	if !exact {
		t.Errorf("want every picture from file frame %d on decoded once without errors; %s", start, diag)
	}

	// Crossings the live stream could count: those the file run counted
	// once a person seen from the first live picture on can have been
	// tracked (min_hits) and confirmed past the line (confirm_frames).
	margin := cfg.Tracker.MinHits
	for _, l := range c.Lines {
		margin = max(margin, cfg.Tracker.MinHits+l.ConfirmFrames)
	}
	fileCounts, fileAll, liveCounts := map[countKey]int{}, map[countKey]int{}, map[countKey]int{}
	for _, cr := range fileCrossings {
		k := countKey{cr.Line, cr.Direction}
		fileAll[k]++
		if cr.Frame >= int64(max(start, 0)+margin) {
			fileCounts[k]++
		} else {
			t.Logf("file crossing before the live stream could count it: %s %s at frame %d", cr.Line, cr.Direction, cr.Frame)
		}
	}
	for _, cr := range got {
		liveCounts[countKey{cr.Line, cr.Direction}]++
	}
	fileTotal, liveTotal := 0, 0
	for _, k := range []countKey{{"west", "leftward"}, {"west", "rightward"}, {"east", "leftward"}, {"east", "rightward"}} {
		fileTotal += fileCounts[k]
		liveTotal += liveCounts[k]
		t.Logf("%s %s: RTSP %d, file %d from frame %d (%d in all)", k.line, k.dir, liveCounts[k], fileCounts[k], max(start, 0)+margin, fileAll[k])
		if d := liveCounts[k] - fileCounts[k]; d < -rtspCountTolerance || d > rtspCountTolerance {
			t.Errorf("%s %s: %d crossings over RTSP, %d on the file (want within ±%d); %s",
				k.line, k.dir, liveCounts[k], fileCounts[k], rtspCountTolerance, diag)
		}
	}
	t.Logf("total: RTSP %d, file %d from frame %d (%d in all)", liveTotal, fileTotal, max(start, 0)+margin, len(fileCrossings))
	if d := liveTotal - fileTotal; d < -rtspTotalTolerance || d > rtspTotalTolerance {
		t.Errorf("%d crossings over RTSP, %d on the file (want within ±%d); %s", liveTotal, fileTotal, rtspTotalTolerance, diag)
	}

	if !exact {
		return // frame numbers cannot be mapped to the labels'
	}
	mapped := slices.Clone(got)
	for i := range mapped {
		mapped[i].Frame += int64(start)
	}
	match := matchCrossings(readLabels(t), mapped)
	for i, cr := range mapped {
		if match.event[i] < 0 {
			t.Errorf("RTSP crossing with no label within ±%d frames: %s %s track %d at file frame %d (Seq %d); %s",
				frameTolerance, cr.Line, cr.Direction, cr.TrackID, cr.Frame, got[i].Frame, diag)
		}
	}
	// Which crossings differ, for whoever looks into a count.
	var asLabels []label
	for _, cr := range fileCrossings {
		if cr.Frame >= int64(start+margin) {
			asLabels = append(asLabels, label{Line: cr.Line, Direction: cr.Direction, Frame: cr.Frame})
		}
	}
	vsFile := matchCrossings(asLabels, mapped)
	for i, l := range asLabels {
		if vsFile.label[i] < 0 {
			t.Logf("file crossing not counted over RTSP: %s %s at frame %d", l.Line, l.Direction, l.Frame)
		}
	}
	for i, cr := range mapped {
		if vsFile.event[i] < 0 {
			t.Logf("RTSP crossing the file run did not count: %s %s at file frame %d", cr.Line, cr.Direction, cr.Frame)
		}
	}
}

// liveMedia is a 10 s clip of vtest.avi at 768x576, 10 fps, 1 s GOP, which
// the Publisher loops: the same file video's RTSP tests use.
func liveMedia(t *testing.T, codec string) string {
	return rtspMedia(t, rtsptest.MediaOptions{Codec: codec, Width: 768, Height: 576, FPS: vtestFPS,
		GOP: rtspGOP, Duration: 10 * time.Second})
}

// TestRTSPCameraOfflineEvents runs the product on a live camera that hangs
// (relay frozen: connection up, no media) and then crashes (relay closed and
// started again), and checks what an operator sees: camera_status events on
// Kafka, storesight_camera_online and storesight_camera_reconnects_total on
// the metrics endpoint, and frames flowing again.
func TestRTSPCameraOfflineEvents(t *testing.T) {
	cam := startCamera(t, liveMedia(t, "h264"), true)
	cfg := liveConfig(t, cam.srv.URL(cameraPath))
	stall := 2 * time.Second
	cfg.Cameras[0].StallTimeout = config.Duration(stall)
	id := cfg.Cameras[0].ID
	run := startApp(t, cfg)
	status := watchTopic(t, run.a.KafkaBrokers(), cfg.Kafka.Topics.Status)
	addr := run.a.MetricsAddr()
	analysed := func() int64 { return run.camera().Stats.Analysed.Load() }

	if !waitUntil(10*time.Second, func() bool { return analysed() >= 5 }) {
		t.Fatalf("5 frames not analysed within 10 s of start; %+v", run.live(t))
	}
	if m := scrapeCamera(t, addr, id); m["storesight_camera_online"] != 1 {
		t.Fatalf("storesight_camera_online = %v while frames flow, want 1", m["storesight_camera_online"])
	}

	// A hung camera: the session stays up but nothing arrives. The stall
	// watchdog reports it after stall_timeout; 10 s allows for Kafka.
	cam.srv.Freeze(true)
	frozen := time.Now()
	off := nextStatus(t, status, id, 10*time.Second, "offline")
	t.Logf("%.1f s after the freeze: %v", time.Since(frozen).Seconds(), off)
	if want := "no frames for " + stall.String(); !strings.Contains(off.Status.Reason, want) {
		t.Errorf("offline reason %q, want it to say %q", off.Status.Reason, want)
	}
	if m := scrapeCamera(t, addr, id); m["storesight_camera_online"] != 0 {
		t.Errorf("storesight_camera_online = %v after the offline event, want 0", m["storesight_camera_online"])
	}
	cam.srv.Freeze(false)
	resumed := time.Now()
	on := nextStatus(t, status, id, 10*time.Second, "online")
	t.Logf("%.1f s after the resume: %v", time.Since(resumed).Seconds(), on)
	if on.Status.Reason != "" || !on.Time.After(off.Time) || on.Status.Decoded <= off.Status.Decoded {
		t.Errorf("online event %v after offline event %v", on, off)
	}
	m := scrapeCamera(t, addr, id)
	if m["storesight_camera_online"] != 1 || m["storesight_camera_reconnects_total"] < 1 {
		t.Errorf("after the freeze: storesight_camera_online = %v (want 1), storesight_camera_reconnects_total = %v (want > 0)",
			m["storesight_camera_online"], m["storesight_camera_reconnects_total"])
	}
	reconnects := m["storesight_camera_reconnects_total"]
	if n := analysed(); !waitUntil(5*time.Second, func() bool { return analysed() >= n+5 }) {
		t.Fatalf("frames not analysed after the camera came back: %+v", run.camera().Stats.Snapshot())
	}

	// A crash: every connection drops, the server comes back on the same
	// port and the camera (ffmpeg) reconnects to it.
	opts := cam.srv.Options()
	cam.srv.Close()
	// Once the source has seen the loss its session is over, so nothing
	// decoded after this point can come from before the restart.
	if !waitUntil(5*time.Second, func() bool { return !run.live(t).Online }) {
		t.Fatal("the source still reports online 5 s after the server closed")
	}
	decoded, before := run.live(t).Decoded, analysed()
	srv, err := rtsptest.Start(opts)
	if err != nil {
		t.Fatalf("restart relay: %v", err)
	}
	cam.srv = srv
	restarted := time.Now()
	// The liveness limit: frames flow again within 5 s of the
	// camera's server coming back.
	if !waitUntil(5*time.Second, func() bool { return run.live(t).Decoded > decoded }) {
		t.Fatalf("no picture decoded within 5 s of the restart: %+v; ffmpeg: %v", run.live(t), cam.pub.LastError())
	}
	t.Logf("pictures again %.1f s after the restart", time.Since(restarted).Seconds())
	if !waitUntil(5*time.Second, func() bool { return analysed() > before }) {
		t.Fatalf("no frame analysed within 5 s of pictures coming back: %+v", run.camera().Stats.Snapshot())
	}
	off2 := nextStatus(t, status, id, 10*time.Second, "offline")
	on2 := nextStatus(t, status, id, 10*time.Second, "online")
	t.Logf("restart: %v, then %v", off2, on2)
	if off2.Status.Reason == "" || off2.Time.Before(on.Time) || !on2.Time.After(off2.Time) || on2.Status.Reconnects <= on.Status.Reconnects {
		t.Errorf("events around the restart: %v, %v (after %v)", off2, on2, on)
	}
	m = scrapeCamera(t, addr, id)
	if m["storesight_camera_online"] != 1 || m["storesight_camera_reconnects_total"] <= reconnects {
		t.Errorf("after the restart: storesight_camera_online = %v (want 1), storesight_camera_reconnects_total = %v (want > %v)",
			m["storesight_camera_online"], m["storesight_camera_reconnects_total"], reconnects)
	}

	if exited, err := run.exited(); exited {
		t.Fatalf("app.Run returned while the camera was live: %v", err)
	}
	sum, err := run.stop(t)
	if err != nil {
		t.Fatalf("app.Run: %v", err)
	}
	if sum.StatusEvents != 4 || sum.StatusDropped != 0 {
		t.Errorf("%d status events published, %d dropped; want 4 and 0", sum.StatusEvents, sum.StatusDropped)
	}
	// Nothing else on the topic: one event per state change, none repeated
	// while the camera stayed offline across failed reconnects.
	if all := consume(t, run.a.KafkaBrokers(), cfg.Kafka.Topics.Status); len(all) != 4 {
		for _, m := range all {
			e, err := decodeStatus(m)
			t.Logf("status event: %v %v", e, err)
		}
		t.Errorf("%d camera_status events on Kafka, want 4", len(all))
	}
}

// TestRTSPCorruptStream garbles an H.265 camera's slice data for a few
// seconds: the process keeps running, the decode errors show in the
// metrics, and frames keep being analysed during and after the damage.
func TestRTSPCorruptStream(t *testing.T) {
	cam := startCamera(t, liveMedia(t, "h265"), true)
	cfg := liveConfig(t, cam.srv.URL(cameraPath))
	id := cfg.Cameras[0].ID
	run := startApp(t, cfg)
	addr := run.a.MetricsAddr()
	analysed := func() int64 { return run.camera().Stats.Analysed.Load() }

	if !waitUntil(10*time.Second, func() bool { return analysed() > 0 }) {
		t.Fatalf("no frame analysed within 10 s of start; %+v", run.live(t))
	}
	if m := scrapeCamera(t, addr, id); m["storesight_camera_decode_errors_total"] != 0 {
		t.Fatalf("storesight_camera_decode_errors_total = %v before any corruption", m["storesight_camera_decode_errors_total"])
	}
	before := analysed()
	cam.srv.Corrupt(5)
	corrupting := time.Now()
	// Most damage to HEVC slice data still parses (CABAC decodes garbage
	// into a valid, wrong picture), so only some garbled packets can show
	// as decode errors: about one in sixteen when the decoder reports
	// slice errors. Corrupt for 3 s, and on until errors show, 10 s at most.
	errorsSeen := waitUntil(10*time.Second, func() bool {
		return time.Since(corrupting) >= 3*time.Second && run.live(t).DecodeErrors > 0
	})
	cam.srv.Corrupt(0)
	span, during := time.Since(corrupting), analysed()-before
	rs, ls := cam.srv.Stats(), run.live(t)
	m := scrapeCamera(t, addr, id)
	t.Logf("%.1f s of corruption: %d RTP packets garbled, %d decode errors, %d frames analysed (5 fps analysis)",
		span.Seconds(), rs.Corrupted, ls.DecodeErrors, during)
	if rs.Corrupted == 0 {
		t.Fatal("the relay garbled nothing")
	}
	if !errorsSeen || m["storesight_camera_decode_errors_total"] <= 0 {
		t.Errorf("storesight_camera_decode_errors_total = %v after %d garbled packets in %.1f s, want > 0",
			m["storesight_camera_decode_errors_total"], rs.Corrupted, span.Seconds())
	}
	// Damaged pictures are concealed and delivered, so analysis goes on at
	// about its rate; a quarter of it shows it did not stop.
	if want := int64(span.Seconds() * cfg.Cameras[0].FPS / 4); during < want {
		t.Errorf("%d frames analysed during %.1f s of corruption, want at least %d", during, span.Seconds(), want)
	}
	after := analysed()
	if !waitUntil(5*time.Second, func() bool { return analysed() >= after+5 }) {
		t.Errorf("frames not analysed after the corruption ended: %+v, %+v", run.camera().Stats.Snapshot(), run.live(t))
	}
	if exited, err := run.exited(); exited {
		t.Fatalf("app.Run returned during the corruption: %v", err)
	}
	if m := scrapeCamera(t, addr, id); m["storesight_camera_online"] != 1 {
		t.Errorf("storesight_camera_online = %v after the corruption, want 1", m["storesight_camera_online"])
	}
	if _, err := run.stop(t); err != nil {
		t.Fatalf("app.Run: %v", err)
	}
}
