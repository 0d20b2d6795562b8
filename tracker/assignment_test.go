package tracker

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// bruteForce enumerates every partial matching and returns the best
// objective under linearAssignment's semantics: minimise the sum of
// (cost - thresh) over matched pairs, pairs above thresh forbidden. With an
// infinite thresh it maximises the number of finite pairs first, then
// minimises their total cost; the objective is then reported as
// (-pairs, cost).
// mat converts a literal [][]float64 (all rows the same length) to a
// costMatrix; cols gives the width when there are no rows.
func mat(rows [][]float64, cols int) costMatrix {
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	c := newCostMatrix(len(rows), cols)
	for i, r := range rows {
		copy(c.data[i*cols:], r)
	}
	return c
}

func bruteForce(cost [][]float64, thresh float64) (bestPairs int, best float64) {
	n := len(cost)
	m := 0
	if n > 0 {
		m = len(cost[0])
	}
	inf := math.IsInf(thresh, 1)
	usedCol := make([]bool, m)
	best = math.Inf(1)
	bestPairs = -1
	var rec func(i, pairs int, sum float64)
	rec = func(i, pairs int, sum float64) {
		if i == n {
			if inf {
				if pairs > bestPairs || (pairs == bestPairs && sum < best) {
					bestPairs, best = pairs, sum
				}
			} else if sum < best {
				best, bestPairs = sum, pairs
			}
			return
		}
		rec(i+1, pairs, sum) // row i unmatched
		for j := 0; j < m; j++ {
			c := cost[i][j]
			if usedCol[j] || math.IsNaN(c) || math.IsInf(c, 0) || c > thresh {
				continue
			}
			usedCol[j] = true
			if inf {
				rec(i+1, pairs+1, sum+c)
			} else {
				rec(i+1, pairs+1, sum+c-thresh)
			}
			usedCol[j] = false
		}
	}
	rec(0, 0, 0)
	return bestPairs, best
}

// checkValid verifies the structural invariants of an assignment and
// returns its objective computed the same way as bruteForce.
func checkValid(t *testing.T, cost [][]float64, m int, thresh float64, a assignment) (pairs int, obj float64) {
	t.Helper()
	n := len(cost)
	rowSeen := make([]int, n)
	colSeen := make([]int, m)
	for _, p := range a.matches {
		i, j := p[0], p[1]
		if i < 0 || i >= n || j < 0 || j >= m {
			t.Fatalf("match %v out of range %dx%d", p, n, m)
		}
		rowSeen[i]++
		colSeen[j]++
		c := cost[i][j]
		if math.IsNaN(c) || math.IsInf(c, 1) || c > thresh {
			t.Fatalf("match %v has forbidden cost %v (thresh %v)", p, c, thresh)
		}
		pairs++
		if math.IsInf(thresh, 1) {
			obj += c
		} else {
			obj += c - thresh
		}
	}
	for k := 1; k < len(a.matches); k++ {
		if a.matches[k][0] <= a.matches[k-1][0] {
			t.Fatalf("matches not sorted by row: %v", a.matches)
		}
	}
	for _, i := range a.unmatchedRows {
		rowSeen[i]++
	}
	for _, j := range a.unmatchedCols {
		colSeen[j]++
	}
	for i, s := range rowSeen {
		if s != 1 {
			t.Fatalf("row %d appears %d times across matches and unmatched", i, s)
		}
	}
	for j, s := range colSeen {
		if s != 1 {
			t.Fatalf("col %d appears %d times across matches and unmatched", j, s)
		}
	}
	return pairs, obj
}

func TestLinearAssignmentKnown(t *testing.T) {
	// The greedy choice (row 0 -> col 0 at 0.1) forces row 1 onto col 1 at
	// 0.9 (above a 0.8 threshold, so row 1 would go unmatched); the optimum
	// swaps to get two pairs at 0.2 and 0.3.
	cost := [][]float64{
		{0.1, 0.2},
		{0.3, 0.9},
	}
	got := linearAssignment(mat(cost, 0), 0.8)
	want := [][2]int{{0, 1}, {1, 0}}
	if !reflect.DeepEqual(got.matches, want) {
		t.Fatalf("matches = %v, want %v", got.matches, want)
	}
	if len(got.unmatchedRows) != 0 || len(got.unmatchedCols) != 0 {
		t.Fatalf("unexpected unmatched: %+v", got)
	}
}

func TestLinearAssignmentThreshold(t *testing.T) {
	cost := [][]float64{
		{0.95, 0.85, 0.2},
		{0.9, 0.99, 0.97},
	}
	got := linearAssignment(mat(cost, 0), 0.8)
	if want := [][2]int{{0, 2}}; !reflect.DeepEqual(got.matches, want) {
		t.Fatalf("matches = %v, want %v", got.matches, want)
	}
	if want := []int{1}; !reflect.DeepEqual(got.unmatchedRows, want) {
		t.Fatalf("unmatchedRows = %v, want %v", got.unmatchedRows, want)
	}
	if want := []int{0, 1}; !reflect.DeepEqual(got.unmatchedCols, want) {
		t.Fatalf("unmatchedCols = %v, want %v", got.unmatchedCols, want)
	}
}

