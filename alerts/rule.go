package alerts

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/storesight/storesight/schedule"
)

// Defaults applied by NewEngine to zero Rule fields.
const (
	// DefaultClear is how long a condition must be absent before its alert
	// resolves.
	DefaultClear = 5 * time.Second
	// DefaultFrames and DefaultWindow: a weapon or after-hours condition
	// must hold in 3 of the last 5 analysed frames.
	DefaultFrames = 3
	DefaultWindow = 5
)

// Rule is one configured rule, already validated and resolved by app;
// NewEngine checks it again and fills the defaults.
type Rule struct {
	Name  string
	Kind  Kind
	Level Level // zero means the kind's default, see DefaultLevel
	// Cameras the rule watches; empty means every camera.
	Cameras []string
	// Zone is required for loitering and occupancy; for after_hours and
	// weapon it limits the rule to persons in that zone ("" = whole frame).
	// The engine has no zone geometry: it reads the zone's visits
	// (Result.Dwell) and occupancy (Result.Occupancy), so the camera's
	// dweller and counter must know the zone.
	Zone string
	// Dwell (loitering) is the time in the zone before alerting.
	Dwell time.Duration
	// Max and For (occupancy): alert when more than Max people are in the
	// zone continuously for at least For.
	Max int
	For time.Duration
	// Classes (weapon) are the detector class ids of weapons.
	Classes []int
	// MinScore (weapon) is the detection score a weapon needs.
	MinScore float32
	// Frames and Window (weapon, after_hours): the condition must hold in at
	// least Frames of the last Window analysed frames.
	Frames, Window int
	// Near (weapon): a weapon counts when its box centre lies within a
	// person's box grown on every side by Near x the person's height.
	Near float64
	// Schedule (after_hours) holds the open hours; the rule alerts while
	// the store is closed.
	Schedule *schedule.Schedule
	// Clear is how long (event time) the condition must be absent before
	// the alert resolves; 0 means DefaultClear.
	Clear time.Duration
}

// DefaultLevel is the level of a kind's alerts when Rule.Level is zero.
// Every rule confirms its condition over several frames before raising, so
// LevelUnverified is never a rule's level and zero can mean "default".
func DefaultLevel(k Kind) Level {
	switch k {
	case KindWeapon:
		return LevelLife
	case KindLoitering, KindAfterHours:
		return LevelHuman
	case KindOccupancy:
		return LevelIndication
	case KindNoCustomer:
		return LevelProperty
	}
	return LevelUnverified
}

// resolve checks r and returns it with defaults applied. classes is the
// number of detector classes (0 when unknown) and person the person class.
func (r Rule) resolve(classes, person int) (Rule, error) {
	if r.Name == "" {
		return r, errors.New("rule without a name")
	}
	fail := func(format string, args ...any) (Rule, error) {
		return r, fmt.Errorf("rule %q (%s): %s", r.Name, r.Kind, fmt.Sprintf(format, args...))
	}
	if r.Level == LevelUnverified {
		r.Level = DefaultLevel(r.Kind)
	}
	if !r.Level.Valid() {
		return fail("level %d out of range 1-4", int(r.Level))
	}
	if r.Clear == 0 {
		r.Clear = DefaultClear
	}
	if r.Clear < 0 {
		return fail("clear %s is negative", r.Clear)
	}
	for _, c := range r.Cameras {
		if c == "" {
			return fail("empty camera name")
		}
	}
	switch r.Kind {
	case KindLoitering:
		if r.Zone == "" {
			return fail("needs a zone")
		}
		if r.Dwell <= 0 {
			return fail("dwell %s must be positive", r.Dwell)
		}
	case KindOccupancy:
		if r.Zone == "" {
			return fail("needs a zone")
		}
		if r.Max < 0 {
			return fail("max %d is negative", r.Max)
		}
		if r.For < 0 {
			return fail("for %s is negative", r.For)
		}
	case KindWeapon:
		if len(r.Classes) == 0 {
			return fail("needs weapon classes")
		}
		for _, c := range r.Classes {
			if c < 0 || (classes > 0 && c >= classes) {
				return fail("class %d is not a detector class (0-%d)", c, classes-1)
			}
			if c == person {
				return fail("class %d is the person class", c)
			}
		}
		r.Classes = slices.Clone(r.Classes)
		if r.MinScore < 0 || r.MinScore > 1 {
			return fail("min score %g out of range 0-1", r.MinScore)
		}
		if r.Near < 0 {
			return fail("near %g is negative", r.Near)
		}
		if err := r.window(); err != nil {
			return fail("%v", err)
		}
	case KindAfterHours:
		if r.Schedule == nil {
			return fail("needs a schedule")
		}
		if err := r.window(); err != nil {
			return fail("%v", err)
		}
	default:
		return fail("unknown kind")
	}
	r.Cameras = slices.Clone(r.Cameras)
	return r, nil
}

// window fills and checks Frames and Window.
func (r *Rule) window() error {
	if r.Frames == 0 {
		r.Frames = DefaultFrames
	}
	if r.Window == 0 {
		r.Window = max(r.Frames, DefaultWindow)
	}
	if r.Frames < 1 || r.Window < r.Frames {
		return fmt.Errorf("frames %d of window %d: need 1 <= frames <= window", r.Frames, r.Window)
	}
	return nil
}

// watches reports whether the rule applies to camera.
func (r *Rule) watches(camera string) bool {
	return len(r.Cameras) == 0 || slices.Contains(r.Cameras, camera)
}
