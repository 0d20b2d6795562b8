package alerts

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/pipeline"
)

const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// videoFrames reads the given frames of the real pedestrian video.
func videoFrames(t *testing.T, want ...int) map[int]gocv.Mat {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(vtestPath)
	if err != nil {
		t.Fatalf("open %s: %v", vtestPath, err)
	}
	defer vc.Close()
	out := map[int]gocv.Mat{}
	last := 0
	for _, w := range want {
		last = max(last, w)
	}
	img := gocv.NewMat()
	defer img.Close()
	for i := 0; i <= last; i++ {
		if !vc.Read(&img) || img.Empty() {
			t.Fatalf("read frame %d of %s", i, vtestPath)
		}
		for _, w := range want {
			if w == i {
				out[i] = img.Clone()
			}
		}
	}
	t.Cleanup(func() {
		for _, m := range out {
			m.Close()
		}
	})
	return out
}

// existenceCheck publishes into next after checking that the snapshot each
// alert event links to is already on disk; it keeps the file as it was then.
type existenceCheck struct {
	dir   string
	next  *pipeline.JSONLines
	mu    sync.Mutex
	errs  []string
	files map[int][]byte // by seq
}

func (c *existenceCheck) Publish(e events.Envelope) error {
	var a Alert
	if err := json.Unmarshal(e.Data, &a); err != nil {
		return err
	}
	if a.Snapshot != "" {
		b, err := os.ReadFile(filepath.Join(c.dir, a.ID+".jpg"))
		c.mu.Lock()
		if err != nil {
			c.errs = append(c.errs, fmt.Sprintf("%s #%d published before its snapshot: %v", a.State, a.Seq, err))
		}
		c.files[a.Seq] = b
		c.mu.Unlock()
	}
	return c.next.Publish(e)
}

// meanDiff is the mean absolute difference of a and b below the caption
// band, per channel value.
func meanDiff(t *testing.T, a, b gocv.Mat) float64 {
	t.Helper()
	if a.Cols() != b.Cols() || a.Rows() != b.Rows() {
		t.Fatalf("sizes %dx%d and %dx%d", a.Cols(), a.Rows(), b.Cols(), b.Rows())
	}
	r := image.Rect(0, 60, a.Cols(), a.Rows())
	ra, rb := a.Region(r), b.Region(r)
	defer ra.Close()
	defer rb.Close()
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(ra, rb, &d)
	m := d.Mean()
	return (m.Val1 + m.Val2 + m.Val3) / 3
}

func decodeJPEG(t *testing.T, b []byte) gocv.Mat {
	t.Helper()
	m, err := gocv.IMDecode(b, gocv.IMReadColor)
	if err != nil || m.Empty() {
		t.Fatalf("decode snapshot (%d bytes): %v", len(b), err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// The best frame is cloned at the raise (the pipeline closes its image
// right after Result), saved through real Snapshots before the step that
// links to it is published, replaced by a clearly better frame, and served
// at the link the event carries.
func TestSnapshotOfBestFrame(t *testing.T) {
	frames := videoFrames(t, 100, 300)
	first := frames[100]
	better := gocv.NewMat() // another real frame, mirrored so it cannot pass for the first
	defer better.Close()
	gocv.Flip(frames[300], &better, 1)

	dir := t.TempDir()
	snaps, err := evidence.OpenSnapshots(evidence.SnapshotConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.Handle("/snapshots/", http.StripPrefix("/snapshots", snaps.Handler()))

	var check *existenceCheck
	// The manager runs only after every frame went through the engine and
	// was closed, so a step holding the borrowed image instead of a clone
	// could not go unnoticed.
	h := build(t, []Rule{quickKnife}, func(mc *ManagerConfig, _ *EngineConfig) {
		check = &existenceCheck{dir: dir, next: mc.Pub.(*pipeline.JSONLines), files: map[int][]byte{}}
		mc.Pub, mc.Snapshots, mc.PublicURL = check, snaps, srv.URL+"/"
	})
	for i := 0; i <= 210; i++ {
		s, src := float32(0), first
		switch {
		case i == 150: // clearly better, UpdateEvery after the raise
			s, src = 0.95, better
		case i < 150:
			s = 0.6
		}
		r := knifeFrame("till", i, s)
		img := src.Clone()
		r.Image = img
		h.e.Result(r)
		img.Close() // the pipeline releases the frame after the call
	}
	h.e.Result(final("till", 210))
	h.run()
	got := h.stop()
	if len(check.errs) > 0 {
		t.Fatal(check.errs)
	}
	if want := []State{StateRaised, StateUpdated, StateResolved}; len(got) != 3 || got[0].Frame != 0 || got[1].Frame != 150 {
		t.Fatalf("steps %+v, want %v at frames 0, 150, 200", got, want)
	}
	link := srv.URL + "/snapshots/" + got[0].ID + ".jpg"
	for _, a := range got {
		if a.Snapshot != link {
			t.Fatalf("%s #%d links %q, want %q", a.State, a.Seq, a.Snapshot, link)
		}
	}
	if st := snaps.Stats(); st.Saved != 2 || st.Files != 1 || st.Errors != 0 {
		t.Fatalf("snapshot stats %+v, want 2 saves of one file", st)
	}
	// At the raise the file showed the first frame; from the update on, the better one.
	raised, updated := decodeJPEG(t, check.files[1]), decodeJPEG(t, check.files[2])
	same1, other1 := meanDiff(t, raised, first), meanDiff(t, raised, better)
	same2, other2 := meanDiff(t, updated, better), meanDiff(t, updated, first)
	t.Logf("raised snapshot: %.1f from its frame, %.1f from the other; updated: %.1f, %.1f", same1, other1, same2, other2)
	if same1 > 10 || same2 > 10 || other1 < 4*same1 || other2 < 4*same2 {
		t.Fatal("snapshots do not show their best frames")
	}
	// The knife box is drawn red (BGR 0,0,255) on its left edge.
	if px := updated.GetVecbAt(250, 205); px[2] < 180 || px[1] > 90 || px[0] > 90 {
		t.Fatalf("pixel on the knife box %v, want red", px)
	}

	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || string(body) != string(check.files[2]) {
		t.Fatalf("GET %s: %s %s, %d bytes", link, resp.Status, resp.Header.Get("Content-Type"), len(body))
	}
}
