// Package config is storesight's typed YAML configuration: the schema,
// its defaults, and validation whose errors name the file, the line and the
// key path (storesight.yml:23: cameras[0].lines[1].points: ...), so an
// installer fixing a config on a shop PC is pointed at the exact line.
//
// Decoding walks the yaml.Node tree instead of calling yaml.Unmarshal so
// that every key keeps its line, unknown keys and type errors are reported
// with their lines, and all problems are collected in one pass.
package config

import (
	"fmt"
	"os"
	"reflect"
	"time"
)

// Config is the whole storesight configuration.
type Config struct {
	Store   Store    `yaml:"store"`
	Model   Model    `yaml:"model"`
	Tracker Tracker  `yaml:"tracker"`
	Cameras []Camera `yaml:"cameras"`
	Kafka   Kafka    `yaml:"kafka"`
	Outputs Outputs  `yaml:"outputs"`
	Metrics Metrics  `yaml:"metrics"`
	Dwell   Dwell    `yaml:"dwell"`
	Alerts  Alerts   `yaml:"alerts"`
	SMS     SMS      `yaml:"sms"`
	// POS and Analytics: register transactions checked against the video,
	// exception analytics, risk and conversion.
	POS       POS       `yaml:"pos"`
	Analytics Analytics `yaml:"analytics"`
	Log       Log       `yaml:"log"`

	// file and keyLines let Validate, which runs after defaults have been
	// applied, still cite where a value came from.
	file     string
	keyLines map[string]int
}

// Store identifies the shop; its id and region are carried on every event.
type Store struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Region   string `yaml:"region"`
	Timezone string `yaml:"timezone"`
	// Hours are the opening hours; after_hours alert rules fire outside
	// them. Unset means the store never closes.
	Hours Hours `yaml:"hours"`
	// Holidays are dates (YYYY-MM-DD, store time) on which the store is
	// closed all day.
	Holidays []string `yaml:"holidays"`
}

// Hours lists the opening ranges ("09:00-18:00"; "22:00-06:00" runs past
// midnight) per weekday, in the store's time zone. A day without ranges
// is closed.
type Hours struct {
	Mon []string `yaml:"mon"`
	Tue []string `yaml:"tue"`
	Wed []string `yaml:"wed"`
	Thu []string `yaml:"thu"`
	Fri []string `yaml:"fri"`
	Sat []string `yaml:"sat"`
	Sun []string `yaml:"sun"`
}

// Model selects the detection model by manifest name and sets its
// post-processing.
type Model struct {
	Name           string   `yaml:"name"`
	Dir            string   `yaml:"dir"`
	ScoreThreshold float64  `yaml:"score_threshold"`
	NMSThreshold   float64  `yaml:"nms_threshold"`
	Classes        []string `yaml:"classes"`
	Threads        int      `yaml:"threads"`
	// Sessions is the number of detector sessions shared by all cameras,
	// each run by one worker; Threads is per session.
	Sessions int `yaml:"sessions"`
	// MaxBatch caps how many frames (of different cameras) one session run
	// takes when the model has a dynamic batch dimension; 0 lets the
	// detector choose, 1 disables batching.
	MaxBatch int `yaml:"max_batch"`
	// Provider is the ONNX Runtime execution provider: auto (TensorRT,
	// then CUDA, then the CPU, whichever works first), cpu, cuda or
	// tensorrt.
	Provider string `yaml:"provider"`
	// DeviceID is the GPU the cuda and tensorrt providers use.
	DeviceID int `yaml:"device_id"`
}

// Tracker holds the ByteTrack-class tracker parameters.
type Tracker struct {
	HighThreshold     float64 `yaml:"high_threshold"`
	LowThreshold      float64 `yaml:"low_threshold"`
	NewTrackThreshold float64 `yaml:"new_track_threshold"`
	MatchThreshold    float64 `yaml:"match_threshold"`
	MinHits           int     `yaml:"min_hits"`
	// LostBuffer is in frames at the analysis fps.
	LostBuffer int `yaml:"lost_buffer"`
}

// Camera is one video source and what to count on it.
type Camera struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Source is a file path, a file:// URL or an rtsp:// URL that may carry
	// credentials; log it with RedactedSource.
	Source string `yaml:"source"`
	// FPS is the analysis rate; 0 analyses every decoded frame.
	FPS float64 `yaml:"fps"`
	// Queue is how many frames wait between decoder and analysis; the
	// oldest is dropped when full.
	Queue int  `yaml:"queue"`
	Loop  bool `yaml:"loop"`
	// Realtime paces a file to its frame rate in `storesight run`, as a live
	// camera would deliver it (frames are then dropped when analysis falls
	// behind); false reads it as fast as analysis goes, dropping nothing.
	// `storesight analyze` always reads as fast as it can.
	Realtime bool `yaml:"realtime"`
	// StartTime is the RFC3339 wall time of a file's first frame; empty
	// means the file's modification time.
	StartTime string `yaml:"start_time"`
	// Width and Height are the expected frame size; 0 means take it from
	// the stream.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// MainSource is an optional rtsp:// URL of the camera's high-resolution
	// main stream. Source is then the low-resolution stream that is
	// analysed; the main stream is not decoded but its recent coded
	// pictures are kept for evidence (snapshots, clips).
	MainSource string `yaml:"main_source"`
	// Transport is the RTSP transport: tcp, udp or auto (UDP, falling back
	// to TCP).
	Transport string `yaml:"transport"`
	// StallTimeout is how long a live camera may send no picture before it
	// is reported offline and reconnected.
	StallTimeout Duration `yaml:"stall_timeout"`
	// StartTimeout is how long startup waits for a live camera's first
	// picture (its size checks the lines); past it, startup fails unless
	// width and height are set, in which case the camera starts offline
	// and keeps reconnecting.
	StartTimeout Duration `yaml:"start_timeout"`
	Motion       Motion   `yaml:"motion"`
	Lines        []Line   `yaml:"lines"`
	Zones        []Zone   `yaml:"zones"`
}

// Motion configures motion gating: frames in which nothing moved skip the
// detector, and still scenes are re-detected every StillRefresh.
type Motion struct {
	Enabled bool `yaml:"enabled"`
	// Width is the width frames are shrunk to before differencing.
	Width int `yaml:"width"`
	// Threshold is the grey-level difference (0-255) a pixel must change by.
	Threshold int `yaml:"threshold"`
	// MinArea is the fraction of pixels that must change to count as motion.
	MinArea float64 `yaml:"min_area"`
	// StillRefresh is the longest time without detection in a still scene.
	StillRefresh Duration `yaml:"still_refresh"`
}

// Metrics configures the HTTP endpoint with Prometheus metrics (/metrics)
// and health checks (/healthz, /readyz).
type Metrics struct {
	// Listen is the address to serve on; empty disables the endpoint.
	Listen string `yaml:"listen"`
}

// Point is an image position in pixels, written [x, y].
type Point [2]float64

// X is the horizontal coordinate.
func (p Point) X() float64 { return p[0] }

// Y is the vertical coordinate (down the image).
func (p Point) Y() float64 { return p[1] }

// Line is a counting line from Points[0] to Points[1]. A crossing from the
// left-hand side of p1->p2 to its right-hand side (p1->p2 turned 90 degrees
// clockwise on screen) is named Forward, the opposite Backward.
type Line struct {
	Name     string  `yaml:"name"`
	Points   []Point `yaml:"points"`
	Forward  string  `yaml:"forward"`
	Backward string  `yaml:"backward"`
	// Band is the hysteresis half-width in pixels: a track must get this
	// far past the line before a crossing counts, so jitter on the line
	// does not count twice.
	Band          float64 `yaml:"band"`
	ConfirmFrames int     `yaml:"confirm_frames"`
	// Entrance names the direction (forward or backward) that enters the
	// store: the line's counts in that direction are the store's entries
	// for conversion. Empty: not an entrance.
	Entrance string `yaml:"entrance"`
}

// Zone is an area whose occupancy is counted.
type Zone struct {
	Name    string  `yaml:"name"`
	Polygon []Point `yaml:"polygon"`
}

// Dwell configures how zone visits are followed (loitering, dwell).
type Dwell struct {
	// Gap is how long a person may be unseen (occluded, missed) and keep
	// the visit.
	Gap Duration `yaml:"gap"`
	// Rejoin: a new track id appearing within gap, closer than rejoin x the
	// lost person's box height to where they were last seen, continues
	// their visit (the tracker switched ids).
	Rejoin float64 `yaml:"rejoin"`
}

// Alerts configures the alert rules and their evidence.
type Alerts struct {
	// NotifyLevel is the lowest verification level that notifies people
	// (SMS): 0 unverified, 1 indication, 2 confirmed human presence, 3
	// threat to property, 4 threat to life. Every alert goes to Kafka.
	NotifyLevel int `yaml:"notify_level"`
	// PublicURL is the base of snapshot links in events and SMS, as
	// managers' phones reach this box (e.g. https://shop-12.example.com);
	// empty uses http://<metrics.listen>.
	PublicURL string `yaml:"public_url"`
	// UpdateEvery is the least time between two 'updated' steps of one
	// alert.
	UpdateEvery Duration  `yaml:"update_every"`
	Snapshots   Snapshots `yaml:"snapshots"`
	Rules       []Rule    `yaml:"rules"`
}

