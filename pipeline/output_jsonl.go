package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/storesight/storesight/events"
)

// JSONLines writes events, one JSON envelope per line, in the same form as
// on Kafka, so offline results and the live stream are read the same way.
// Types filters what is written; empty writes every type.
type JSONLines struct {
	mu    sync.Mutex
	w     *bufio.Writer
	enc   *json.Encoder
	types map[string]bool
}

// NewJSONLines writes to w; Flush at the end.
func NewJSONLines(w io.Writer, types ...string) *JSONLines {
	bw := bufio.NewWriter(w)
	j := &JSONLines{w: bw, enc: json.NewEncoder(bw)}
	if len(types) > 0 {
		j.types = map[string]bool{}
		for _, t := range types {
			j.types[t] = true
		}
	}
	return j
}

// Publish writes one event.
func (j *JSONLines) Publish(e events.Envelope) error {
	if j.types != nil && !j.types[e.Type] {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.enc.Encode(e); err != nil {
		return fmt.Errorf("write event %s: %w", e.ID, err)
	}
	return nil
}

// Flush writes what is buffered.
func (j *JSONLines) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}
