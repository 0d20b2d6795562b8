package tracker

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/storesight/storesight/geom"
)

// The reference below is a literal transcription of ByteTrack's
// kalman_filter.py with dense matrices and a Gauss-Jordan inverse. The
// production filter uses block structure and Cholesky; agreeing with the
// textbook form over long random sequences checks those shortcuts.

type dense [][]float64

func newDense(r, c int) dense {
	d := make(dense, r)
	for i := range d {
		d[i] = make([]float64, c)
	}
	return d
}

func (a dense) mul(b dense) dense {
	out := newDense(len(a), len(b[0]))
	for i := range a {
		for j := range b[0] {
			for k := range b {
				out[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return out
}

func (a dense) t() dense {
	out := newDense(len(a[0]), len(a))
	for i := range a {
		for j := range a[i] {
			out[j][i] = a[i][j]
		}
	}
	return out
}

func (a dense) add(b dense, sign float64) dense {
	out := newDense(len(a), len(a[0]))
	for i := range a {
		for j := range a[i] {
			out[i][j] = a[i][j] + sign*b[i][j]
		}
	}
	return out
}

func (a dense) inv() dense {
	n := len(a)
	m := newDense(n, 2*n)
	for i := range a {
		copy(m[i], a[i])
		m[i][n+i] = 1
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		pv := m[c][c]
		for j := range m[c] {
			m[c][j] /= pv
		}
		for r := 0; r < n; r++ {
			if r != c {
				f := m[r][c]
				for j := range m[r] {
					m[r][j] -= f * m[c][j]
				}
			}
		}
	}
	out := newDense(n, n)
	for i := range out {
		copy(out[i], m[i][n:])
	}
	return out
}

func diag(v ...float64) dense {
	d := newDense(len(v), len(v))
	for i, x := range v {
		d[i][i] = x * x
	}
	return d
}

type refKalman struct {
	mean dense // 8×1
	cov  dense
}

func refMotion() dense {
	f := newDense(8, 8)
	for i := 0; i < 8; i++ {
		f[i][i] = 1
	}
	for i := 0; i < 4; i++ {
		f[i][i+4] = 1
	}
	return f
}

func refUpdateMat() dense {
	h := newDense(4, 8)
	for i := 0; i < 4; i++ {
		h[i][i] = 1
	}
	return h
}

func (r *refKalman) predict() {
	h := r.mean[3][0]
	wp, wv := stdWeightPosition, stdWeightVelocity
	q := diag(wp*h, wp*h, 1e-2, wp*h, wv*h, wv*h, 1e-5, wv*h)
	f := refMotion()
	r.mean = f.mul(r.mean)
	r.cov = f.mul(r.cov).mul(f.t()).add(q, 1)
}

func (r *refKalman) update(z xyah) {
	h := r.mean[3][0]
	wp := stdWeightPosition
	hm := refUpdateMat()
	s := hm.mul(r.cov).mul(hm.t()).add(diag(wp*h, wp*h, 1e-1, wp*h), 1)
	k := r.cov.mul(hm.t()).mul(s.inv())
	zz := newDense(4, 1)
	for i := range z {
		zz[i][0] = z[i]
	}
	innov := zz.add(hm.mul(r.mean), -1)
	r.mean = r.mean.add(k.mul(innov), 1)
	r.cov = r.cov.add(k.mul(s).mul(k.t()), -1)
}

func assertClose(t *testing.T, what string, got, want, relTol float64) {
	t.Helper()
	if d := math.Abs(got - want); d > relTol*math.Max(1, math.Abs(want)) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestKalmanMatchesDenseReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	z0 := xyah{320, 240, 0.4, 120}
	k := newKalman(z0)
	ref := refKalman{mean: newDense(8, 1), cov: newDense(8, 8)}
	for i := 0; i < 8; i++ {
		ref.mean[i][0] = k.mean[i]
		ref.cov[i][i] = k.cov[i][i]
	}
	// Initial covariance per ByteTrack: (2·h/20)² for position, (10·h/160)²
	// for velocity.
	assertClose(t, "initial var x", k.cov[0][0], math.Pow(2*120.0/20, 2), 1e-12)
	assertClose(t, "initial var vh", k.cov[7][7], math.Pow(10*120.0/160, 2), 1e-12)

	truth := z0
	for step := 0; step < 200; step++ {
		k.predict()
		ref.predict()
		truth[0] += 3
		truth[1] += 0.5
		truth[3] += 0.1
		if rng.IntN(5) != 0 { // some frames without a measurement
			z := truth
			z[0] += rng.NormFloat64() * 2
			z[1] += rng.NormFloat64() * 2
			z[2] += rng.NormFloat64() * 0.01
			z[3] += rng.NormFloat64() * 2
			if !k.update(z) {
				t.Fatalf("step %d: update reported non-PD innovation covariance", step)
			}
			ref.update(z)
		}
		for i := 0; i < 8; i++ {
			assertClose(t, "mean", k.mean[i], ref.mean[i][0], 1e-9)
			for j := 0; j < 8; j++ {
				assertClose(t, "cov", k.cov[i][j], ref.cov[i][j], 1e-9)
			}
		}
	}
	// And the filter does its job: velocity converged to the true motion.
	assertClose(t, "vx", k.mean[4], 3, 0.15)
	assertClose(t, "vy", k.mean[5], 0.5, 0.3)
}

func TestKalmanPredictExtrapolatesVelocity(t *testing.T) {
	k := newKalman(xyah{100, 100, 0.5, 100})
	for i := 1; i <= 30; i++ {
		k.predict()
		k.update(xyah{100 + 4*float64(i), 100, 0.5, 100})
	}
	x := k.mean[0]
	for i := 0; i < 10; i++ {
		k.predict()
	}
	// Ten frames of pure prediction keep moving at ~4 px/frame.
	assertClose(t, "extrapolated x", k.mean[0]-x, 40, 0.05)
	if k.cov[0][0] <= 0 || k.cov[4][4] <= 0 {
		t.Fatalf("covariance lost positivity: %v %v", k.cov[0][0], k.cov[4][4])
	}
}

func TestKalmanRejectsNonFinite(t *testing.T) {
	k := newKalman(xyah{100, 100, 0.5, 100})
	k.cov[0][0] = math.NaN()
	before := k.mean
	if k.update(xyah{1, 2, 0.5, 100}) {
		t.Fatal("update accepted a NaN covariance")
	}
	if k.mean != before {
		t.Fatal("failed update changed the state")
	}
}

func TestXYAHRoundTrip(t *testing.T) {
	b := geom.Box{X1: 10, Y1: 20, X2: 50, Y2: 120}
	z := boxToXYAH(b)
	if z != (xyah{30, 70, 0.4, 100}) {
		t.Fatalf("boxToXYAH = %v", z)
	}
	got := z.box()
	for _, d := range []float64{got.X1 - b.X1, got.Y1 - b.Y1, got.X2 - b.X2, got.Y2 - b.Y2} {
		if math.Abs(d) > 1e-12 {
			t.Fatalf("round trip %v -> %v", b, got)
		}
	}
	// A negative predicted height collapses to an empty box instead of an
	// inverted one.
	if e := (xyah{5, 5, 0.5, -3}).box(); e.Area() != 0 {
		t.Fatalf("negative height gave area %v", e.Area())
	}
}
