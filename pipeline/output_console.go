package pipeline

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Console prints crossings as they happen, one line each, for people
// watching `storesight run`.
type Console struct {
	mu sync.Mutex
	W  io.Writer
}

// Result prints r's crossings.
func (c *Console) Result(r *Result) {
	if len(r.Crossings) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range r.Crossings {
		fmt.Fprintf(c.W, "%s  camera=%s line=%s direction=%s track=%d frame=%d stream=%s\n",
			x.Time.UTC().Format("2006-01-02T15:04:05.0Z"), r.Camera, x.Line, x.Direction, x.TrackID,
			x.Frame, x.StreamTime.Round(100*time.Millisecond))
	}
}
