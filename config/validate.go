package config

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"time"
)

// idPattern keeps store and camera ids safe in Kafka keys (store/camera),
// file names and metric labels.
var idPattern = regexp.MustCompile(`^[a-z0-9._-]+$`)

// topicPattern is what Kafka accepts as a topic name.
var topicPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// validator collects semantic problems; range checks are written as "ok
// when" so that NaN, which fails every comparison, is reported too.
type validator struct {
	c    *Config
	errs []*Error
}

func (c *Config) validate() []*Error {
	v := &validator{c: c}
	v.store()
	v.model()
	v.tracker()
	v.cameras()
	v.kafka()
	v.outputs()
	v.metrics()
	v.hours()
	v.dwell()
	v.alerts()
	v.sms()
	v.pos()
	v.analytics()
	v.log()
	return v.errs
}

// lineOf finds where path was written, or where its nearest written parent
// was when the value is a default.
func (v *validator) lineOf(path string) int {
	for p := path; ; p = parentPath(p) {
		if l, ok := v.c.keyLines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

func (v *validator) check(ok bool, path, format string, args ...any) bool {
	if !ok {
		v.errs = append(v.errs, &Error{File: v.c.file, Line: v.lineOf(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	return ok
}

func (v *validator) id(path, s string) {
	if v.check(s != "", path, "required") {
		v.check(idPattern.MatchString(s), path, "must match [a-z0-9._-]+, got %q", s)
	}
}

func (v *validator) required(path, s string) {
	v.check(s != "", path, "required")
}

func (v *validator) store() {
	s := v.c.Store
	v.id("store.id", s.ID)
	if v.check(s.Timezone != "", "store.timezone", "required (an IANA name such as Europe/Berlin)") {
		_, err := time.LoadLocation(s.Timezone)
		v.check(err == nil, "store.timezone", "unknown time zone %q (want an IANA name such as Europe/Berlin)", s.Timezone)
	}
}

func (v *validator) model() {
	m := v.c.Model
	v.required("model.name", m.Name)
	v.required("model.dir", m.Dir)
	v.check(m.ScoreThreshold >= 0 && m.ScoreThreshold < 1, "model.score_threshold", "must be in [0, 1) (0 = the model's manifest value), got %v", m.ScoreThreshold)
	v.check(m.NMSThreshold >= 0 && m.NMSThreshold <= 1, "model.nms_threshold", "must be in [0, 1] (0 = the model's manifest value), got %v", m.NMSThreshold)
	v.check(m.Threads >= 1, "model.threads", "must be >= 1, got %d", m.Threads)
	v.check(m.Sessions >= 1 && m.Sessions <= 64, "model.sessions", "must be in [1, 64], got %d", m.Sessions)
	v.check(m.MaxBatch >= 0 && m.MaxBatch <= 64, "model.max_batch", "must be in [0, 64] (0 = model default), got %d", m.MaxBatch)
	switch m.Provider {
	case "auto", "cpu", "cuda", "tensorrt":
	default:
		v.check(false, "model.provider", "want auto, cpu, cuda or tensorrt, got %q", m.Provider)
	}
	v.check(m.DeviceID >= 0, "model.device_id", "must be >= 0, got %d", m.DeviceID)
	if !v.check(len(m.Classes) > 0, "model.classes", "at least one class is required") {
		return
	}
	seen := map[string]bool{}
	for i, name := range m.Classes {
		p := joinIndex("model.classes", i)
		if v.check(name != "", p, "empty class name") {
			v.check(!seen[name], p, "duplicate class %q", name)
		}
		seen[name] = true
	}
}

func (v *validator) tracker() {
	t := v.c.Tracker
	unit := func(key string, x float64) {
		v.check(x >= 0 && x <= 1, "tracker."+key, "must be in [0, 1], got %v", x)
	}
	unit("high_threshold", t.HighThreshold)
	unit("low_threshold", t.LowThreshold)
	unit("new_track_threshold", t.NewTrackThreshold)
	v.check(t.MatchThreshold > 0 && t.MatchThreshold <= 1, "tracker.match_threshold", "must be in (0, 1], got %v", t.MatchThreshold)
	// The same cross-field rules as tracker.Config.Validate, checked here
	// so that the error can cite the line.
	if t.LowThreshold >= 0 && t.HighThreshold <= 1 {
		v.check(t.LowThreshold <= t.HighThreshold, "tracker.low_threshold", "must not exceed high_threshold (%v), got %v", t.HighThreshold, t.LowThreshold)
	}
	if t.NewTrackThreshold <= 1 && t.HighThreshold >= 0 {
		// Only high detections can start tracks; a lower value would
		// silently have no effect.
		v.check(t.NewTrackThreshold >= t.HighThreshold, "tracker.new_track_threshold", "must be at least high_threshold (%v), got %v", t.HighThreshold, t.NewTrackThreshold)
	}
	v.check(t.MinHits >= 1, "tracker.min_hits", "must be >= 1, got %d", t.MinHits)
	v.check(t.LostBuffer >= 0, "tracker.lost_buffer", "must be >= 0, got %d", t.LostBuffer)
}

func (v *validator) cameras() {
	// A process without cameras is the chain's analytics service.
	if !v.check(len(v.c.Cameras) > 0 || v.c.Analytics.Enabled, "cameras", "at least one camera is required (or analytics.enabled for an analytics-only process)") {
		return
	}
	firstID := map[string]string{} // id -> path of its first use
	for i, cam := range v.c.Cameras {
		p := joinIndex("cameras", i)
		v.id(p+".id", cam.ID)
		if first, dup := firstID[cam.ID]; dup && cam.ID != "" {
			v.check(false, p+".id", "duplicate camera id %q (first used %s)", cam.ID, v.where(first))
		} else {
			firstID[cam.ID] = p + ".id"
		}
		v.camera(p, cam)
	}
}

// where names a key for "first used ..." messages: by line when known.
func (v *validator) where(path string) string {
	if l := v.lineOf(path); l > 0 {
		return "at line " + strconv.Itoa(l)
	}
	return "at " + path
}

func (v *validator) camera(p string, cam Camera) {
	kind, _ := parseSource(cam.Source)
	if v.check(cam.Source != "", p+".source", "required (a file path, file:// URL or rtsp:// URL)") {
		v.check(kind != SourceInvalid, p+".source",
			"%q is not a file path, file:///absolute/path URL or rtsp://host/... URL", cam.RedactedSource())
	}
	v.check(cam.FPS >= 0 && !math.IsInf(cam.FPS, 1), p+".fps", "must be >= 0 (0 = every frame), got %v", cam.FPS)
	v.check(cam.Queue >= 1, p+".queue", "must be >= 1, got %d", cam.Queue)
	if kind == SourceRTSP {
		v.check(!cam.Loop, p+".loop", "only file sources can loop")
		v.check(cam.StartTime == "", p+".start_time", "only for file sources (live streams carry their own time)")
	}
	switch cam.Transport {
	case "tcp", "udp", "auto":
	default:
		v.check(false, p+".transport", "want tcp, udp or auto, got %q", cam.Transport)
	}
	v.check(cam.StallTimeout.D() >= 500*time.Millisecond, p+".stall_timeout", "must be at least 500ms, got %s", cam.StallTimeout)
	v.check(cam.StartTimeout.D() >= time.Second, p+".start_timeout", "must be at least 1s, got %s", cam.StartTimeout)
	if cam.MainSource != "" {
		mk, _ := parseSource(cam.MainSource)
		v.check(mk == SourceRTSP, p+".main_source", "must be an rtsp:// URL, got %q", redactURL(cam.MainSource))
		v.check(kind == SourceRTSP, p+".main_source", "only for rtsp cameras (source is a file)")
	}
	v.motion(p+".motion", cam.Motion)
	if kind != SourceRTSP && cam.StartTime != "" {
		_, err := time.Parse(time.RFC3339, cam.StartTime)
		v.check(err == nil, p+".start_time", "want an RFC3339 time such as 2024-05-01T09:00:00+02:00, got %q", cam.StartTime)
	}
	v.check(cam.Width >= 0, p+".width", "must be >= 0, got %d", cam.Width)
	v.check(cam.Height >= 0, p+".height", "must be >= 0, got %d", cam.Height)
	// Cite the key that was written: the missing one has no line.
	if cam.Width != 0 && cam.Height == 0 {
		v.check(false, p+".width", "height must be set too (or both 0)")
	}
	if cam.Height != 0 && cam.Width == 0 {
		v.check(false, p+".height", "width must be set too (or both 0)")
	}

	lineNames := map[string]string{}
	for j, l := range cam.Lines {
		lp := joinIndex(p+".lines", j)
		v.uniqueName(lp+".name", l.Name, lineNames, "line")
		v.countingLine(lp, l)
	}
	zoneNames := map[string]string{}
	for j, z := range cam.Zones {
		zp := joinIndex(p+".zones", j)
		v.uniqueName(zp+".name", z.Name, zoneNames, "zone")
		v.zone(zp, z)
	}
}

func (v *validator) motion(p string, m Motion) {
	v.check(m.Width >= 16 && m.Width <= 1920, p+".width", "must be in [16, 1920] pixels, got %d", m.Width)
	v.check(m.Threshold >= 1 && m.Threshold <= 254, p+".threshold", "must be in [1, 254], got %d", m.Threshold)
	v.check(m.MinArea > 0 && m.MinArea < 1, p+".min_area", "must be in (0, 1), got %v", m.MinArea)
	v.check(m.StillRefresh.D() > 0, p+".still_refresh", "must be > 0, got %s", m.StillRefresh)
}

func (v *validator) uniqueName(path, name string, seen map[string]string, what string) {
	if !v.check(name != "", path, "required") {
		return
	}
	if first, dup := seen[name]; dup {
		v.check(false, path, "duplicate %s name %q in this camera (first used %s)", what, name, v.where(first))
		return
	}
	seen[name] = path
}

func (v *validator) countingLine(lp string, l Line) {
	pp := lp + ".points"
	if v.check(len(l.Points) == 2, pp, "need exactly 2 points, got %d", len(l.Points)) {
		if v.points(pp, l.Points) {
			v.check(l.Points[0] != l.Points[1], pp, "the 2 points must be distinct, got %v twice", fmtPoint(l.Points[0]))
		}
	}
	v.required(lp+".forward", l.Forward)
	if v.check(l.Backward != "", lp+".backward", "required") && l.Forward != "" {
		v.check(l.Backward != l.Forward, lp+".backward", "must differ from forward (%q)", l.Forward)
	}
	v.check(l.Band > 0 && !math.IsInf(l.Band, 1), lp+".band", "must be > 0 pixels, got %v", l.Band)
	v.check(l.ConfirmFrames >= 1, lp+".confirm_frames", "must be >= 1, got %d", l.ConfirmFrames)
	if l.Entrance != "" {
		v.check(l.Entrance == l.Forward || l.Entrance == l.Backward, lp+".entrance",
			"must name the direction that enters the store, forward (%q) or backward (%q), got %q", l.Forward, l.Backward, l.Entrance)
	}
}

func (v *validator) zone(zp string, z Zone) { v.polygon(zp+".polygon", z.Polygon) }

func (v *validator) polygon(pp string, pg []Point) {
	z := Zone{Polygon: pg}
	if !v.check(len(z.Polygon) >= 3, pp, "need at least 3 points, got %d", len(z.Polygon)) {
		return
	}
	if v.points(pp, z.Polygon) {
		v.check(polygonArea(z.Polygon) > 0, pp, "polygon has zero area (all points on one line)")
	}
}

// points checks that every coordinate is a finite non-negative pixel
// position, reporting whether all were; shape checks on bad points would
// only repeat the problem.
func (v *validator) points(path string, pts []Point) bool {
	all := true
	for k, pt := range pts {
		ok := pt[0] >= 0 && pt[1] >= 0 && !math.IsInf(pt[0], 1) && !math.IsInf(pt[1], 1)
		v.check(ok, joinIndex(path, k), "coordinates must be finite and >= 0, got %s", fmtPoint(pt))
		all = all && ok
	}
	return all
}

func fmtPoint(p Point) string { return fmt.Sprintf("[%v, %v]", p[0], p[1]) }

// polygonArea is the absolute shoelace area.
func polygonArea(pg []Point) float64 {
	var a float64
	for i := range pg {
		j := (i + 1) % len(pg)
		a += pg[i][0]*pg[j][1] - pg[j][0]*pg[i][1]
	}
	return math.Abs(a) / 2
}

func (v *validator) kafka() {
	k := v.c.Kafka
	for i, b := range k.Brokers {
		v.hostPort(joinIndex("kafka.brokers", i), b, true)
	}
	v.hostPort("kafka.embedded_addr", k.EmbeddedAddr, false)
	v.required("kafka.client_id", k.ClientID)
	topic := func(key, name string) {
		v.check(topicPattern.MatchString(name) && name != "." && name != "..", "kafka.topics."+key,
			"want a Kafka topic name ([a-zA-Z0-9._-], 1 to 249 characters), got %q", name)
	}
	topic("crossings", k.Topics.Crossings)
	topic("counts", k.Topics.Counts)
	topic("status", k.Topics.Status)
	topic("alerts", k.Topics.Alerts)
	topic("pos_checks", k.Topics.POSChecks)
	topic("risk", k.Topics.Risk)
	topic("conversion", k.Topics.Conversion)
	v.check(k.QueueSize >= 1, "kafka.queue_size", "must be >= 1, got %d", k.QueueSize)
	v.required("kafka.spill_dir", k.SpillDir)
}

// hostPort checks an address; listen addresses may leave the host empty
// (all interfaces), broker addresses may not.
func (v *validator) hostPort(path, addr string, needHost bool) {
	host, port, err := net.SplitHostPort(addr)
	ok := err == nil && (host != "" || !needHost)
	if ok {
		n, perr := strconv.Atoi(port)
		ok = perr == nil && n >= 0 && n <= 65535
	}
	v.check(ok, path, "want host:port, got %q", addr)
}

func (v *validator) metrics() {
	if v.c.Metrics.Listen != "" {
		v.hostPort("metrics.listen", v.c.Metrics.Listen, false)
	}
}

func (v *validator) outputs() {
	o := v.c.Outputs
	if o.EventsFile != "" {
		v.check(o.TracksFile != o.EventsFile, "outputs.tracks_file", "same file as outputs.events_file (%q)", o.EventsFile)
	}
}

func (v *validator) log() {
	l := v.c.Log
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.check(false, "log.level", "want debug, info, warn or error, got %q", l.Level)
	}
	switch l.Format {
	case "text", "json":
	default:
		v.check(false, "log.format", "want text or json, got %q", l.Format)
	}
}
