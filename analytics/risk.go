package analytics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// RiskConfig tunes the risk score. The zero value takes the defaults.
type RiskConfig struct {
	// Weights maps rate names (RateNames) to their weight in the composite
	// score; rates not listed weigh 0. Default: no_customer 3 (the video
	// says nobody was there), cash_refunds 2, voids 1, partial_cancels 1,
	// no_sales 1, refunds 0.5 (non-cash refunds go back to a card, so they
	// are a weak signal).
	Weights map[string]float64 `json:"weights,omitempty"`
	// MinTransactions is the fewest sales an entity needs in the period to
	// be ranked: below it a single refund moves a rate too much. Default 100.
	MinTransactions int64 `json:"min_transactions,omitempty"`
	// Prior is how many transactions' worth of the peers' median rate is
	// blended into each entity's rate before it is compared (see doc.go):
	// it keeps a quiet register's one chance refund from outranking a
	// steady pattern at a busy one. Default 400; negative turns it off.
	Prior int64 `json:"prior,omitempty"`
}

// DefaultWeights are the weights used when RiskConfig.Weights is nil.
func DefaultWeights() map[string]float64 {
	return map[string]float64{RateNoCustomer: 3, RateCashRefunds: 2, RateVoids: 1,
		RatePartialCancels: 1, RateNoSales: 1, RateRefunds: 0.5}
}

const (
	defaultMinTransactions = 100
	defaultPrior           = 400
	// madToSigma makes the MAD of normally distributed values estimate
	// their standard deviation.
	madToSigma = 1.4826
	// minScale is the smallest spread a z-score divides by, per 1,000
	// transactions: when nearly every peer has none of an exception, one
	// occurrence must not become an infinite z.
	minScale = 1.0
)

// withDefaults fills the defaults and checks the weights.
func (rc RiskConfig) withDefaults() (RiskConfig, [6]float64, error) {
	var w [6]float64
	if rc.MinTransactions <= 0 {
		rc.MinTransactions = defaultMinTransactions
	}
	if rc.Prior == 0 {
		rc.Prior = defaultPrior
	}
	if rc.Prior < 0 {
		rc.Prior = 0
	}
	weights := rc.Weights
	if weights == nil {
		weights = DefaultWeights()
	}
	sum := 0.0
	for name, v := range weights {
		i := slices.Index(RateNames, name)
		switch {
		case i < 0:
			return rc, w, fmt.Errorf("analytics: risk weight for unknown rate %q (rates: %v)", name, RateNames)
		case v < 0 || math.IsNaN(v) || math.IsInf(v, 0):
			return rc, w, fmt.Errorf("analytics: risk weight of %s is %v, want a finite number >= 0", name, v)
		}
		w[i] = v
		sum += v
	}
	if sum == 0 {
		return rc, w, fmt.Errorf("analytics: risk weights are all zero")
	}
	return rc, w, nil
}

// Risk is an entity's standing among its peers in one period.
type Risk struct {
	// Score is the weighted mean of the positive z-scores: 0 is at or
	// below the peers' median on every rate; 3 is, on average, three
	// robust standard deviations above it.
	Score float64 `json:"score"`
	// Z is each rate's robust z-score against the peers (ranked rows only).
	Z map[string]float64 `json:"z,omitempty"`
	// Rank is 1 for the highest score among the ranked peers; 0 unranked.
	Rank int `json:"rank"`
	// Peers is how many entities were ranked together (also on unranked
	// rows: how many it was not compared with).
	Peers  int    `json:"peers"`
	Ranked bool   `json:"ranked"`
	Reason string `json:"reason,omitempty"` // why unranked
}

// scoreRisk ranks rows (one level, one period) against each other. Rows
// with fewer than MinTransactions sales are left unranked, and so are all
// rows when fewer than two could be ranked (a z against oneself says
// nothing).
func scoreRisk(rows []*Row, rc RiskConfig, w [6]float64) {
	var peers []*Row
	for _, r := range rows {
		if r.Measures.Transactions >= rc.MinTransactions {
			peers = append(peers, r)
		}
	}
	for _, r := range rows {
		if r.Measures.Transactions < rc.MinTransactions {
			r.Risk = Risk{Peers: len(peers), Reason: fmt.Sprintf("fewer than %d transactions", rc.MinTransactions)}
		}
	}
	if len(peers) < 2 {
		for _, r := range peers {
			r.Risk = Risk{Peers: len(peers), Reason: fmt.Sprintf("no peers: fewer than two entities at this level with %d or more transactions", rc.MinTransactions)}
		}
		return
	}
	z := make([][6]float64, len(peers))
	for i := range RateNames {
		for j, zj := range robustZ(peers, i, rc.Prior) {
			z[j][i] = zj
		}
	}
	wsum := 0.0
	for _, x := range w {
		wsum += x
	}
	for j, r := range peers {
		s := 0.0
		zm := make(map[string]float64, len(RateNames))
		for i, name := range RateNames {
			zm[name] = z[j][i]
			s += w[i] * max(z[j][i], 0)
		}
		r.Risk = Risk{Score: s / wsum, Z: zm, Peers: len(peers), Ranked: true}
	}
	slices.SortStableFunc(peers, func(a, b *Row) int {
		if c := cmp.Compare(b.Risk.Score, a.Risk.Score); c != 0 {
			return c
		}
		return compareEntity(a, b)
	})
	for i, r := range peers {
		r.Risk.Rank = i + 1
	}
}

// robustZ returns the z-score of rate i for each peer: the rate is first
// shrunk toward the peers' median by prior pseudo-transactions, then
// z = (x - median) / max(1.4826·MAD, or the standard deviation when the
// MAD is 0, and never below minScale).
func robustZ(peers []*Row, i int, prior int64) []float64 {
	raw := make([]float64, len(peers))
	for j, r := range peers {
		raw[j] = float64(r.Measures.counts()[i]) * 1000 / float64(r.Measures.Transactions)
	}
	x := raw
	if prior > 0 {
		m0 := median(raw)
		x = make([]float64, len(peers))
		for j, r := range peers {
			n := float64(r.Measures.Transactions)
			c := float64(r.Measures.counts()[i])
			x[j] = (c*1000 + float64(prior)*m0) / (n + float64(prior))
		}
	}
	med := median(x)
	dev := make([]float64, len(x))
	for j, v := range x {
		dev[j] = math.Abs(v - med)
	}
	scale := madToSigma * median(dev)
	if scale == 0 {
		scale = stddev(x)
	}
	scale = max(scale, minScale)
	out := make([]float64, len(x))
	for j, v := range x {
		out[j] = (v - med) / scale
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// stddev is the population standard deviation.
func stddev(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	mean := 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(v)))
}
