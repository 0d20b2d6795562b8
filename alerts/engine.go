package alerts

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Store is the store id, part of every alert id.
	Store string
	Rules []Rule
	// PersonClass is the detector class of people.
	PersonClass int
	// ClassNames names the detector classes (alert Class, messages); it
	// may be empty, then classes are called "class N".
	ClassNames []string
	Log        *slog.Logger
}

// Engine evaluates the rules on every analysed frame. It is a
// pipeline.Output: Result is called from each camera's worker, in frame
// order per camera and concurrently for different cameras.
//
// Cameras need not be known in advance: a camera's rule states are built on
// its first result from the rules that watch it, and dropped after its
// Final result (a camera that comes back starts afresh). Each camera's
// state has its own mutex, so cameras never wait on each other; only the
// lookup of the camera takes the engine-wide lock, briefly.
//
// Steps (raised, updated, resolved) go to the Manager over a bounded queue;
// Result blocks while that queue is full rather than lose an alert. The
// frame's image is cloned only when a step needs it (a raise, or a clearly
// better frame), never kept otherwise.
type Engine struct {
	store       string
	rules       []Rule
	person      int
	names       []string
	log         *slog.Logger
	m           *Manager
	updateEvery time.Duration
	snapshots   bool

	mu   sync.Mutex
	cams map[string]*camState
}

// camState holds one camera's rule states.
type camState struct {
	mu    sync.Mutex
	rules []ruleState
}

// ruleState is one rule's state on one camera.
type ruleState interface {
	// frame evaluates one analysed frame.
	frame(f *frame)
	// final resolves whatever is still open at the end of the stream.
	final(f *frame)
}

