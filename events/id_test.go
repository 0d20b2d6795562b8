package events

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestIDIsDeterministicAndUnambiguous(t *testing.T) {
	t.Parallel()
	a := ID("crossing", "s1", "cam-0", "door", "7", "1234")
	if a != ID("crossing", "s1", "cam-0", "door", "7", "1234") {
		t.Fatal("same parts, different ids")
	}
	if len(a) != 32 {
		t.Fatalf("id %q is not 32 hex chars", a)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Fatalf("id %q is not hex: %v", a, err)
	}
	// Joining with a separator would make these collide; length prefixes don't.
	pairs := [][2][]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"a/b", "c"}, {"a", "b/c"}},
		{{"a", ""}, {"a"}},
		{{""}, {}},
		{{"s1", "cam-0"}, {"s1cam-0"}},
	}
	for _, p := range pairs {
		if ID(p[0]...) == ID(p[1]...) {
			t.Errorf("ID(%q) == ID(%q)", p[0], p[1])
		}
	}
	// Pin the encoding: it is a contract with consumers and stored data.
	msg := []byte{0, 0, 0, 0, 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0, 0, 0, 0, 1, 'c'}
	sum := sha256.Sum256(msg)
	if got, want := ID("ab", "c"), hex.EncodeToString(sum[:16]); got != want {
		t.Fatalf("ID(ab, c) = %s, want %s", got, want)
	}
}
