package e2e

import (
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/alerts"
)

// The close view of testdata/alerts/README.md: a fixed 4:3 crop of vtest
// around the fire-assembly-point sign where man A stands still (frames
// 20-150), zoomed to 768x576 as a camera close to him would see it.
var (
	closeCrop = image.Rect(300, 150, 484, 288)
	closeSize = image.Pt(768, 576)
)

// The knife as README.md places it in the close view: knife.png scaled to
// 171x20 (half man A's height in the view), rotated +135 degrees (blade
// up-left), top-left at (178,135), beside his left shoulder; only in the
// frames in which he stands there.
const (
	knifeWidth, knifeHeight = 171, 20
	knifeAngle              = 135
	knifeFirst, knifeLast   = 20, 150
	weaponClipLast          = 160
)

var knifeAt = image.Pt(178, 135)

// weaponConfig watches the close view with the weapon classes of the COCO
// model. The detector keeps scores down to 0.2 so that the rule's
// min_score of 0.25 is what decides: README.md measured the same view
// without the knife at 0.194 at most for any weapon class, with it 103 of
// 131 frames at 0.25 or more.
const weaponConfig = `
store:
  id: e2e-store
  name: Close view
  timezone: UTC
model:
  name: yolox_nano_416_coco
  dir: "{{MODELS}}"
  score_threshold: 0.2
  classes: [person, knife, scissors, baseball bat]
cameras:
  - id: close
    source: "{{TMP}}/close-knife.avi"
    start_time: 2026-11-23T14:00:00Z
    realtime: false
    fps: 0
kafka:
  embedded_addr: 127.0.0.1:0
  spill_dir: "{{TMP}}/spill"
outputs:
  stdout: false
alerts:
  notify_level: 2
  public_url: ` + publicURL + `
  snapshots:
    dir: "{{TMP}}/snapshots"
  rules:
    - name: weapon
      kind: weapon
      classes: [knife, scissors, baseball bat]
      min_score: 0.25
sms:
  account_sid: ` + fakeSID + `
  auth_token: ` + fakeToken + `
  from: "` + fakeFrom + `"
  escalation:
    - name: store manager
      numbers: ["` + fakeMgr1 + `", "` + fakeMgr2 + `"]
    - name: hq
      numbers: ["` + fakeHQ + `"]
      after: 1h
  state_dir: "{{TMP}}/sms"
`

// TestWeaponAlertOnCloseViewWithKnife runs a clip built from real footage
// through the whole product and checks that a knife next to a person is a
// threat-to-life alert that reaches the managers. The clip is vtest.avi's
// frames 0-160 seen through the close view of testdata/alerts/README.md,
// with a real photograph of a table knife (public domain, knife.png)
// pasted beside man A in frames 20-150. The default model (YOLOX-Nano,
// COCO) takes the knife at this size for a "baseball bat"; either weapon
// class is a weapon to the rule.
func TestWeaponAlertOnCloseViewWithKnife(t *testing.T) {
	tw := newTwilioServer(t)
	// runAlerts fills {{TMP}} with its own temporary directory; the clip
	// is written there first, through the same substitution.
	dir := t.TempDir()
	clip := filepath.Join(dir, "close-knife.avi")
	writeKnifeClip(t, clip)
	run := runAlerts(t, strings.ReplaceAll(weaponConfig, "{{TMP}}/close-knife.avi", clip), tw)

	st := run.sum.Cameras[0].Stats
	if st.Decoded != weaponClipLast+1 || st.Analysed != st.Decoded || st.Dropped != 0 {
		t.Fatalf("frames: %+v, want all %d decoded and analysed", st, weaponClipLast+1)
	}
	ws := run.byRule("weapon")
	if len(run.stories) != 1 || len(ws) != 1 {
		t.Fatalf("%d alerts (%d weapon), want exactly one weapon alert", len(run.stories), len(ws))
	}
	a, end := ws[0].raised(), ws[0].resolved()
	best := ws[0].Steps[0]
	for _, s := range ws[0].Steps {
		if s.State != alerts.StateResolved && s.Score > best.Score {
			best = s
		}
	}
	started := run.frame(a.Started)
	t.Logf("weapon: alert %s tracks %v class %q score %.3f started f%d raised f%d box %.0f; best f%d %.3f; ended f%d after %.0f frames (%d steps); message %q",
		a.ID, end.TrackIDs, a.Class, a.Score, started, a.Frame, a.Box, best.Frame, best.Score, run.frame(end.Ended), end.Value, len(ws[0].Steps), a.Message)
	if a.Kind != alerts.KindWeapon || a.Level != alerts.LevelLife || a.Camera != "close" {
		t.Errorf("raised %+v, want a level 4 weapon alert on camera close", a)
	}
	if a.Class != "baseball bat" && a.Class != "knife" && a.Class != "scissors" {
		t.Errorf("class %q, want a weapon class", a.Class)
	}
	// Evidence: 3 of 5 frames, all within the knife's frames, the weapon
	// box on the pasted knife, the person next to it tracked.
	if started < knifeFirst || a.Frame > started+4 || a.Value < 3 || a.Score < 0.25 {
		t.Errorf("started f%d raised f%d with %v frames at score %.3f, want 3 of 5 frames from f%d on at >= 0.25",
			started, a.Frame, a.Value, a.Score, knifeFirst)
	}
	knife := image.Rect(knifeAt.X, knifeAt.Y, knifeAt.X+121, knifeAt.Y+134)
	for _, s := range ws[0].Steps {
		if s.State == alerts.StateResolved {
			continue
		}
		c := image.Pt(int((s.Box[0]+s.Box[2])/2), int((s.Box[1]+s.Box[3])/2))
		if s.Frame < knifeFirst || s.Frame > knifeLast || !c.In(knife) {
			t.Errorf("step %s #%d: best frame f%d, box %.0f: want a frame in f%d-%d and the box on the knife %v",
				s.State, s.Seq, s.Frame, s.Box, knifeFirst, knifeLast, knife)
		}
	}
	if e := run.frame(end.Ended); e < a.Frame || e > knifeLast || len(a.TrackIDs) == 0 {
		t.Errorf("ended f%d (raised f%d), tracks %v: want the end within the knife's frames and the holder tracked", e, a.Frame, a.TrackIDs)
	}
	run.checkSnapshot(t, a, closeSize.X, closeSize.Y)
	run.checkTexts(t, a, fakeMgr1, fakeMgr2)
	if len(run.posts) != 2 || run.gets != 0 {
		t.Errorf("%d texts, %d list requests, want 2 texts (one per tier-0 number)", len(run.posts), run.gets)
	}
	for _, p := range run.posts {
		if b := p.Form.Get("Body"); !strings.Contains(b, "next to a person") {
			t.Errorf("text %q does not say what was seen", b)
		}
	}
	run.checkJournal(t)
	run.checkSecrets(t)
}