// NewEngine validates the rules (unique names, kind-specific fields) and
// returns an engine that hands its steps to m.
func NewEngine(cfg EngineConfig, m *Manager) (*Engine, error) {
	if m == nil {
		return nil, errors.New("alerts: new engine: nil manager")
	}
	if cfg.Store == "" {
		return nil, errors.New("alerts: new engine: empty store id")
	}
	if cfg.PersonClass < 0 || (len(cfg.ClassNames) > 0 && cfg.PersonClass >= len(cfg.ClassNames)) {
		return nil, fmt.Errorf("alerts: new engine: person class %d is not a detector class", cfg.PersonClass)
	}
	e := &Engine{
		store:       cfg.Store,
		person:      cfg.PersonClass,
		names:       slices.Clone(cfg.ClassNames),
		log:         cfg.Log,
		m:           m,
		updateEvery: m.cfg.UpdateEvery,
		snapshots:   m.cfg.Snapshots != nil,
		cams:        make(map[string]*camState),
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	seen := map[string]bool{}
	for _, r := range cfg.Rules {
		rr, err := r.resolve(len(cfg.ClassNames), cfg.PersonClass)
		if err != nil {
			return nil, fmt.Errorf("alerts: new engine: %w", err)
		}
		if seen[rr.Name] {
			return nil, fmt.Errorf("alerts: new engine: rule name %q used twice", rr.Name)
		}
		seen[rr.Name] = true
		e.rules = append(e.rules, rr)
	}
	return e, nil
}

// Result evaluates every rule watching r.Camera on r.
func (e *Engine) Result(r *pipeline.Result) {
	c := e.camera(r.Camera)
	c.mu.Lock()
	f := frame{e: e, r: r}
	for _, s := range c.rules {
		if r.Final {
			s.final(&f)
		} else {
			s.frame(&f)
		}
	}
	c.mu.Unlock()
	if r.Final {
		e.mu.Lock()
		if e.cams[r.Camera] == c {
			delete(e.cams, r.Camera)
		}
		e.mu.Unlock()
	}
}

// camera returns the camera's state, building it on first use.
func (e *Engine) camera(name string) *camState {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.cams[name]
	if c != nil {
		return c
	}
	c = &camState{}
	for i := range e.rules {
		r := &e.rules[i]
		if !r.watches(name) {
			continue
		}
		switch r.Kind {
		case KindLoitering:
			c.rules = append(c.rules, newLoitering(r))
		case KindWeapon:
			c.rules = append(c.rules, newWeapon(r))
		case KindAfterHours:
			c.rules = append(c.rules, newAfterHours(r))
		case KindOccupancy:
			c.rules = append(c.rules, newOccupancy(r))
		}
	}
	e.cams[name] = c
	return c
}

// className names a detector class.
func (e *Engine) className(c int) string {
	if c >= 0 && c < len(e.names) && e.names[c] != "" {
		return e.names[c]
	}
	if c == e.person {
		return "person"
	}
	return "class " + strconv.Itoa(c)
}

// live is the engine's view of one open alert.
type live struct {
	a        Alert     // current content; State is that of the last step sent
	lastStep time.Time // event time of the last raised or updated step
}

// frame is one result as the rules see it, with helpers shared by the
// kinds.
type frame struct {
	e *Engine
	r *pipeline.Result
}

// person is one person in a frame; id 0 is an untracked detection.
type person struct {
	box geom.Box
	id  uint64
}

// personTracks returns the confirmed person tracks of the frame, or with a
// zone, the persons the dweller saw in that zone in this frame: the zone
// test then is exactly the one counting and dwell use, and the engine needs
// no zone geometry of its own.
func (f *frame) personTracks(zone string) []person {
	var ps []person
	if zone != "" {
		for _, p := range f.r.Dwell {
			if p.Zone == zone && p.Frame == f.r.Frame {
				ps = append(ps, person{box: p.Box, id: p.TrackID})
			}
		}
		return ps
	}
	for _, t := range f.r.Tracks {
		if t.Class == f.e.person && t.State == tracker.Confirmed {
			ps = append(ps, person{box: t.Box, id: t.ID})
		}
	}
	return ps
}

// persons is personTracks plus, without a zone, person detections no track
// covers: a person the tracker has not confirmed yet can still hold a knife.
func (f *frame) persons(zone string) []person {
	ps := f.personTracks(zone)
	if zone != "" {
		return ps
	}
	tracked := len(ps)
	for _, d := range f.r.Detections {
		if d.Class != f.e.person {
			continue
		}
		covered := false
		for _, p := range ps[:tracked] {
			if p.box.IoU(d.Box) >= 0.5 {
				covered = true
				break
			}
		}
		if !covered {
			ps = append(ps, person{box: d.Box})
		}
	}
	return ps
}

// trackScore is the score of track id in this frame, 0 if absent.
func (f *frame) trackScore(id uint64) float32 {
	for _, t := range f.r.Tracks {
		if t.ID == id {
			return t.Score
		}
	}
	return 0
}

// due reports whether l may take an updated step now.
func (f *frame) due(l *live) bool { return f.r.Time.Sub(l.lastStep) >= f.e.updateEvery }

// image clones the frame for a step, when snapshots are on and the result
// has an image; the step owns the clone.
func (f *frame) image() gocv.Mat {
	if !f.e.snapshots || f.r.Image.Ptr() == nil || f.r.Image.Empty() {
		return gocv.Mat{}
	}
	return f.r.Image.Clone()
}

// raise sends a's raised step with this frame as best frame. a carries the
// kind-specific fields (Started, TrackIDs, Class, Score, Box, Value,
// Message); raise fills identity, level, state and times. The id is a
// function of where and when the evidence started, so re-analysing the same
// video yields the same alert ids.
func (f *frame) raise(rule *Rule, a Alert, firstTrack uint64, marks []evidence.Mark) *live {
	a.ID = events.ID(f.e.store, f.r.Camera, rule.Name, rule.Zone,
		strconv.FormatInt(a.Started.UnixNano(), 10), strconv.FormatUint(firstTrack, 10))
	a.Rule, a.Kind, a.Camera, a.Zone, a.Level = rule.Name, rule.Kind, f.r.Camera, rule.Zone, rule.Level
	a.State, a.Time, a.Frame = StateRaised, f.r.Time, f.r.Frame
	if a.TrackIDs == nil {
		a.TrackIDs = []uint64{}
	}
	l := &live{a: a, lastStep: f.r.Time}
	f.e.log.Debug("alert raised", "alert", a.ID, "rule", a.Rule, "camera", a.Camera, "level", int(a.Level), "frame", a.Frame)
	f.e.m.submit(l.a, f.image(), marks)
	return l
}

// update sends l's updated step. With marks, this frame becomes the best
// frame (the caller has set Score, Box, Class) and its image goes along.
func (f *frame) update(l *live, marks []evidence.Mark) {
	l.a.State, l.a.Time, l.lastStep = StateUpdated, f.r.Time, f.r.Time
	var img gocv.Mat
	if marks != nil {
		l.a.Frame = f.r.Frame
		img = f.image()
	}
	f.e.m.submit(l.a, img, marks)
}

// resolve sends l's resolved step; ended is when the condition last held.
func (f *frame) resolve(l *live, ended time.Time) {
	l.a.State, l.a.Time, l.a.Ended = StateResolved, f.r.Time, ended
	if l.a.Time.Before(ended) {
		l.a.Time = ended
	}
	f.e.log.Debug("alert resolved", "alert", l.a.ID, "rule", l.a.Rule, "camera", l.a.Camera)
	f.e.m.submit(l.a, gocv.Mat{}, nil)
}

// addIDs appends the ids not yet in ids and reports whether any was new.
func addIDs(ids []uint64, ps []person) ([]uint64, bool) {
	added := false
	for _, p := range ps {
		if p.id != 0 && !slices.Contains(ids, p.id) {
			ids = append(ids, p.id)
			added = true
		}
	}
	return ids, added
}

// firstID is the first track id of ps, 0 if none is tracked.
func firstID(ps []person) uint64 {
	for _, p := range ps {
		if p.id != 0 {
			return p.id
		}
	}
	return 0
}

// personMarks draws persons; the alert's subjects are threats (red).
func personMarks(ps []person, label string, threat bool) []evidence.Mark {
	ms := make([]evidence.Mark, 0, len(ps))
	for _, p := range ps {
		l := label
		if p.id != 0 {
			l = label + " #" + strconv.FormatUint(p.id, 10)
		}
		ms = append(ms, evidence.Mark{Box: p.box, Label: l, Threat: threat})
	}
	return ms
}

// cameraSuffix ends every message: where it happens.
func cameraSuffix(camera string) string { return " (camera " + camera + ")" }

// seconds renders a duration as whole seconds.
func seconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }
