package config

import "time"

// Duration is a time span written as a Go duration string ("5s", "1m30s",
// "250ms"). A bare number is rejected: "5" could mean seconds or
// nanoseconds, and a shop installer should not have to guess.
type Duration time.Duration

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes the value as a Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }
