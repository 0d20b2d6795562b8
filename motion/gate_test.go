package motion

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// check runs one Check and fails the test unless it returns want.
func check(t *testing.T, g *Gate, img gocv.Mat, at time.Duration, want string) Decision {
	t.Helper()
	d := g.Check(img, at)
	if d.Reason != want || d.Run != (want != ReasonStill) {
		t.Fatalf("at %v: Check = %+v, want reason %q", at, d, want)
	}
	if d.Motion < 0 || d.Motion > 1 {
		t.Fatalf("at %v: Motion = %v, outside [0,1]", at, d.Motion)
	}
	return d
}

func TestWalkingPeopleRun(t *testing.T) {
	// Frames 200-259: several people walk across the plaza.
	frames := vtestFrames(t, 200, 60)
	for _, step := range []int{1, 2} { // 10 and 5 analysed fps
		g := newGate(t, DefaultConfig())
		check(t, g, frames[0], 0, ReasonFirst)
		for i := step; i < len(frames); i += step {
			d := check(t, g, frames[i], time.Duration(i)*frameStep, ReasonMotion)
			if d.Motion < g.cfg.MinArea {
				t.Fatalf("frame %d: motion %v below MinArea but reason motion", 200+i, d.Motion)
			}
		}
	}
}

func TestStillFrameRefreshes(t *testing.T) {
	frames := vtestFrames(t, 200, 2)
	still, other := frames[0], frames[1]
	g := newGate(t, DefaultConfig())
	check(t, g, still, 0, ReasonFirst)
	// The same frame again: nothing changed, so no run until a second of
	// stream time has passed since the last run.
	for at := frameStep; at < time.Second; at += frameStep {
		if d := check(t, g, still, at, ReasonStill); d.Motion != 0 {
			t.Fatalf("at %v: identical frame has motion %v", at, d.Motion)
		}
	}
	check(t, g, still, time.Second, ReasonRefresh)
	check(t, g, still, time.Second+frameStep, ReasonStill)
	check(t, g, still, 2*time.Second-time.Nanosecond, ReasonStill)
	check(t, g, still, 2*time.Second, ReasonRefresh)

	// A motion run restarts the refresh clock, and its frame becomes the
	// reference.
	check(t, g, other, 2500*time.Millisecond, ReasonMotion)
	for at := 2600 * time.Millisecond; at < 3500*time.Millisecond; at += frameStep {
		check(t, g, other, at, ReasonStill)
	}
	check(t, g, other, 3500*time.Millisecond, ReasonRefresh)

	// Stream time going backwards (a file looping, a reconnect) runs.
	check(t, g, other, 500*time.Millisecond, ReasonRefresh)
	check(t, g, other, 600*time.Millisecond, ReasonStill)
}

// TestSyntheticBlock moves a white block over a real still frame: a small
// one stays under MinArea, a large one is motion, and the verdict flips
// exactly at MinArea.
func TestSyntheticBlock(t *testing.T) {
	bg := vtestFrames(t, 420, 1)[0]
	// The lawn in the lower left: nobody walks there in frame 420.
	move := func(t *testing.T, cfg Config, size image.Point, dx int, want string) (motion []float64) {
		g := newGate(t, cfg)
		check(t, g, withBlock(t, bg, image.Pt(40, 380), size, white), 0, ReasonFirst)
		for i := 1; i <= 5; i++ {
			img := withBlock(t, bg, image.Pt(40+i*dx, 380), size, white)
			d := check(t, g, img, time.Duration(i)*frameStep, want)
			motion = append(motion, d.Motion)
		}
		return motion
	}
	small := move(t, DefaultConfig(), image.Pt(8, 8), 24, ReasonStill)
	t.Logf("8x8 block moving 24 px/frame: motion %v (MinArea %v)", small, DefaultConfig().MinArea)
	if small[0] == 0 {
		t.Fatal("the small block changed no pixel at all; the test would prove nothing")
	}
	large := move(t, DefaultConfig(), image.Pt(60, 60), 30, ReasonMotion)
	t.Logf("60x60 block moving 30 px/frame: motion %v", large)

	// The first step of the large block is one exact change; MinArea just
	// above it is still, at it motion.
	m := large[0]
	cfg := DefaultConfig()
	cfg.MinArea = m + 0.5/shrunkPixels
	g := newGate(t, cfg)
	check(t, g, withBlock(t, bg, image.Pt(40, 380), image.Pt(60, 60), white), 0, ReasonFirst)
	check(t, g, withBlock(t, bg, image.Pt(70, 380), image.Pt(60, 60), white), frameStep, ReasonStill)
	cfg.MinArea = m
	g = newGate(t, cfg)
	check(t, g, withBlock(t, bg, image.Pt(40, 380), image.Pt(60, 60), white), 0, ReasonFirst)
	check(t, g, withBlock(t, bg, image.Pt(70, 380), image.Pt(60, 60), white), frameStep, ReasonMotion)
}

