package tracker

import "math"

// costMatrix is a dense rows×cols matrix in row-major order. Its explicit
// shape matters: a frame with no tracks still has detections to report as
// unmatched.
type costMatrix struct {
	rows, cols int
	data       []float64
}

func newCostMatrix(rows, cols int) costMatrix {
	return costMatrix{rows: rows, cols: cols, data: make([]float64, rows*cols)}
}

func (c costMatrix) at(i, j int) float64 { return c.data[i*c.cols+j] }

// assignment is the result of a thresholded linear assignment: matched
// (row, column) pairs and the rows and columns left alone, each in
// ascending order.
type assignment struct {
	matches       [][2]int
	unmatchedRows []int
	unmatchedCols []int
}

// linearAssignment solves the rectangular linear assignment problem with a
// cost threshold, with the semantics of lap.lapjv(cost, extend_cost=True,
// cost_limit=thresh) that ByteTrack uses: leaving a row or a column
// unmatched costs thresh/2, so the solver picks the set of pairs minimising
// the sum of (cost - thresh) over matched pairs. A pair whose cost is above
// thresh, or not finite, is never matched; a pair at or below it is matched
// unless a better assignment of its row or column exists. This is what makes
// "one good pair beats two mediocre ones" decisions globally optimal rather
// than greedy.
//
// An infinite thresh means plain rectangular assignment: as many pairs as
// possible with finite cost, of minimum total cost among those. cost is not
// modified.
func linearAssignment(cost costMatrix, thresh float64) assignment {
	n, m := cost.rows, cost.cols
	if n == 0 || m == 0 || math.IsNaN(thresh) {
		return allUnmatched(n, m)
	}

	if math.IsInf(thresh, 1) {
		// Any threshold above the largest possible cost difference between
		// two matchings makes each additional pair worth more than any cost
		// saving, which is exactly "maximum cardinality, then minimum cost".
		maxAbs := 0.0
		for _, c := range cost.data {
			if !math.IsNaN(c) && !math.IsInf(c, 0) {
				maxAbs = math.Max(maxAbs, math.Abs(c))
			}
		}
		thresh = 2*float64(min(n, m)+1)*(maxAbs+1) + 1
	} else if math.IsInf(thresh, -1) {
		return allUnmatched(n, m)
	}

	// Pairs above the threshold can never be matched, so the problem falls
	// apart into the connected components of the feasible-pair graph, each
	// solvable on its own. In tracking these are tiny (mostly one track and
	// one detection), which turns an O(n³) solve into near O(n·m).
	parent := make([]int, n+m) // union-find over rows 0..n-1, cols n..n+m-1
	for k := range parent {
		parent[k] = k
	}
	find := func(k int) int {
		for parent[k] != k {
			parent[k] = parent[parent[k]]
			k = parent[k]
		}
		return k
	}
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			if feasible(cost.at(i, j), thresh) {
				if a, b := find(i), find(n+j); a != b {
					parent[a] = b
				}
			}
		}
	}
	// Group nodes by component in one flat slice: component c owns
	// members[start[c]:start[c+1]], its rows (ascending) first, then its
	// columns (ascending, stored as column indices).
	comp := make([]int, n+m)
	label := make([]int, n+m)
	for k := range label {
		label[k] = -1
	}
	nc := 0
	for k := range comp {
		r := find(k)
		if label[r] < 0 {
			label[r] = nc
			nc++
		}
		comp[k] = label[r]
	}
	start := make([]int, nc+1)
	nrows := make([]int, nc)
	for k, c := range comp {
		start[c+1]++
		if k < n {
			nrows[c]++
		}
	}
	for c := 0; c < nc; c++ {
		start[c+1] += start[c]
	}
	members := make([]int, n+m)
	next := append([]int(nil), start[:nc]...)
	for k, c := range comp {
		if k < n {
			members[next[c]] = k
		} else {
			members[next[c]] = k - n
		}
		next[c]++
	}

	rowMatch := make([]int, n)
	for i := range rowMatch {
		rowMatch[i] = -1
	}
	colMatched := make([]bool, m)
	for c := 0; c < nc; c++ {
		mem := members[start[c]:start[c+1]]
		rs, cs := mem[:nrows[c]], mem[nrows[c]:]
		if len(rs) == 0 || len(cs) == 0 {
			continue // isolated row or column
		}
		if len(rs) == 1 && len(cs) == 1 {
			// Connected means the single pair is feasible.
			rowMatch[rs[0]] = cs[0]
			colMatched[cs[0]] = true
			continue
		}
		for k, j := range solveComponent(cost, rs, cs, thresh) {
			if j >= 0 {
				rowMatch[rs[k]] = cs[j]
				colMatched[cs[j]] = true
			}
		}
	}

	res := assignment{}
	for i, j := range rowMatch {
		if j >= 0 {
			res.matches = append(res.matches, [2]int{i, j})
		} else {
			res.unmatchedRows = append(res.unmatchedRows, i)
		}
	}
	for j, ok := range colMatched {
		if !ok {
			res.unmatchedCols = append(res.unmatchedCols, j)
		}
	}
	return res
}

