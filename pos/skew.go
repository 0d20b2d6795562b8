package pos

import (
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Skew tracks arrival skew: how long after its POS timestamp a transaction
// reached us (received - timestamp). It shows how late transactions
// arrive, which bounds how much video history correlation must keep, and,
// when negative, that the POS clock runs ahead. It keeps the last n
// samples and is safe for concurrent use.
type Skew struct {
	mu      sync.Mutex
	samples []time.Duration // ring
	next    int
	full    bool
}

// NewSkew keeps the last n samples (n <= 0 means 1000).
func NewSkew(n int) *Skew {
	if n <= 0 {
		n = 1000
	}
	return &Skew{samples: make([]time.Duration, n)}
}

// Add records one transaction: pos is its POS timestamp, received when it
// reached us.
func (s *Skew) Add(pos, received time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples[s.next] = received.Sub(pos)
	s.next++
	if s.next == len(s.samples) {
		s.next, s.full = 0, true
	}
}

// SkewReport summarises the samples kept. Percentiles are nearest-rank.
type SkewReport struct {
	Samples int
	Median  time.Duration
	P05     time.Duration
	P95     time.Duration
	Min     time.Duration
	Max     time.Duration
}

// MarshalJSON writes the durations as seconds: {"samples":..,
// "median_s":.., "p05_s":.., "p95_s":.., "min_s":.., "max_s":..}.
func (r SkewReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Samples int     `json:"samples"`
		Median  float64 `json:"median_s"`
		P05     float64 `json:"p05_s"`
		P95     float64 `json:"p95_s"`
		Min     float64 `json:"min_s"`
		Max     float64 `json:"max_s"`
	}{r.Samples, r.Median.Seconds(), r.P05.Seconds(), r.P95.Seconds(), r.Min.Seconds(), r.Max.Seconds()})
}

// Report summarises the samples kept; all zero without samples.
func (s *Skew) Report() SkewReport {
	s.mu.Lock()
	n := s.next
	if s.full {
		n = len(s.samples)
	}
	d := slices.Clone(s.samples[:n])
	s.mu.Unlock()
	if n == 0 {
		return SkewReport{}
	}
	slices.Sort(d)
	rank := func(pct int) time.Duration { // nearest rank ceil(pct*n/100), 1-based, in integers
		return d[max(0, (pct*n+99)/100-1)]
	}
	return SkewReport{Samples: n, Median: rank(50), P05: rank(5), P95: rank(95), Min: d[0], Max: d[n-1]}
}