// TestSlowMoverAccumulates is the reason the reference is the last analysed
// frame: a person-sized block, 60 gray levels off the lawn, moving 2 px per
// frame changes too little from frame to frame to count, yet triggers a run
// once its movement since the last run adds up, long before the refresh.
func TestSlowMoverAccumulates(t *testing.T) {
	bg := vtestFrames(t, 420, 1)[0]
	size := image.Pt(40, 100)
	at := func(i int) gocv.Mat { return withBlock(t, bg, image.Pt(100+2*i, 370), size, grey) }

	g := newGate(t, DefaultConfig())
	check(t, g, at(0), 0, ReasonFirst)
	var hit int
	for i := 1; i < 10; i++ {
		d := g.Check(at(i), time.Duration(i)*frameStep)
		if d.Run {
			if d.Reason != ReasonMotion {
				t.Fatalf("frame %d: %+v, want a motion run", i, d)
			}
			hit = i
			break
		}
	}
	if hit < 2 {
		t.Fatalf("slow block: first motion at frame %d, want a skipped frame first (per-frame change under MinArea) and a run within a second", hit)
	}
	// Frame to frame, the change at the run is under MinArea: only the
	// accumulated change made it motion.
	pair := newGate(t, DefaultConfig())
	check(t, pair, at(hit-1), 0, ReasonFirst)
	d := check(t, pair, at(hit), frameStep, ReasonStill)
	t.Logf("2 px/frame block: run after %d frames; frame-to-frame motion %v", hit, d.Motion)
}

func TestSizeOrFormatChangeResets(t *testing.T) {
	frame := vtestFrames(t, 200, 1)[0]
	small, gray, bgra := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer small.Close()
	defer gray.Close()
	defer bgra.Close()
	gocv.Resize(frame, &small, image.Pt(640, 480), 0, 0, gocv.InterpolationLinear)
	gocv.CvtColor(frame, &gray, gocv.ColorBGRToGray)
	gocv.CvtColor(frame, &bgra, gocv.ColorBGRToBGRA)

	g := newGate(t, DefaultConfig())
	st := time.Duration(0)
	next := func() time.Duration { st += frameStep; return st }
	check(t, g, frame, next(), ReasonFirst)
	check(t, g, frame, next(), ReasonStill)
	for _, img := range []gocv.Mat{small, frame, gray, bgra} {
		check(t, g, img, next(), ReasonFirst)
		check(t, g, img, next(), ReasonStill)
	}
	if g.size != image.Pt(160, 120) {
		t.Fatalf("shrunk size %v, want 160x120", g.size)
	}

	// A frame narrower than Width is compared at its own size.
	tiny := gocv.NewMat()
	defer tiny.Close()
	gocv.Resize(frame, &tiny, image.Pt(100, 75), 0, 0, gocv.InterpolationLinear)
	check(t, g, tiny, next(), ReasonFirst)
	check(t, g, tiny, next(), ReasonStill)
	if g.size != image.Pt(100, 75) {
		t.Fatalf("shrunk size %v, want 100x75", g.size)
	}

	// 1280x720 keeps its aspect ratio.
	hd := gocv.NewMat()
	defer hd.Close()
	gocv.Resize(frame, &hd, image.Pt(1280, 720), 0, 0, gocv.InterpolationLinear)
	check(t, g, hd, next(), ReasonFirst)
	if g.size != image.Pt(160, 90) {
		t.Fatalf("shrunk size %v, want 160x90", g.size)
	}
}

func TestUnreadableFrameRuns(t *testing.T) {
	frame := vtestFrames(t, 200, 1)[0]
	g := newGate(t, DefaultConfig())
	check(t, g, frame, 0, ReasonFirst)
	empty := gocv.NewMat()
	defer empty.Close()
	check(t, g, empty, frameStep, ReasonFirst)
	float := gocv.NewMatWithSize(576, 768, gocv.MatTypeCV32FC3)
	defer float.Close()
	check(t, g, float, 2*frameStep, ReasonFirst)
	// The reference was dropped, so the same frame as before starts over.
	check(t, g, frame, 3*frameStep, ReasonFirst)
	check(t, g, frame, 4*frameStep, ReasonStill)
}

func TestCheckAllocatesNothing(t *testing.T) {
	frames := vtestFrames(t, 200, 2)
	g := newGate(t, DefaultConfig())
	var i int
	step := func() {
		g.Check(frames[i%2], time.Duration(i)*frameStep)
		i++
	}
	step()
	step() // all Mats have their size now
	if n := testing.AllocsPerRun(50, step); n != 0 {
		t.Fatalf("Check allocates %v times per frame after warm-up", n)
	}
}

func TestClose(t *testing.T) {
	frame := vtestFrames(t, 200, 1)[0]
	g, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	g.Check(frame, 0)
	g.Close()
	g.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("Check on a closed Gate did not panic")
		}
	}()
	g.Check(frame, frameStep)
}
