package evidence

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/geom"
)

const vtestAVI = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// snapFrame is picture n of vtest.avi (768x576 BGR, pedestrians).
func snapFrame(t testing.TB, n int) gocv.Mat {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(vtestAVI)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	for i := 0; i <= n; i++ {
		if !vc.Read(&img) || img.Empty() {
			img.Close()
			t.Fatalf("%s: no picture %d", vtestAVI, i)
		}
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func openSnaps(t testing.TB, cfg SnapshotConfig) *Snapshots {
	t.Helper()
	s, err := OpenSnapshots(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeJPEG(t testing.TB, path string) gocv.Mat {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := gocv.IMDecode(b, gocv.IMReadColor)
	if err != nil || img.Empty() {
		t.Fatalf("decode %s: %v", path, err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// tint is how much channel c (0 B, 1 G, 2 R) of the pixel exceeds its
// other two: high for a saturated red (c=2) or green (c=1).
func tint(m gocv.Mat, x, y, c int) int {
	v := m.GetVecbAt(y, x)
	other := 0
	for i := 0; i < 3; i++ {
		if i != c {
			other = max(other, int(v[i]))
		}
	}
	return int(v[c]) - other
}

// maxTint is the highest tint within r pixels of (x, y); a 2-pixel line
// loses some saturation to JPEG's chroma subsampling, so its strongest
// pixel is what is compared.
func maxTint(m gocv.Mat, x, y, r, c int) int {
	best := -255
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			best = max(best, tint(m, x+dx, y+dy, c))
		}
	}
	return best
}

const (
	blue, green, red = 0, 1, 2
)

func TestSnapshotSaveDrawsMarksAndCaption(t *testing.T) {
	frame := snapFrame(t, 60)
	before := frame.Clone()
	defer before.Close()
	dir := t.TempDir()
	s := openSnaps(t, SnapshotConfig{Dir: dir})

	threat := geom.Box{X1: 100, Y1: 150, X2: 300, Y2: 450}
	person := geom.Box{X1: 420, Y1: 200, X2: 620, Y2: 500}
	marks := []Mark{
		{Box: threat, Label: "knife 0.91", Threat: true},
		{Box: person, Label: "person 7"},
	}
	path, err := s.Save("alert-1", frame, marks, "Store 12 / door: weapon near person 7 at 10:00:03")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "alert-1.jpg"); path != want {
		t.Fatalf("path %q, want %q", path, want)
	}
	if frame.Ptr() == nil || frame.Empty() {
		t.Fatal("Save closed the caller's picture")
	}
	if d := mad(frame, before); d != 0 {
		t.Fatalf("Save modified the caller's picture (mean difference %v)", d)
	}

	img := decodeJPEG(t, path)
	if img.Cols() != 768 || img.Rows() != 576 {
		t.Fatalf("snapshot is %dx%d, want 768x576", img.Cols(), img.Rows())
	}

	// Each box's edges (left, right, bottom middles; the top carries the
	// label) are drawn in its colour, where the frame had no such colour.
	edges := func(b geom.Box) []image.Point {
		cx, cy := int(b.X1+b.X2)/2, int(b.Y1+b.Y2)/2
		return []image.Point{{int(b.X1), cy}, {int(b.X2), cy}, {cx, int(b.Y2)}}
	}
	for _, tc := range []struct {
		name        string
		box         geom.Box
		want, other int
	}{
		{"threat", threat, red, green},
		{"person", person, green, red},
	} {
		for _, p := range edges(tc.box) {
			if got := maxTint(img, p.X, p.Y, 2, tc.want); got < 120 {
				t.Errorf("%s box edge at %v: tint %d in channel %d, want a drawn line (>= 120)", tc.name, p, got, tc.want)
			}
			if got := maxTint(img, p.X, p.Y, 2, tc.other); got > 30 {
				t.Errorf("%s box edge at %v: tint %d in channel %d, want none", tc.name, p, got, tc.other)
			}
			if got := maxTint(before, p.X, p.Y, 2, tc.want); got > 60 {
				t.Fatalf("test frame already has tint %d at %v; pick other boxes", got, p)
			}
		}
	}

	// Inside the boxes, away from lines and labels, and outside them, the
	// picture is the frame (up to JPEG loss).
	for _, r := range []image.Rectangle{
		image.Rect(130, 200, 270, 420), image.Rect(450, 250, 590, 470), image.Rect(320, 100, 400, 560),
	} {
		a, b := img.Region(r), before.Region(r)
		d := mad(a, b)
		a.Close()
		b.Close()
		if d > 6 {
			t.Errorf("region %v differs from the frame by %.1f on average, want JPEG noise only", r, d)
		}
	}

	// Labels: a band in the box colour just above the box, with text in
	// the contrasting colour on it.
	labelBand := func(b geom.Box, c int, text func(v gocv.Vecb) bool) (tinted, texted int) {
		for y := int(b.Y1) - 14; y < int(b.Y1)-3; y++ {
			for x := int(b.X1) + 2; x < int(b.X1)+60; x++ {
				if tint(img, x, y, c) > 120 {
					tinted++
				}
				if text(img.GetVecbAt(y, x)) {
					texted++
				}
			}
		}
		return
	}
	whiteText := func(v gocv.Vecb) bool { return v[0] > 180 && v[1] > 180 && v[2] > 180 }
	blackText := func(v gocv.Vecb) bool { return v[0] < 70 && v[1] < 70 && v[2] < 70 }
	if tinted, texted := labelBand(threat, red, whiteText); tinted < 200 || texted < 20 {
		t.Errorf("threat label: %d red and %d white pixels above the box, want a red band with white text", tinted, texted)
	}
	if tinted, texted := labelBand(person, green, blackText); tinted < 200 || texted < 20 {
		t.Errorf("person label: %d green and %d black pixels above the box, want a green band with black text", tinted, texted)
	}

	// Caption: the top rows are darkened, with white text on them that
	// the frame (darkened to 30%, so never above 77) cannot account for.
	top := image.Rect(0, 0, 768, 18)
	capt, orig := img.Region(top), before.Region(top)
	cm, om := capt.Mean(), orig.Mean()
	capt.Close()
	orig.Close()
	if cb, ob := (cm.Val1+cm.Val2+cm.Val3)/3, (om.Val1+om.Val2+om.Val3)/3; cb > ob*0.6 {
		t.Errorf("caption band brightness %.0f, frame %.0f: want a dark band", cb, ob)
	}
	bright := 0
	for y := top.Min.Y; y < top.Max.Y; y++ {
		for x := top.Min.X; x < top.Max.X; x++ {
			if whiteText(img.GetVecbAt(y, x)) {
				bright++
			}
		}
	}
	if bright < 100 {
		t.Errorf("caption band: %d white pixels, want caption text", bright)
	}
	// Below the band, away from the boxes, nothing is darkened.
	below := image.Rect(0, 40, 90, 140)
	a, b := img.Region(below), before.Region(below)
	if d := mad(a, b); d > 6 {
		t.Errorf("below the caption band the picture differs by %.1f", d)
	}
	a.Close()
	b.Close()

	st := s.Stats()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 1 || st.Bytes != fi.Size() || st.Saved != 1 || st.Errors != 0 {
		t.Fatalf("stats %+v, want 1 file of %d bytes saved", st, fi.Size())
	}
}

func TestSnapshotQualityAndOverwrite(t *testing.T) {
	frame := snapFrame(t, 30)
	dir := t.TempDir()
	lo := openSnaps(t, SnapshotConfig{Dir: dir, Quality: 30})
	p, err := lo.Save("q", frame, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	small, _ := os.Stat(p)
	hi := openSnaps(t, SnapshotConfig{Dir: dir, Quality: 95})
	if got := hi.Stats(); got.Files != 1 || got.Bytes != small.Size() {
		t.Fatalf("reopened stats %+v, want the one file of %d bytes", got, small.Size())
	}
	if _, err := hi.Save("q", frame, nil, ""); err != nil {
		t.Fatal(err)
	}
	big, _ := os.Stat(p)
	if big.Size() <= small.Size() {
		t.Fatalf("quality 95 gave %d bytes, quality 30 %d: quality not applied", big.Size(), small.Size())
	}
	// Overwriting replaces the file in the accounting, not adds to it.
	if got := hi.Stats(); got.Files != 1 || got.Bytes != big.Size() {
		t.Fatalf("stats after overwrite %+v, want 1 file of %d bytes", got, big.Size())
	}
	// Without marks or caption the picture is the frame.
	img := decodeJPEG(t, p)
	if d := mad(img, frame); d > 4 {
		t.Fatalf("plain snapshot differs from the frame by %.1f", d)
	}
}

func TestSnapshotRejectsBadInput(t *testing.T) {
	frame := snapFrame(t, 0)
	dir := t.TempDir()
	s := openSnaps(t, SnapshotConfig{Dir: dir})
	for _, name := range []string{"", ".", "..", "../x", "a/b", "/tmp/x", "a.b", "x y", "x.jpg", "é", strings.Repeat("a", 129)} {
		if _, err := s.Save(name, frame, nil, "c"); err == nil {
			t.Errorf("Save(%q) succeeded, want an invalid name error", name)
		}
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := s.Save("empty", empty, nil, ""); err == nil {
		t.Error("Save of an empty picture succeeded")
	}
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(frame, &gray, gocv.ColorBGRToGray)
	if _, err := s.Save("gray", gray, nil, ""); err == nil {
		t.Error("Save of a grey picture succeeded, want BGR only")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("failed saves left %d files in the directory", len(entries))
	}
	if st := s.Stats(); st.Errors != 13 || st.Saved != 0 || st.Files != 0 {
		t.Fatalf("stats %+v, want 13 errors and nothing saved", st)
	}
	// A name at the limit, marks partly or wholly outside the picture and
	// a caption too long to fit, with characters the font lacks, are fine.
	long := strings.Repeat("a", 128)
	marks := []Mark{
		{Box: geom.Box{X1: -50, Y1: -50, X2: 100, Y2: 100}, Label: "person", Threat: true},
		{Box: geom.Box{X1: 700, Y1: 500, X2: 900, Y2: 700}, Label: strings.Repeat("wide label ", 30)},
		{Box: geom.Box{X1: 2000, Y1: 2000, X2: 2100, Y2: 2100}, Label: "outside"},
	}
	if _, err := s.Save(long, frame, marks, "Café — "+strings.Repeat("long caption ", 40)); err != nil {
		t.Fatal(err)
	}

	for _, cfg := range []SnapshotConfig{
		{}, {Dir: dir, Quality: 101}, {Dir: dir, Quality: -1}, {Dir: dir, MaxAge: -time.Second}, {Dir: dir, MaxBytes: -1},
	} {
		if _, err := OpenSnapshots(cfg); err == nil {
			t.Errorf("OpenSnapshots(%+v) succeeded", cfg)
		}
	}
}

// onDisk lists the snapshots in dir (name -> size) and any other files.
func onDisk(t *testing.T, dir string) (snaps map[string]int64, total int64, other []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	snaps = map[string]int64{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".jpg")
		if !ok || !e.Type().IsRegular() || validName(name) != nil {
			other = append(other, e.Name())
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		snaps[name] = fi.Size()
		total += fi.Size()
	}
	sort.Strings(other)
	return snaps, total, other
}

func keys(m map[string]int64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestSnapshotMaxBytesRemovesOldestFirst(t *testing.T) {
	frame := snapFrame(t, 40)
	dir := t.TempDir()
	first := openSnaps(t, SnapshotConfig{Dir: dir})
	p, err := first.Save("s0", frame, nil, "snapshot 0")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	one := fi.Size()

	// Reopened (a restart) with room for three and a half snapshots of
	// this size: the one already there counts.
	s := openSnaps(t, SnapshotConfig{Dir: dir, MaxBytes: one*3 + one/2})
	for i := 1; i <= 5; i++ {
		// Distinct modification times make "oldest" unambiguous even on
		// a file system with coarse timestamps.
		time.Sleep(5 * time.Millisecond)
		if _, err := s.Save(fmt.Sprintf("s%d", i), frame, nil, fmt.Sprintf("snapshot %d", i)); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.Bytes > one*3+one/2 {
			t.Fatalf("after save %d: %d bytes held, over MaxBytes %d", i, st.Bytes, one*3+one/2)
		}
	}
	snaps, total, other := onDisk(t, dir)
	if got, want := strings.Join(keys(snaps), ","), "s3,s4,s5"; got != want {
		t.Fatalf("kept %s, want the newest three %s", got, want)
	}
	if len(other) != 0 {
		t.Fatalf("other files left: %v", other)
	}
	st := s.Stats()
	if st.Files != 3 || st.Bytes != total || st.Removed != 3 || st.Saved != 5 || st.Errors != 0 {
		t.Fatalf("stats %+v, want 3 files of %d bytes, 3 removed, 5 saved", st, total)
	}

	// A limit below one snapshot still keeps the newest, so its link works.
	tiny := openSnaps(t, SnapshotConfig{Dir: dir, MaxBytes: 1})
	if _, err := tiny.Save("last", frame, nil, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := tiny.Sweep(time.Now()); err != nil || n != 0 {
		t.Fatalf("Sweep removed %d (%v), want 0: the newest stays", n, err)
	}
	snaps, _, _ = onDisk(t, dir)
	if got := strings.Join(keys(snaps), ","); got != "last" {
		t.Fatalf("kept %s, want only the newest", got)
	}
}

func TestSnapshotSweepByAgeSurvivesRestart(t *testing.T) {
	frame := snapFrame(t, 10)
	dir := t.TempDir()
	s := openSnaps(t, SnapshotConfig{Dir: dir})
	now := time.Now()
	ages := map[string]time.Duration{
		"old-1": 40 * 24 * time.Hour, "old-2": 31 * 24 * time.Hour,
		"mid-1": 10 * 24 * time.Hour, "new-1": time.Hour,
	}
	for name, age := range ages {
		p, err := s.Save(name, frame, nil, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	// Left by a crash mid-save, and files that are not snapshots.
	mustWrite := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(".snapshot-123456.tmp")
	mustWrite("notes.txt")
	mustWrite("bad name.jpg")
	if err := os.Mkdir(filepath.Join(dir, "sub.jpg"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "notes.txt"), now.Add(-90*24*time.Hour), now.Add(-90*24*time.Hour)); err != nil {
		t.Fatal(err)
	}

	r := openSnaps(t, SnapshotConfig{Dir: dir})
	snaps, total, other := onDisk(t, dir)
	if got := strings.Join(other, ","); got != "bad name.jpg,notes.txt,sub.jpg" {
		t.Fatalf("other files after open: %s, want the stale temporary file gone and the rest untouched", got)
	}
	if st := r.Stats(); st.Files != 4 || st.Bytes != total {
		t.Fatalf("reopened stats %+v, want the 4 snapshots (%d bytes)", st, total)
	}

	n, err := r.Sweep(now)
	if err != nil || n != 2 {
		t.Fatalf("Sweep removed %d (%v), want the 2 older than 30 days", n, err)
	}
	snaps, total, other = onDisk(t, dir)
	if got := strings.Join(keys(snaps), ","); got != "mid-1,new-1" {
		t.Fatalf("kept %s", got)
	}
	if len(other) != 3 {
		t.Fatalf("Sweep touched files that are not snapshots: %v", other)
	}
	if st := r.Stats(); st.Files != 2 || st.Bytes != total || st.Removed != 2 {
		t.Fatalf("stats %+v, want 2 files of %d bytes, 2 removed", st, total)
	}
	if n, err := r.Sweep(now.Add(25 * 24 * time.Hour)); err != nil || n != 1 {
		t.Fatalf("Sweep 25 days later removed %d (%v), want mid-1", n, err)
	}
	if snaps, _, _ = onDisk(t, dir); strings.Join(keys(snaps), ",") != "new-1" {
		t.Fatalf("kept %v", keys(snaps))
	}
	// A snapshot deleted by hand leaves the accounting without an error.
	os.Remove(filepath.Join(dir, "new-1.jpg"))
	if n, err := r.Sweep(now.Add(60 * 24 * time.Hour)); err != nil || n != 0 {
		t.Fatalf("Sweep of a vanished file: %d, %v", n, err)
	}
	if st := r.Stats(); st.Files != 0 || st.Bytes != 0 {
		t.Fatalf("stats %+v, want empty", st)
	}
}

func TestSnapshotRunSweepsUntilCancelled(t *testing.T) {
	frame := snapFrame(t, 10)
	dir := t.TempDir()
	s := openSnaps(t, SnapshotConfig{Dir: dir})
	p, err := s.Save("old", frame, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-31 * 24 * time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	r := openSnaps(t, SnapshotConfig{Dir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx, time.Hour)
	}()
	// The first sweep runs at once, not after the first hour.
	waitFor(t, 10*time.Second, "Run's first sweep", func() bool { return r.Stats().Removed == 1 })
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("old snapshot still there: %v", err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// rawGet sends a request line exactly as given, so neither the client
// nor a mux cleans the path before the handler sees it.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSnapshotHandler(t *testing.T) {
	frame := snapFrame(t, 20)
	root := t.TempDir()
	dir := filepath.Join(root, "snaps")
	// The symlinks below are logged as escape attempts; keep the output clean.
	s := openSnaps(t, SnapshotConfig{Dir: dir, Log: slog.New(slog.DiscardHandler)})
	p, err := s.Save("alert-1", frame, []Mark{{Box: geom.Box{X1: 10, Y1: 10, X2: 50, Y2: 90}, Label: "p"}}, "cap")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(p)
	const secret = "SECRET-NOT-A-SNAPSHOT"
	for _, f := range []string{filepath.Join(root, "secret.jpg"), filepath.Join(root, "secret")} {
		if err := os.WriteFile(f, []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "secret.jpg"), filepath.Join(dir, "link.jpg")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.jpg", filepath.Join(dir, "rel.jpg")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".snapshot-1.tmp"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/snapshots/", http.StripPrefix("/snapshots", s.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// Also unmounted, straight on the server, so no mux cleans paths.
	bare := httptest.NewServer(s.Handler())
	defer bare.Close()

	resp, err := http.Get(srv.URL + "/snapshots/alert-1.jpg")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != string(want) {
		t.Fatalf("GET: %d, %d bytes; want 200 and the file's %d bytes", resp.StatusCode, len(body), len(want))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("Cache-Control %q, want private", cc)
	}
	img, err := gocv.IMDecode(body, gocv.IMReadColor)
	if err != nil || img.Cols() != 768 || img.Rows() != 576 {
		t.Fatalf("served picture does not decode to 768x576: %v", err)
	}
	img.Close()

	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/snapshots/alert-1.jpg", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(want)) {
		t.Fatalf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, srv.URL+"/snapshots/alert-1.jpg", strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, resp.StatusCode)
		}
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("snapshot gone after DELETE: %v", err)
	}

	for _, target := range []string{
		"/snapshots/missing.jpg",
		"/snapshots/",
		"/snapshots",
		"/snapshots/alert-1",
		"/snapshots/alert-1.jpg/",
		"/snapshots/alert-1.JPG",
		"/snapshots/link.jpg",
		"/snapshots/rel.jpg",
		"/snapshots/.snapshot-1.tmp",
		"/snapshots/../secret.jpg",
		"/snapshots/../secret",
		"/snapshots/%2e%2e/secret.jpg",
		"/snapshots/%2e%2e%2fsecret.jpg",
		"/snapshots/..%2Fsecret.jpg",
		"/snapshots/%2E%2E%2F%2E%2E%2Fsecret.jpg",
		"/snapshots/" + filepath.Join(root, "secret.jpg"),
		"/snapshots//" + filepath.Join(root, "secret.jpg"),
		"/snapshots/%2F" + strings.TrimPrefix(filepath.Join(root, "secret.jpg"), "/"),
		"/snapshots/alert-1.jpg%00",
		"/snapshots/snaps/alert-1.jpg",
	} {
		for _, addr := range []string{srv.Listener.Addr().String(), bare.Listener.Addr().String()} {
			tg := target
			if addr == bare.Listener.Addr().String() {
				tg = strings.TrimPrefix(target, "/snapshots")
				if tg == "" {
					tg = "/"
				}
			}
			code, body := rawGet(t, addr, tg)
			if strings.Contains(body, secret) {
				t.Errorf("GET %s served the secret", tg)
			}
			// The mux redirects a path it cleans (to one that is then
			// 404); the handler itself only ever answers 404.
			redirect := code >= 300 && code < 400 && addr == srv.Listener.Addr().String()
			if code != http.StatusNotFound && !redirect {
				t.Errorf("GET %s: %d, want 404", tg, code)
			}
		}
	}
}

func TestSnapshotConcurrentSaveSweepServe(t *testing.T) {
	frame := snapFrame(t, 50)
	dir := t.TempDir()
	probe := openSnaps(t, SnapshotConfig{Dir: t.TempDir()})
	p, err := probe.Save("probe", frame, nil, "saver 0 snapshot 0")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	limit := fi.Size() * 5
	s := openSnaps(t, SnapshotConfig{Dir: dir, MaxBytes: limit})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	const savers, each = 4, 5
	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // sweeper
		defer bg.Done()
		for ctx.Err() == nil {
			if _, err := s.Sweep(time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() { // reader: a snapshot is served whole or not at all
		defer bg.Done()
		for ctx.Err() == nil {
			resp, err := http.Get(srv.URL + "/s0-0.jpg")
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				m, err := gocv.IMDecode(b, gocv.IMReadColor)
				if err != nil || m.Empty() {
					t.Errorf("served a partial snapshot (%d bytes)", len(b))
				}
				m.Close()
			} else if resp.StatusCode != 404 {
				t.Errorf("GET: %d", resp.StatusCode)
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range savers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Save(fmt.Sprintf("s%d-%d", g, i), frame, []Mark{{Box: geom.Box{X1: 10, Y1: 10, X2: 60, Y2: 60}, Label: "p"}},
					fmt.Sprintf("saver %d snapshot %d", g, i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	bg.Wait()

	snaps, total, other := onDisk(t, dir)
	if len(other) != 0 {
		t.Fatalf("files other than snapshots left: %v", other)
	}
	st := s.Stats()
	if st.Saved != savers*each || st.Errors != 0 {
		t.Fatalf("stats %+v, want %d saved, no errors", st, savers*each)
	}
	if st.Files != len(snaps) || st.Bytes != total {
		t.Fatalf("accounting %d files %d bytes, disk %d files %d bytes", st.Files, st.Bytes, len(snaps), total)
	}
	if total > limit || st.Removed != int64(savers*each-len(snaps)) {
		t.Fatalf("%d bytes held (limit %d), %d removed of %d saved with %d left", total, limit, st.Removed, savers*each, len(snaps))
	}
	if len(snaps) < 3 {
		t.Fatalf("only %d snapshots kept under a limit of about 5", len(snaps))
	}
}
