package alerts

import (
	"errors"
	"testing"
)

func TestLifecycle(t *testing.T) {
	const person = State("person") // stands for acknowledged or false alarm
	type move struct {
		s       State
		publish bool
		err     error // for person moves; machine errors are only non-nil
		bad     bool  // machine step refused
		active  bool  // after the move
	}
	cases := []struct {
		name  string
		moves []move
	}{
		{"machine only", []move{
			{s: StateRaised, publish: true, active: true},
			{s: StateUpdated, publish: true, active: true},
			{s: StateUpdated, publish: true, active: true},
			{s: StateResolved, publish: true},
			{s: StateUpdated, bad: true},
			{s: StateResolved, bad: true},
		}},
		{"acknowledged while open", []move{
			{s: StateRaised, publish: true, active: true},
			{s: person, publish: true},
			{s: StateUpdated}, // silent: a person closed it
			{s: person, err: ErrClosed},
			{s: StateResolved}, // silent
			{s: StateUpdated, bad: true},
			{s: person, err: ErrClosed},
		}},
		{"acknowledged after resolved", []move{
			{s: StateRaised, publish: true, active: true},
			{s: StateResolved, publish: true},
			{s: person, publish: true},
			{s: person, err: ErrClosed},
		}},
		{"out of order", []move{
			{s: StateUpdated, bad: true},
			{s: person, err: ErrUnknownAlert},
			{s: StateRaised, publish: true, active: true},
			{s: StateRaised, bad: true, active: true},
			{s: StateAcknowledged, bad: true, active: true}, // not a machine step
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var l lifecycle
			for i, m := range c.moves {
				if m.s == person {
					err := l.person()
					if !errors.Is(err, m.err) || (m.err == nil) != (err == nil) {
						t.Fatalf("move %d (person): err %v, want %v", i, err, m.err)
					}
				} else {
					publish, err := l.machine(m.s)
					if (err != nil) != m.bad || publish != m.publish {
						t.Fatalf("move %d (%s): publish %v err %v, want publish %v refused %v", i, m.s, publish, err, m.publish, m.bad)
					}
				}
				if l.active() != m.active {
					t.Fatalf("move %d (%s): active %v, want %v", i, m.s, l.active(), m.active)
				}
			}
		})
	}
}
