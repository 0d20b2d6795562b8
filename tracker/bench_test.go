package tracker

import (
	"testing"

	"github.com/storesight/storesight/internal/crowd"
)

// BenchmarkUpdate50Tracks measures one camera's tracker at 50 people in
// view. A long precomputed sequence keeps detection synthesis out of the
// timing; "tracks/frame" shows the tracker really follows ~50 objects
// rather than churning through unmatched ones.
func BenchmarkUpdate50Tracks(b *testing.B) {
	seq := crowd.Walk(50, 3000, 9)
	tr := New(DefaultConfig())
	frames, reported := 0, 0
	for b.Loop() {
		reported += len(tr.Update(seq[frames%len(seq)]))
		frames++
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(reported)/float64(frames), "tracks/frame")
}
