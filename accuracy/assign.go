package accuracy

import (
	"errors"
	"math"
	"slices"
)

// linearSumAssignment minimises the total cost of a full assignment of a
// rows×cols matrix (row-major): min(rows, cols) pairs, every pair allowed.
// It returns the pairs with row indices ascending.
//
// It is a re-implementation of the solver behind SciPy's
// linear_sum_assignment (Crouse's shortest augmenting path), following it
// step for step: rows are added in order, the list of columns still to
// scan starts in descending order and shrinks by swap-removal, a free column
// wins a tie, and a tall matrix is solved as its transpose. TrackEval takes
// whatever optimum SciPy returns and, in CLEAR, an optimum is often not
// unique (identical boxes, two tracks on one person); reproducing SciPy's
// choice among equal optima is what makes IDSW and Frag equal TrackEval's
// in those cases, which any other optimal solver would not guarantee.
//
// TrackEval maximises by passing the negated matrix; callers do the same.
func linearSumAssignment(cost []float64, rows, cols int) ([][2]int, error) {
	if len(cost) != rows*cols {
		return nil, errors.New("linear assignment: matrix size does not match its shape")
	}
	if rows == 0 || cols == 0 {
		return nil, nil
	}
	transposed := cols < rows
	c := cost
	if transposed {
		c = make([]float64, rows*cols)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				c[j*rows+i] = cost[i*cols+j]
			}
		}
		rows, cols = cols, rows
	}
	for _, v := range c {
		if math.IsNaN(v) || math.IsInf(v, -1) {
			return nil, errors.New("linear assignment: matrix contains NaN or -Inf")
		}
	}

	u := make([]float64, rows)
	v := make([]float64, cols)
	spc := make([]float64, cols) // shortest path cost to each column
	path := make([]int, cols)
	col4row := make([]int, rows)
	row4col := make([]int, cols)
	sr := make([]bool, rows)
	sc := make([]bool, cols)
	remaining := make([]int, cols)
	for j := range path {
		path[j], row4col[j] = -1, -1
	}
	for i := range col4row {
		col4row[i] = -1
	}

	for cur := 0; cur < rows; cur++ {
		minVal, sink := 0.0, -1
		// Reverse order: SciPy's choice, so a constant matrix gives the
		// identity; it decides ties, so it must not change.
		n := cols
		for k := 0; k < cols; k++ {
			remaining[k] = cols - k - 1
		}
		clear(sr)
		clear(sc)
		for j := range spc {
			spc[j] = math.Inf(1)
		}
		i := cur
		for sink == -1 {
			index, lowest := -1, math.Inf(1)
			sr[i] = true
			for k := 0; k < n; k++ {
				j := remaining[k]
				r := minVal + c[i*cols+j] - u[i] - v[j]
				if r < spc[j] {
					path[j] = i
					spc[j] = r
				}
				if spc[j] < lowest || (spc[j] == lowest && row4col[j] == -1) {
					lowest = spc[j]
					index = k
				}
			}
			minVal = lowest
			if math.IsInf(minVal, 1) {
				return nil, errors.New("linear assignment: no feasible assignment")
			}
			j := remaining[index]
			if row4col[j] == -1 {
				sink = j
			} else {
				i = row4col[j]
			}
			sc[j] = true
			n--
			remaining[index] = remaining[n]
		}

		u[cur] += minVal
		for r := 0; r < rows; r++ {
			if sr[r] && r != cur {
				u[r] += minVal - spc[col4row[r]]
			}
		}
		for j := 0; j < cols; j++ {
			if sc[j] {
				v[j] -= minVal - spc[j]
			}
		}
		for j := sink; ; {
			r := path[j]
			row4col[j] = r
			col4row[r], j = j, col4row[r]
			if r == cur {
				break
			}
		}
	}

	pairs := make([][2]int, 0, rows)
	for r, col := range col4row {
		if transposed {
			pairs = append(pairs, [2]int{col, r})
		} else {
			pairs = append(pairs, [2]int{r, col})
		}
	}
	if transposed {
		slices.SortFunc(pairs, func(a, b [2]int) int { return a[0] - b[0] })
	}
	return pairs, nil
}
