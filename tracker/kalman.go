package tracker

import (
	"math"

	"github.com/storesight/storesight/geom"
)

// ByteTrack's (and DeepSORT's) noise model: standard deviations are
// proportional to the box height, so a distant small person and a close
// large one get the same relative uncertainty.
const (
	stdWeightPosition = 1.0 / 20
	stdWeightVelocity = 1.0 / 160
)

// xyah is a box as the Kalman filter measures it: centre x, centre y,
// aspect ratio w/h and height. Aspect and height change slowly for a walking
// person while the centre moves, which suits a constant-velocity model
// better than corner coordinates.
type xyah [4]float64

func boxToXYAH(b geom.Box) xyah {
	c := b.Center()
	h := b.H()
	return xyah{c.X, c.Y, b.W() / h, h}
}

func (z xyah) box() geom.Box {
	h := math.Max(z[3], 0)
	w := math.Max(z[2]*h, 0)
	return geom.Box{X1: z[0] - w/2, Y1: z[1] - h/2, X2: z[0] + w/2, Y2: z[1] + h/2}
}

// kalman is the constant-velocity Kalman filter ByteTrack runs per track
// (KalmanFilter in yolox/tracker/kalman_filter.py). The state is
// (x, y, a, h, vx, vy, va, vh); one step is one frame; the measurement is
// the first four components.
//
// The matrices are fixed-size arrays and the products exploit the shape of
// the motion matrix F = [[I, I], [0, I]] and the measurement matrix
// H = [I, 0], so a predict/update costs a few hundred flops and no
// allocation.
type kalman struct {
	mean [8]float64
	cov  [8][8]float64
}

// newKalman initialises the filter from a first measurement with zero
// velocity and ByteTrack's initial uncertainties.
func newKalman(z xyah) kalman {
	var k kalman
	copy(k.mean[:4], z[:])
	h := z[3]
	std := [8]float64{
		2 * stdWeightPosition * h,
		2 * stdWeightPosition * h,
		1e-2,
		2 * stdWeightPosition * h,
		10 * stdWeightVelocity * h,
		10 * stdWeightVelocity * h,
		1e-5,
		10 * stdWeightVelocity * h,
	}
	for i, s := range std {
		k.cov[i][i] = s * s
	}
	return k
}

// predict advances the state one frame: mean = F·mean,
// cov = F·cov·Fᵀ + Q, with Q scaled by the current height.
func (k *kalman) predict() {
	h := k.mean[3]
	for i := 0; i < 4; i++ {
		k.mean[i] += k.mean[i+4]
	}

	// With P = [[A, B], [Bᵀ, D]] in 4×4 blocks, F·P·Fᵀ is
	// [[A+B+Bᵀ+D, B+D], [Bᵀ+D, D]]. Row ops (add row i+4 to row i) then
	// column ops (add column j+4 to column j) compute exactly that.
	p := &k.cov
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			p[i][j] += p[i+4][j]
		}
	}
	for i := 0; i < 8; i++ {
		for j := 0; j < 4; j++ {
			p[i][j] += p[i][j+4]
		}
	}

	q := [8]float64{
		stdWeightPosition * h,
		stdWeightPosition * h,
		1e-2,
		stdWeightPosition * h,
		stdWeightVelocity * h,
		stdWeightVelocity * h,
		1e-5,
		stdWeightVelocity * h,
	}
	for i, s := range q {
		p[i][i] += s * s
	}
}

// update corrects the state with a measurement. It returns false, leaving
// the state untouched, when the innovation covariance is not positive
// definite (only possible after non-finite input).
func (k *kalman) update(z xyah) bool {
	h := k.mean[3]
	r := [4]float64{
		stdWeightPosition * h,
		stdWeightPosition * h,
		1e-1,
		stdWeightPosition * h,
	}
	// S = H·P·Hᵀ + R is the top-left block of P plus R.
	var s [4][4]float64
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			s[i][j] = k.cov[i][j]
		}
		s[i][i] += r[i] * r[i]
	}
	l, ok := cholesky4(s)
	if !ok {
		return false
	}

	// P·Hᵀ is the first four columns of P. The gain K = P·Hᵀ·S⁻¹; since S
	// is symmetric each row of K solves S·kᵀ = (row of P·Hᵀ)ᵀ.
	var gain [8][4]float64
	for i := 0; i < 8; i++ {
		var b [4]float64
		copy(b[:], k.cov[i][:4])
		gain[i] = choleskySolve4(l, b)
	}

	var innov [4]float64
	for i := 0; i < 4; i++ {
		innov[i] = z[i] - k.mean[i]
	}
	for i := 0; i < 8; i++ {
		for j := 0; j < 4; j++ {
			k.mean[i] += gain[i][j] * innov[j]
		}
	}

	// P' = P - K·S·Kᵀ = P - K·(P·Hᵀ)ᵀ, because K·S = P·Hᵀ. Computed from
	// the old P into a copy, then symmetrised against rounding drift.
	old := k.cov
	for i := 0; i < 8; i++ {
		for j := 0; j < 8; j++ {
			var sum float64
			for m := 0; m < 4; m++ {
				sum += gain[i][m] * old[j][m]
			}
			k.cov[i][j] = old[i][j] - sum
		}
	}
	for i := 0; i < 8; i++ {
		for j := i + 1; j < 8; j++ {
			avg := (k.cov[i][j] + k.cov[j][i]) / 2
			k.cov[i][j], k.cov[j][i] = avg, avg
		}
	}
	return true
}

// measurement is the filter's current estimate of the measured box.
func (k *kalman) measurement() xyah {
	return xyah{k.mean[0], k.mean[1], k.mean[2], k.mean[3]}
}

// cholesky4 returns the lower-triangular L with L·Lᵀ = s, or false if s is
// not (numerically) positive definite.
func cholesky4(s [4][4]float64) ([4][4]float64, bool) {
	var l [4][4]float64
	for i := 0; i < 4; i++ {
		for j := 0; j <= i; j++ {
			sum := s[i][j]
			for m := 0; m < j; m++ {
				sum -= l[i][m] * l[j][m]
			}
			if i == j {
				if !(sum > 0) { // also catches NaN
					return l, false
				}
				l[i][i] = math.Sqrt(sum)
			} else {
				l[i][j] = sum / l[j][j]
			}
		}
	}
	return l, true
}

// choleskySolve4 solves L·Lᵀ·x = b by forward then back substitution.
func choleskySolve4(l [4][4]float64, b [4]float64) [4]float64 {
	var y [4]float64
	for i := 0; i < 4; i++ {
		sum := b[i]
		for m := 0; m < i; m++ {
			sum -= l[i][m] * y[m]
		}
		y[i] = sum / l[i][i]
	}
	var x [4]float64
	for i := 3; i >= 0; i-- {
		sum := y[i]
		for m := i + 1; m < 4; m++ {
			sum -= l[m][i] * x[m]
		}
		x[i] = sum / l[i][i]
	}
	return x
}
