package accuracy

import (
	"math"
	"slices"
	"testing"
)

// TestLinearSumAssignmentMatchesSciPy checks the solver against answers of
// SciPy 1.10.1's linear_sum_assignment (Debian's python3-scipy). Most of
// these matrices have several optimal assignments — small integers, the
// 1000-bonus score matrices CLEAR builds, repeated values — so the test
// pins SciPy's choice among equal optima, not only optimality. Generated
// with:
//
//	rng = np.random.default_rng(11); for k in range(36):
//	  nr, nc = rng.integers(1, 6), rng.integers(1, 6)
//	  kind 0: rng.integers(0, 3, (nr, nc)); kind 1: -(rng.integers(0, 2, ...)*1000 + rng.choice([0, .5, .6, .75], ...))
//	  kind 2: rng.random((nr, nc)).round(1); r, c = linear_sum_assignment(m)
func TestLinearSumAssignmentMatchesSciPy(t *testing.T) {
	cases := []struct {
		rows, cols int
		m          []float64
		want       [][2]int
	}{
		{1, 1, []float64{2}, [][2]int{{0, 0}}},
		{3, 3, []float64{-1000.6, -1000, -0.75, -0.75, -0.75, -0.6, -1000.75, -1000.5, -0}, [][2]int{{0, 0}, {1, 2}, {2, 1}}},
		{3, 3, []float64{0.3, 0.1, 0.8, 0.7, 0.5, 0.8, 0.5, 1, 0.2}, [][2]int{{0, 1}, {1, 0}, {2, 2}}},
		{4, 2, []float64{1, 2, 1, 2, 1, 2, 1, 2}, [][2]int{{0, 0}, {1, 1}}},
		{2, 3, []float64{-1000.5, -1000.6, -1000.5, -1000, -0, -1000.75}, [][2]int{{0, 1}, {1, 2}}},
		{5, 2, []float64{0.1, 0.7, 0.2, 0.9, 0.2, 0, 0.2, 0.3, 0.5, 0.9}, [][2]int{{0, 0}, {2, 1}}},
		{3, 4, []float64{2, 2, 1, 2, 0, 0, 0, 0, 2, 0, 1, 2}, [][2]int{{0, 2}, {1, 0}, {2, 1}}},
		{4, 5, []float64{-0.5, -0.5, -0, -0.6, -1000.6, -0.75, -1000, -0.75, -0, -1000, -0.6, -0.75, -0.75, -1000.6, -0, -0.5, -0.75, -0.6, -1000, -0.6}, [][2]int{{0, 4}, {1, 1}, {2, 3}, {3, 2}}},
		{1, 4, []float64{0.3, 0.7, 0.5, 0.9}, [][2]int{{0, 0}}},
		{1, 5, []float64{0, 0, 0, 1, 0}, [][2]int{{0, 0}}},
		{3, 5, []float64{-0.5, -1000.75, -1000, -0, -1000.75, -0.5, -1000.6, -0.5, -1000.6, -1000, -1000.6, -0.75, -0.6, -0.75, -1000.75}, [][2]int{{0, 1}, {1, 3}, {2, 4}}},
		{3, 5, []float64{0.1, 0.6, 0.1, 0.4, 0.8, 0.9, 0.8, 0, 0.4, 0.2, 1, 0.1, 0.2, 0.4, 0.1}, [][2]int{{0, 0}, {1, 2}, {2, 1}}},
		{4, 5, []float64{1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 2, 1, 0, 1}, [][2]int{{0, 2}, {1, 3}, {2, 1}, {3, 0}}},
		{1, 2, []float64{-0, -1000.5}, [][2]int{{0, 1}}},
		{1, 1, []float64{0.3}, [][2]int{{0, 0}}},
		{5, 2, []float64{0, 2, 1, 0, 0, 0, 2, 1, 2, 2}, [][2]int{{0, 0}, {1, 1}}},
		{3, 5, []float64{-0.75, -1000.6, -1000.6, -0.6, -1000.75, -1000.75, -1000.75, -1000.6, -0.5, -0, -1000.75, -0.5, -1000, -0, -0}, [][2]int{{0, 4}, {1, 1}, {2, 0}}},
		{1, 2, []float64{0.5, 0.3}, [][2]int{{0, 1}}},
		{3, 4, []float64{2, 1, 0, 0, 2, 1, 0, 1, 2, 2, 1, 0}, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{1, 4, []float64{-1000.6, -0.6, -1000.75, -1000.6}, [][2]int{{0, 2}}},
		{3, 2, []float64{1, 0.1, 0.3, 0.5, 0, 0.2}, [][2]int{{0, 1}, {2, 0}}},
		{3, 4, []float64{2, 2, 0, 1, 1, 2, 2, 2, 0, 0, 1, 1}, [][2]int{{0, 2}, {1, 0}, {2, 1}}},
		{5, 2, []float64{-0.6, -1000.6, -0.6, -0.6, -0, -0.75, -1000, -1000.5, -0.75, -1000.6}, [][2]int{{0, 1}, {3, 0}}},
		{2, 1, []float64{0.6, 0.8}, [][2]int{{0, 0}}},
		{2, 4, []float64{1, 2, 1, 1, 1, 2, 1, 0}, [][2]int{{0, 0}, {1, 3}}},
		{3, 5, []float64{-1000.6, -0, -1000.5, -0.5, -1000.6, -1000, -0.5, -0, -0, -0.75, -0.6, -1000.5, -1000.75, -0.5, -1000}, [][2]int{{0, 4}, {1, 0}, {2, 2}}},
		{5, 1, []float64{0.1, 0.5, 1, 0, 1}, [][2]int{{3, 0}}},
		{1, 3, []float64{2, 0, 2}, [][2]int{{0, 1}}},
		{3, 1, []float64{-0.75, -1000.6, -1000}, [][2]int{{1, 0}}},
		{2, 2, []float64{0.9, 0.8, 0.4, 0.4}, [][2]int{{0, 1}, {1, 0}}},
		{2, 3, []float64{2, 1, 2, 2, 0, 2}, [][2]int{{0, 0}, {1, 1}}},
		{1, 2, []float64{-0.6, -1000.75}, [][2]int{{0, 1}}},
		{1, 4, []float64{0.2, 0.4, 0.7, 0.6}, [][2]int{{0, 0}}},
		{1, 5, []float64{0, 1, 0, 1, 1}, [][2]int{{0, 0}}},
		{5, 5, []float64{-0.75, -1000.5, -0.5, -0.75, -1000, -1000, -0.75, -1000, -0.75, -0.6, -1000.75, -1000.5, -1000.6, -0, -0.6, -0, -0.5, -1000.5, -1000, -0.6, -0.5, -1000, -0.6, -1000, -1000.5}, [][2]int{{0, 1}, {1, 2}, {2, 0}, {3, 3}, {4, 4}}},
		{2, 4, []float64{0.5, 0.4, 1, 0.2, 0.5, 0.2, 0.9, 0.5}, [][2]int{{0, 3}, {1, 1}}},
	}
	for i, c := range cases {
		got, err := linearSumAssignment(c.m, c.rows, c.cols)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("case %d (%dx%d %v): got %v, SciPy %v", i, c.rows, c.cols, c.m, got, c.want)
		}
	}
}

func TestLinearSumAssignmentInputs(t *testing.T) {
	if p, err := linearSumAssignment(nil, 0, 3); err != nil || len(p) != 0 {
		t.Errorf("empty matrix: %v, %v", p, err)
	}
	if _, err := linearSumAssignment([]float64{1, 2}, 2, 2); err == nil {
		t.Error("size mismatch accepted")
	}
	if _, err := linearSumAssignment([]float64{1, math.NaN()}, 1, 2); err == nil {
		t.Error("NaN accepted")
	}
}