func TestLinearAssignmentOnePairBeatsTwoMediocre(t *testing.T) {
	// Under the lapjv cost_limit semantics one pair at 0.1 (saving 0.7)
	// beats two pairs at 0.5 (saving 0.3 each).
	cost := [][]float64{
		{0.1, 0.5},
		{0.5, 1},
	}
	got := linearAssignment(mat(cost, 0), 0.8)
	if want := [][2]int{{0, 0}}; !reflect.DeepEqual(got.matches, want) {
		t.Fatalf("matches = %v, want %v", got.matches, want)
	}
}

func TestLinearAssignmentEmptyAndDegenerate(t *testing.T) {
	if a := linearAssignment(mat(nil, 0), 0.5); len(a.matches)+len(a.unmatchedRows)+len(a.unmatchedCols) != 0 {
		t.Fatalf("nil matrix: %+v", a)
	}
	// No tracks but detections: every column is reported unmatched (they
	// become new tracks).
	a := linearAssignment(mat(nil, 3), 0.5)
	if !reflect.DeepEqual(a.unmatchedCols, []int{0, 1, 2}) || len(a.matches) != 0 {
		t.Fatalf("0x3 matrix: %+v", a)
	}
	a = linearAssignment(mat([][]float64{{}, {}}, 0), 0.5)
	if !reflect.DeepEqual(a.unmatchedRows, []int{0, 1}) || len(a.matches) != 0 {
		t.Fatalf("2x0 matrix: %+v", a)
	}
	a = linearAssignment(mat([][]float64{{math.NaN(), math.Inf(1)}}, 0), 0.5)
	if len(a.matches) != 0 || !reflect.DeepEqual(a.unmatchedCols, []int{0, 1}) {
		t.Fatalf("all-forbidden row: %+v", a)
	}
	a = linearAssignment(mat([][]float64{{math.Inf(-1), 0.2}}, 0), 0.5)
	if !reflect.DeepEqual(a.matches, [][2]int{{0, 1}}) {
		t.Fatalf("-Inf cost must be forbidden, not a bargain: %+v", a)
	}
	a = linearAssignment(mat([][]float64{{0}}, 0), math.Inf(-1))
	if len(a.matches) != 0 {
		t.Fatalf("-Inf threshold matched: %+v", a)
	}
}

func TestLinearAssignmentInfiniteThresholdIsPlainAssignment(t *testing.T) {
	// Plain assignment must match min(n,m) pairs even when costs are large.
	cost := [][]float64{
		{100, 1, 1000},
		{2, 200, 3000},
	}
	got := linearAssignment(mat(cost, 0), math.Inf(1))
	if want := [][2]int{{0, 1}, {1, 0}}; !reflect.DeepEqual(got.matches, want) {
		t.Fatalf("matches = %v, want %v", got.matches, want)
	}
}

func TestLinearAssignmentMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 3000; iter++ {
		n := rng.IntN(6)
		m := rng.IntN(6)
		cost := make([][]float64, n)
		for i := range cost {
			cost[i] = make([]float64, m)
			for j := range cost[i] {
				switch rng.IntN(10) {
				case 0:
					cost[i][j] = math.Inf(1)
				case 1:
					// Integer-valued costs create ties, which is where
					// incorrect solvers usually go wrong.
					cost[i][j] = float64(rng.IntN(3)) / 2
				default:
					cost[i][j] = rng.Float64()
				}
			}
		}
		var thresh float64
		switch iter % 4 {
		case 0:
			thresh = math.Inf(1)
		case 1:
			thresh = 0.5
		default:
			thresh = rng.Float64()
		}
		a := linearAssignment(mat(cost, m), thresh)
		pairs, obj := checkValid(t, cost, m, thresh, a)
		wantPairs, want := bruteForce(cost, thresh)
		if math.IsInf(thresh, 1) && pairs != wantPairs {
			t.Fatalf("iter %d: %d pairs, brute force %d; cost=%v", iter, pairs, wantPairs, cost)
		}
		if math.Abs(obj-want) > 1e-9 {
			t.Fatalf("iter %d: objective %v, brute force %v; thresh=%v cost=%v matches=%v",
				iter, obj, want, thresh, cost, a.matches)
		}
	}
}

func BenchmarkLinearAssignment50x50(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	cost := make([][]float64, 50)
	for i := range cost {
		cost[i] = make([]float64, 50)
		for j := range cost[i] {
			// Mostly non-overlapping boxes (cost 1), a few candidates each.
			cost[i][j] = 1
			if i == j || rng.IntN(20) == 0 {
				cost[i][j] = rng.Float64()
			}
		}
	}
	c := mat(cost, 0)
	for b.Loop() {
		linearAssignment(c, 0.8)
	}
}
