package alerts

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownAlert: no open or recently finished alert has that id.
	ErrUnknownAlert = errors.New("alerts: unknown alert")
	// ErrClosed: a person already acknowledged the alert or marked it a
	// false alarm.
	ErrClosed = errors.New("alerts: alert already closed")
	// ErrStopped: the manager is not running any more.
	ErrStopped = errors.New("alerts: manager stopped")
)

// lifecycle is where one alert is in its life. Two parties move it: the
// machine (the engine's raised, updated and resolved steps) and people
// (acknowledged, false alarm). Each side finishes once:
//
//	raised ──► open ──(updated)──► open
//	open     ──(resolved)────────► resolved   published
//	open     ──(ack/false alarm)─► closed     published
//	resolved ──(ack/false alarm)─► done       published: an SMS reply often
//	                                          comes after the person left, and
//	                                          a false-alarm mark is feedback
//	                                          worth keeping either way
//	closed   ──(updated)─────────► closed     not published
//	closed   ──(resolved)────────► done       not published
//	closed, done ──(ack/false alarm)──► ErrClosed
//
// After a person closed an alert no machine step is published (see
// State.Closed): the condition may go on, but the engine keeps it as the
// same alert (one alert per visit or episode), so a person who took
// responsibility is not paged again for it, and a later resolution would
// only reopen a finished story for consumers.
type lifecycle struct {
	raised      bool
	machineDone bool // resolved
	personDone  bool // acknowledged or false alarm
}

// machine applies one of the engine's steps and reports whether to publish
// it. An error is a step out of order (an engine bug); the step is dropped.
func (l *lifecycle) machine(s State) (publish bool, err error) {
	switch {
	case s == StateRaised && l.raised:
		return false, errors.New("raised twice")
	case s == StateRaised:
		l.raised = true
		return true, nil
	case !l.raised:
		return false, fmt.Errorf("%s before raised", s)
	case l.machineDone:
		return false, fmt.Errorf("%s after resolved", s)
	case s == StateUpdated:
		return !l.personDone, nil
	case s == StateResolved:
		l.machineDone = true
		return !l.personDone, nil
	}
	return false, fmt.Errorf("%s is not a machine step", s)
}

// person applies an acknowledgement or false-alarm mark.
func (l *lifecycle) person() error {
	if !l.raised {
		return ErrUnknownAlert
	}
	if l.personDone {
		return ErrClosed
	}
	l.personDone = true
	return nil
}

// active reports whether the alert still needs attention: raised, and
// neither resolved nor closed by a person.
func (l lifecycle) active() bool { return l.raised && !l.machineDone && !l.personDone }

// finished reports whether neither side will move the alert any more
// except for a person's late acknowledgement of a resolved alert.
func (l lifecycle) finished() bool { return l.machineDone }