// Snapshots configures the directory of alert snapshots.
type Snapshots struct {
	Dir    string   `yaml:"dir"`
	MaxAge Duration `yaml:"max_age"`
	// MaxMB caps the directory's size in MiB; the oldest go first.
	MaxMB   int `yaml:"max_mb"`
	Quality int `yaml:"quality"`
}

// Rule is one alert rule. Keys not used by its kind must stay unset.
type Rule struct {
	Name string `yaml:"name"`
	// Kind is loitering, weapon, after_hours or occupancy.
	Kind string `yaml:"kind"`
	// Cameras the rule watches; empty means every camera.
	Cameras []string `yaml:"cameras"`
	// Zone names a zone of each watched camera: required for loitering and
	// occupancy, optional for weapon and after_hours.
	Zone string `yaml:"zone"`
	// Level is the verification level once confirmed; 0 takes the kind's
	// default (weapon 4, loitering and after_hours 2, occupancy 1).
	Level int `yaml:"level"`
	// Dwell (loitering) is how long a person stays in the zone.
	Dwell Duration `yaml:"dwell"`
	// Max and For (occupancy): more than Max people for at least For.
	Max int      `yaml:"max"`
	For Duration `yaml:"for"`
	// Classes (weapon) are model class names; each must be in
	// model.classes so the detector reports it.
	Classes  []string `yaml:"classes"`
	MinScore float64  `yaml:"min_score"`
	// Frames of the last Window analysed frames must show the condition
	// (weapon, after_hours).
	Frames int `yaml:"frames"`
	Window int `yaml:"window"`
	// Near (weapon): the object's centre lies within the person's box grown
	// by near x the person's height.
	Near float64 `yaml:"near"`
	// Clear is how long the condition must be gone before the alert is
	// resolved.
	Clear Duration `yaml:"clear"`
}

// SMS configures text messages to managers via Twilio. Without
// credentials it runs dry: it logs what it would send.
type SMS struct {
	// AccountSID and AuthToken default to the environment variables
	// TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; prefer those for the token.
	AccountSID string `yaml:"account_sid"`
	AuthToken  string `yaml:"auth_token"`
	// DryRun logs instead of sending even with credentials.
	DryRun bool `yaml:"dry_run"`
	// From is the sending number, E.164.
	From string `yaml:"from"`
	// Escalation is the chain: the first tier gets the alert, each later
	// tier gets it when nobody acknowledged it within its after.
	Escalation []Tier `yaml:"escalation"`
	// Cooldown: a new alert of the same camera, rule and zone within
	// cooldown of the last text is not texted again.
	Cooldown Duration `yaml:"cooldown"`
	// QuietHours are daily ranges ("22:00-06:00", store time) in which only
	// alerts at quiet_min_level or above are texted.
	QuietHours    []string `yaml:"quiet_hours"`
	QuietMinLevel int      `yaml:"quiet_min_level"`
	// RatePerHour caps the texts of this store in any rolling hour (threats
	// to life are always sent).
	RatePerHour    int      `yaml:"rate_per_hour"`
	MaxAttempts    int      `yaml:"max_attempts"`
	BackoffMin     Duration `yaml:"backoff_min"`
	BackoffMax     Duration `yaml:"backoff_max"`
	RequestTimeout Duration `yaml:"request_timeout"`
	// StateDir keeps the outbox journal (nothing is lost or sent twice
	// across restarts) and the replies already handled.
	StateDir string `yaml:"state_dir"`
	// WebhookURL is the public URL Twilio posts replies to (ACK 1234 /
	// FALSE 1234); its path is served on metrics.listen. Twilio signs the
	// full URL, so it must be exactly what is configured at Twilio.
	WebhookURL string `yaml:"webhook_url"`
}

// Tier is one step of the escalation chain.
type Tier struct {
	Name    string   `yaml:"name"`
	Numbers []string `yaml:"numbers"`
	After   Duration `yaml:"after"`
}

// Kafka configures the event sink. No brokers means storesight starts its
// embedded broker on EmbeddedAddr.
type Kafka struct {
	Brokers      []string `yaml:"brokers"`
	EmbeddedAddr string   `yaml:"embedded_addr"`
	ClientID     string   `yaml:"client_id"`
	Topics       Topics   `yaml:"topics"`
	QueueSize    int      `yaml:"queue_size"`
	SpillDir     string   `yaml:"spill_dir"`
}

// Topics names the Kafka topics events are written to.
type Topics struct {
	Crossings string `yaml:"crossings"`
	Counts    string `yaml:"counts"`
	// Status receives camera_status events (a camera went offline or came
	// back).
	Status string `yaml:"status"`
	// Alerts receives every step of every alert.
	Alerts string `yaml:"alerts"`
	// POSChecks receives the verdict on each checked register transaction.
	POSChecks string `yaml:"pos_checks"`
	// Risk and Conversion receive the analytics' figures.
	Risk       string `yaml:"risk"`
	Conversion string `yaml:"conversion"`
}

