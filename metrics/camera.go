package metrics

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/video"
)

// cameraSource is where one camera's counters are read at scrape time.
type cameraSource struct {
	stats func() pipeline.StatsSnapshot  // nil: no pipeline counters
	live  func() (video.LiveStats, bool) // nil or false: not a live camera
}

// cameraCollector turns the cameras' own counters into metrics when
// Prometheus scrapes, so nothing is counted twice and a scrape always sees
// the values the pipeline logs and tests see.
type cameraCollector struct {
	mu      sync.Mutex
	cameras map[string]cameraSource

	packets, accessUnits, decoded, received, sampled, gated, analysed *prometheus.Desc
	dropped, decodeErrors, detectErrors, connects, reconnects         *prometheus.Desc
	online, lastFrame                                                 *prometheus.Desc
}

// Values of the stage label of storesight_camera_frames_dropped_total.
const (
	stageSource = "source"
	stageQueue  = "queue"
)

func newCameraCollector() *cameraCollector {
	cam := []string{"camera"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("storesight_camera_"+name, help, append(cam, labels...), nil)
	}
	return &cameraCollector{
		cameras: map[string]cameraSource{},
		packets: d("rtp_packets_total",
			"RTP packets received from the live camera, across reconnects."),
		accessUnits: d("access_units_total",
			"Coded pictures (access units) assembled from RTP packets; compare with rtp_packets_total to see packet loss turning into lost pictures."),
		decoded: d("frames_decoded_total",
			"Pictures produced by the camera's decoder (for file cameras: frames read)."),
		received: d("frames_received_total",
			"Frames the analysis pipeline took from the camera's source."),
		sampled: d("frames_sampled_total",
			"Frames skipped, on purpose, to hold the camera's configured analysis frame rate."),
		gated: d("frames_gated_total",
			"Frames not sent to the detector because motion gating saw no motion."),
		analysed: d("frames_analysed_total",
			"Frames that went through detection, tracking and counting."),
		dropped: d("frames_dropped_total",
			"Frames lost because the next stage fell behind: stage=\"source\" when the pipeline did not read a decoded picture in time, stage=\"queue\" when the analysis worker (detector) could not keep up. Rising values mean the box is overloaded.",
			"stage"),
		decodeErrors: d("decode_errors_total",
			"Access units the decoder rejected or RTP payloads that could not be depacketized; a steady rise points at a broken or lossy stream."),
		detectErrors: d("detect_errors_total",
			"Frames whose person detection failed (see the process log)."),
		connects: d("connects_total",
			"Successful connections to the live camera (RTSP PLAY accepted)."),
		reconnects: d("reconnects_total",
			"Connection attempts to the live camera after the first one, successful or not; a rising value means the camera or network is flapping."),
		online: d("online",
			"1 when the live camera is delivering frames, 0 when it is offline (not connected or no frames for the offline timeout)."),
		lastFrame: d("last_frame_timestamp_seconds",
			"Unix time of the last picture decoded from the live camera; time() minus this is how long the camera has been silent."),
	}
}

// add registers or replaces a camera: a restarted camera gets fresh
// counters, which Prometheus treats as a counter reset.
func (c *cameraCollector) add(id string, src cameraSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cameras[id] = src
}

// Describe sends every descriptor, so the registry checks the metrics this
// collector produces for consistency.
func (c *cameraCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.packets, c.accessUnits, c.decoded, c.received, c.sampled, c.gated, c.analysed,
		c.dropped, c.decodeErrors, c.detectErrors, c.connects, c.reconnects, c.online, c.lastFrame,
	} {
		ch <- d
	}
}

// Collect reads every camera's counters. The snapshot funcs run outside the
// lock so a slow one cannot hold up AddCamera.
func (c *cameraCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	ids := make([]string, 0, len(c.cameras))
	srcs := make([]cameraSource, 0, len(c.cameras))
	for id := range c.cameras {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		srcs = append(srcs, c.cameras[id])
	}
	c.mu.Unlock()
	for i, id := range ids {
		c.collectCamera(ch, id, srcs[i])
	}
}

func (c *cameraCollector) collectCamera(ch chan<- prometheus.Metric, id string, src cameraSource) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{id}, labels...)...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, id)
	}
	var ls video.LiveStats
	live := false
	if src.live != nil {
		ls, live = src.live()
	}
	var st stageCounts
	if src.stats != nil {
		st = stagesOf(src.stats())
		counter(c.received, st.received)
		counter(c.sampled, st.sampled)
		counter(c.gated, st.gated)
		counter(c.analysed, st.analysed)
		counter(c.dropped, st.dropped, stageQueue)
		counter(c.detectErrors, st.errors)
	}
	switch {
	case live:
		counter(c.decoded, ls.Decoded)
	case src.stats != nil:
		// A file source hands over every frame it decodes.
		counter(c.decoded, st.received)
	}
	if !live {
		return
	}
	counter(c.packets, ls.Packets)
	counter(c.accessUnits, ls.AccessUnits)
	counter(c.dropped, ls.Dropped, stageSource)
	counter(c.decodeErrors, ls.DecodeErrors)
	counter(c.connects, ls.Connects)
	counter(c.reconnects, ls.Reconnects)
	online := 0.0
	if ls.Online {
		online = 1
	}
	gauge(c.online, online)
	if !ls.LastFrame.IsZero() {
		gauge(c.lastFrame, float64(ls.LastFrame.UnixNano())/1e9)
	}
}
