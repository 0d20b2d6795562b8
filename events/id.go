package events

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// ID returns a deterministic event id: the hex of the first 16 bytes of the
// SHA-256 of parts. Each part is prefixed with its length, so ("ab","c") and
// ("a","bc") — or parts containing any separator character — never collide.
// Build it from the natural key of the fact (e.g. type, store, camera, line,
// track id, frame) so re-sent and re-computed events share an id and
// consumers can de-duplicate.
func ID(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