// Outputs are the local (non-Kafka) outputs.
type Outputs struct {
	Stdout     bool   `yaml:"stdout"`
	EventsFile string `yaml:"events_file"`
	TracksFile string `yaml:"tracks_file"`
}

// Log configures log/slog.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the defaults for every option and no cameras.
func Default() *Config {
	return &Config{
		Store: Store{Timezone: "UTC"},
		Model: Model{
			Name: "yolox_nano_416_coco",
			Dir:  ".deps/models",
			// 0: the model's own thresholds, from its manifest, so that
			// switching model is one line and keeps each model's
			// calibration (DEIMv2 scores lower than YOLOX and needs no NMS).
			ScoreThreshold: 0,
			NMSThreshold:   0,
			Classes:        []string{"person"},
			Threads:        2,
			Sessions:       1,
			MaxBatch:       1,
			Provider:       "auto",
		},
		Tracker: Tracker{
			HighThreshold:     0.5,
			LowThreshold:      0.1,
			NewTrackThreshold: 0.6,
			MatchThreshold:    0.8,
			MinHits:           3,
			LostBuffer:        30,
		},
		Cameras: []Camera{},
		Kafka: Kafka{
			Brokers:      []string{},
			EmbeddedAddr: "127.0.0.1:9092",
			ClientID:     "storesight",
			Topics: Topics{
				Crossings: "storesight.crossings",
				Counts:    "storesight.counts",
				Status:    "storesight.camera-status",
				Alerts:    "storesight.alerts",
				POSChecks: "storesight.pos.checks",
				Risk:      "storesight.risk", Conversion: "storesight.conversion",
			},
			QueueSize: 1024,
			SpillDir:  ".storesight/spill",
		},
		Outputs: Outputs{Stdout: true},
		Dwell:   Dwell{Gap: Duration(3 * time.Second), Rejoin: 0.5},
		Alerts: Alerts{
			NotifyLevel: 2, UpdateEvery: Duration(10 * time.Second),
			Snapshots: Snapshots{Dir: ".storesight/snapshots", MaxAge: Duration(30 * 24 * time.Hour), MaxMB: 1024, Quality: 85},
			Rules:     []Rule{},
		},
		SMS: SMS{
			Escalation: []Tier{}, Cooldown: Duration(10 * time.Minute), QuietMinLevel: 4, RatePerHour: 30,
			MaxAttempts: 6, BackoffMin: Duration(time.Second), BackoffMax: Duration(time.Minute),
			RequestTimeout: Duration(10 * time.Second), StateDir: ".storesight/sms",
		},
		POS:       defaultPOS(),
		Analytics: defaultAnalytics(),
		Log:       Log{Level: "info", Format: "text"},
	}
}

// DefaultRule returns a rule with the defaults of every kind; keys that
// do not apply to the rule's kind are ignored.
func DefaultRule() Rule {
	return Rule{
		Dwell: Duration(time.Minute), For: Duration(10 * time.Second),
		Classes: []string{"knife", "scissors", "baseball bat"}, MinScore: 0.4,
		Frames: 3, Window: 5, Near: 0.5, Clear: Duration(5 * time.Second),
	}
}

// DefaultCamera returns a camera with every default set; ID and Source
// still have to be filled in.
func DefaultCamera() Camera {
	return Camera{
		Queue: 4, Realtime: true, Transport: "tcp",
		StallTimeout: Duration(5 * time.Second), StartTimeout: Duration(10 * time.Second),
		Motion: Motion{Width: 160, Threshold: 25, MinArea: 0.002, StillRefresh: Duration(time.Second)},
	}
}

// DefaultLine returns a line with every default set; Name and Points still
// have to be filled in.
func DefaultLine() Line {
	return Line{Forward: "in", Backward: "out", Band: 8, ConfirmFrames: 2}
}

// Load reads the YAML file at path, applies defaults and validates it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes YAML config data, applies defaults and validates it.
// filename is only used in error messages. The error, if any, joins one
// *Error per problem found.
func Parse(data []byte, filename string) (*Config, error) {
	c := Default()
	c.file = filename
	d := newDecoder(filename)
	if err := d.document(data, reflect.ValueOf(c).Elem()); err != nil {
		return nil, err
	}
	c.keyLines = d.lines
	errs := d.errs
	for _, e := range c.validate() {
		if !d.failedNear(e.Path) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return c, nil
}

// Validate checks the configuration after defaults; it reports every
// problem, not just the first. Configs from Load or Parse cite file and
// line; configs built in code cite the key path only.
func (c *Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	return joinSorted(errs)
}