// writeKnifeClip writes the test clip as MJPG AVI at 10 fps: each of
// vtest's frames 0-160 cropped to the close view and zoomed (cubic), the
// knife alpha-blended in frames knifeFirst-knifeLast after the zoom, so it
// is as sharp as a real one would be.
func writeKnifeClip(t *testing.T, path string) {
	t.Helper()
	knife := knifeImage(t)
	defer knife.Close()
	if knife.Cols() != 121 || knife.Rows() != 134 {
		t.Fatalf("rotated knife %dx%d, README.md's recipe gives 121x134", knife.Cols(), knife.Rows())
	}
	vc, err := gocv.VideoCaptureFile(vtestPath)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	vw, err := gocv.VideoWriterFile(path, "MJPG", 10, closeSize.X, closeSize.Y, true)
	if err != nil {
		t.Fatal(err)
	}
	frame, view := gocv.NewMat(), gocv.NewMat()
	defer frame.Close()
	defer view.Close()
	for i := 0; i <= weaponClipLast; i++ {
		if !vc.Read(&frame) || frame.Empty() {
			t.Fatalf("vtest.avi frame %d: unreadable", i)
		}
		crop := frame.Region(closeCrop)
		gocv.Resize(crop, &view, closeSize, 0, 0, gocv.InterpolationCubic)
		crop.Close()
		if i >= knifeFirst && i <= knifeLast {
			blend(view, knife, knifeAt)
		}
		if err := vw.Write(view); err != nil {
			t.Fatal(err)
		}
	}
	if err := vw.Close(); err != nil {
		t.Fatal(err)
	}
}

// knifeImage loads testdata/alerts/knife.png (BGRA), scales it to
// knifeWidth x knifeHeight, rotates it by knifeAngle degrees
// counter-clockwise on a canvas big enough to hold it, and crops it to its
// opaque part.
func knifeImage(t *testing.T) gocv.Mat {
	t.Helper()
	src := gocv.IMRead(filepath.Join(repoRoot, "testdata", "alerts", "knife.png"), gocv.IMReadUnchanged)
	defer src.Close()
	if src.Empty() || src.Channels() != 4 {
		t.Fatalf("knife.png: empty %v, %d channels, want RGBA", src.Empty(), src.Channels())
	}
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, image.Pt(knifeWidth, knifeHeight), 0, 0, gocv.InterpolationArea)
	d := int(math.Ceil(math.Hypot(knifeWidth, knifeHeight))) + 2
	canvas := gocv.NewMatWithSize(d, d, gocv.MatTypeCV8UC4)
	defer canvas.Close()
	x0, y0 := (d-knifeWidth)/2, (d-knifeHeight)/2
	roi := canvas.Region(image.Rect(x0, y0, x0+knifeWidth, y0+knifeHeight))
	scaled.CopyTo(&roi)
	roi.Close()
	rot := gocv.GetRotationMatrix2D(image.Pt(d/2, d/2), knifeAngle, 1)
	defer rot.Close()
	turned := gocv.NewMat()
	defer turned.Close()
	gocv.WarpAffine(canvas, &turned, rot, image.Pt(d, d))
	opaque := image.Rectangle{}
	for y := range d {
		for x := range d {
			if turned.GetUCharAt(y, x*4+3) > 0 {
				opaque = opaque.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	part := turned.Region(opaque)
	defer part.Close()
	return part.Clone()
}

// blend alpha-blends obj (BGRA) onto img (BGR) with obj's top-left at at.
func blend(img, obj gocv.Mat, at image.Point) {
	r := image.Rect(at.X, at.Y, at.X+obj.Cols(), at.Y+obj.Rows()).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := obj.GetVecbAt(y-at.Y, x-at.X)
			a := float64(o[3]) / 255
			if a == 0 {
				continue
			}
			f := img.GetVecbAt(y, x)
			for c := range 3 {
				img.SetUCharAt(y, x*3+c, uint8(float64(o[c])*a+float64(f[c])*(1-a)+0.5))
			}
		}
	}
}