// solveComponent solves the thresholded assignment restricted to rows rs
// and columns cs of cost and returns, for each of rs, an index into cs or
// -1 when the row stays unmatched.
func solveComponent(cost costMatrix, rs, cs []int, thresh float64) []int {
	// The shortest-augmenting-path solver needs rows <= columns; solving the
	// transpose when there are more rows also keeps its O(rows²·cols) small.
	transposed := len(rs) > len(cs)
	rows, cols := len(rs), len(cs)
	if transposed {
		rows, cols = cols, rows
	}
	at := func(r, c int) float64 {
		if transposed {
			return cost.at(rs[c], cs[r])
		}
		return cost.at(rs[r], cs[c])
	}

	// Reduced problem: rows × (cols + rows). Real columns cost (c - thresh)
	// or are forbidden; each row also gets a dummy column at cost 0 meaning
	// "unmatched". Because every row can always fall back to a dummy, the
	// problem is always feasible and the solver never sees a row with only
	// forbidden entries.
	width := cols + rows
	reduced := make([]float64, rows*width)
	for r := 0; r < rows; r++ {
		line := reduced[r*width : (r+1)*width]
		for c := 0; c < cols; c++ {
			v := at(r, c)
			if feasible(v, thresh) {
				line[c] = v - thresh
			} else {
				line[c] = math.Inf(1)
			}
		}
		// Dummy columns are already 0.
	}

	rowToCol := solveRectangular(reduced, rows, width)

	out := make([]int, len(rs))
	for k := range out {
		out[k] = -1
	}
	for r, c := range rowToCol {
		if c < 0 || c >= cols {
			continue // dummy column: row left unmatched
		}
		if transposed {
			out[c] = r
		} else {
			out[r] = c
		}
	}
	return out
}

// feasible reports whether a pair of this cost may be matched.
func feasible(c, thresh float64) bool {
	return c <= thresh && !math.IsInf(c, 0) // NaN fails the comparison
}

func allUnmatched(n, m int) assignment {
	res := assignment{}
	for i := 0; i < n; i++ {
		res.unmatchedRows = append(res.unmatchedRows, i)
	}
	for j := 0; j < m; j++ {
		res.unmatchedCols = append(res.unmatchedCols, j)
	}
	return res
}

// solveRectangular assigns every row of a rows×cols matrix (rows <= cols,
// row-major in a) to a distinct column at minimum total cost, using the
// shortest augmenting path method with dual potentials (the Jonker-Volgenant
// family; the same scheme as SciPy's linear_sum_assignment). +Inf entries
// are forbidden; the caller guarantees a finite assignment exists. It returns
// the column of each row.
//
// Each row is added in turn and a Dijkstra-like search over reduced costs
// a[i][j] - u[i] - v[j] (kept non-negative by the potentials) finds the
// cheapest alternating path to a free column, which is then flipped.
// Complexity O(rows²·cols).
func solveRectangular(a []float64, rows, cols int) []int {
	inf := math.Inf(1)
	// 1-based internal indexing: column 0 and row 0 are the virtual source.
	u := make([]float64, rows+1)
	v := make([]float64, cols+1)
	p := make([]int, cols+1)   // p[j]: row assigned to column j (0 = free)
	way := make([]int, cols+1) // previous column on the shortest path
	minv := make([]float64, cols+1)
	used := make([]bool, cols+1)

	for i := 1; i <= rows; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := p[j0]
			delta := inf
			j1 := -1
			line := a[(i0-1)*cols : i0*cols]
			for j := 1; j <= cols; j++ {
				if used[j] {
					continue
				}
				cur := line[j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if j1 < 0 || minv[j] < delta {
					delta = minv[j]
					j1 = j
				}
			}
			if math.IsInf(delta, 1) {
				// No finite augmenting path. linearAssignment's dummy
				// columns rule this out, so reaching here is a bug.
				panic("tracker: linear assignment has no feasible completion")
			}
			for j := 0; j <= cols; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		// Flip the augmenting path back to the source.
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}

	rowToCol := make([]int, rows)
	for i := range rowToCol {
		rowToCol[i] = -1
	}
	for j := 1; j <= cols; j++ {
		if p[j] != 0 {
			rowToCol[p[j]-1] = j - 1
		}
	}
	return rowToCol
}
