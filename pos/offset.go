package pos

import (
	"encoding/json"
	"sync"
	"time"
)

// The offset estimate tries each whole second from -offsetRange to
// +offsetRange as the POS-to-camera clock offset and asks, for the recent
// sales, whether someone stood at the register's customer zone within
// offsetTolerance of the sale's time shifted by it. A customer is there at
// nearly every sale, so the right offset is where the share peaks. It is a
// report for whoever configures the offset, never applied by itself: a
// quiet store or a busy counter (always someone there) gives a flat curve.
const (
	offsetRange     = 60 * time.Second
	offsetStep      = time.Second
	offsetTolerance = 3 * time.Second
	// offsetCandidates is the number of candidate offsets (-60..+60 s).
	offsetCandidates = int(2*offsetRange/offsetStep) + 1
	// offsetKeep is how many recent sales the estimate uses.
	offsetKeep = 200
	// offsetMinSales is the least number of sales for a report.
	offsetMinSales = 20
)

// Offset report statuses.
const (
	OffsetOK           = "ok"
	OffsetInsufficient = "insufficient"
)

// OffsetReport is the video-based estimate of the POS clock's offset,
// over the last (at most 200) sales whose register video was available.
type OffsetReport struct {
	// Sales is the number of sales the estimate is over.
	Sales int
	// Best is the candidate offset (added to POS time to get camera time)
	// with the highest share; when several share it, the middle one of
	// them (the centre of a plateau). 0 unless Status is OffsetOK.
	Best time.Duration
	// BestShare is the share of sales with a customer in the zone within
	// 3 s of POS time + Best.
	BestShare float64
	// ConfiguredShare is the same share with each register's configured
	// offset: far below BestShare means the configuration is off.
	ConfiguredShare float64
	// Status is OffsetOK, or OffsetInsufficient with fewer than 20 sales
	// (the other fields but Sales are then zero).
	Status string
}

// MarshalJSON writes {"sales", "best_s", "best_share", "configured_share",
// "status"}, the offset in seconds.
func (r OffsetReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Sales           int     `json:"sales"`
		Best            float64 `json:"best_s"`
		BestShare       float64 `json:"best_share"`
		ConfiguredShare float64 `json:"configured_share"`
		Status          string  `json:"status"`
	}{r.Sales, r.Best.Seconds(), r.BestShare, r.ConfiguredShare, r.Status})
}

// offsetSample is what one sale's video said: for each candidate offset
// (bit i is -60 s + i s) whether a customer was there, and whether one was
// there at the configured offset.
type offsetSample struct {
	hits       [(offsetCandidates + 63) / 64]uint64
	configured bool
}

// mark records customer presence at a frame d after the sale's POS time.
func (s *offsetSample) mark(d, configured time.Duration) {
	lo := max(ceilDiv(d-offsetTolerance-(-offsetRange), offsetStep), 0)
	hi := min(floorDiv(d+offsetTolerance-(-offsetRange), offsetStep), int64(offsetCandidates-1))
	for i := lo; i <= hi; i++ {
		s.hits[i/64] |= 1 << (i % 64)
	}
	if diff := d - configured; diff >= -offsetTolerance && diff <= offsetTolerance {
		s.configured = true
	}
}

func (s *offsetSample) hit(i int) bool { return s.hits[i/64]&(1<<(i%64)) != 0 }

// floorDiv and ceilDiv divide rounding down and up (Go's / truncates
// toward zero, wrong for negative numerators).
func floorDiv(a, b time.Duration) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return int64(q)
}

func ceilDiv(a, b time.Duration) int64 {
	q := a / b
	if a%b != 0 && (a < 0) == (b < 0) {
		q++
	}
	return int64(q)
}

// offsetEstimate keeps the recent sales' samples. Add comes from the
// correlator's goroutine, report from anyone (an HTTP handler, metrics).
type offsetEstimate struct {
	mu      sync.Mutex
	samples [offsetKeep]offsetSample
	next, n int
}

func (e *offsetEstimate) add(s offsetSample) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.samples[e.next] = s
	e.next = (e.next + 1) % offsetKeep
	e.n = min(e.n+1, offsetKeep)
}

// report computes the estimate; the result depends only on the samples
// (not their order), so it is deterministic.
func (e *offsetEstimate) report() OffsetReport {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := OffsetReport{Sales: e.n, Status: OffsetInsufficient}
	if e.n < offsetMinSales {
		return r
	}
	var counts [offsetCandidates]int
	configured := 0
	for _, s := range e.samples[:e.n] {
		for i := range counts {
			if s.hit(i) {
				counts[i]++
			}
		}
		if s.configured {
			configured++
		}
	}
	best := 0
	for _, c := range counts {
		best = max(best, c)
	}
	var tied []int
	for i, c := range counts {
		if c == best {
			tied = append(tied, i)
		}
	}
	mid := tied[(len(tied)-1)/2]
	r.Best = -offsetRange + time.Duration(mid)*offsetStep
	r.BestShare = float64(best) / float64(e.n)
	r.ConfiguredShare = float64(configured) / float64(e.n)
	r.Status = OffsetOK
	return r
}
