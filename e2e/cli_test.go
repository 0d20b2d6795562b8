package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/models"
)

const (
	vtestVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	modelName  = "yolox_nano_416_coco"
	// cliLimit is how long a storesight command that should finish on its
	// own may run before the test calls it hung and kills it.
	cliLimit = 2 * time.Minute
)

// cliResult is how one storesight process ended.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the binary from the repository root with env added to the
// test's environment, killing it after limit.
func runCLI(t *testing.T, limit time.Duration, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("storesight %s: still running after %s, killed\nstderr:\n%s", strings.Join(args, " "), limit, stderr.String())
	}
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("storesight %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// noTrace fails the test when stderr holds a Go panic or goroutine dump:
// users get messages, not stack traces.
func noTrace(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("stderr has a panic or goroutine trace:\n%s", stderr)
	}
}

// wantFailure checks that the command failed, explained itself on stderr
// with every one of wants, and printed no trace.
func wantFailure(t *testing.T, r cliResult, wants ...string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit code 0, want non-zero\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
		}
	}
	noTrace(t, r.stderr)
}

// replaceOnce replaces old, which must occur exactly once, so an edit that
// no longer applies to configs/vtest.yml fails loudly instead of testing
// the unedited file.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("config edit: %q occurs %d times in configs/vtest.yml, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// testConfig writes configs/vtest.yml into a temporary directory, made fit
// for tests that run in parallel (offline speed, a free port for the
// embedded broker, a private spill directory, the installed models, no
// console output), then applies edits as old/new pairs. It returns the
// file's path and text.
func testConfig(t *testing.T, edits ...[2]string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "configs", "vtest.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := string(b)
	s = replaceOnce(t, s, "    realtime: true", "    realtime: false")
	s = replaceOnce(t, s, "  embedded_addr: 127.0.0.1:9092",
		fmt.Sprintf("  embedded_addr: 127.0.0.1:0\n  spill_dir: %q", filepath.Join(dir, "spill")))
	s = replaceOnce(t, s, "  name: "+modelName,
		fmt.Sprintf("  name: %s\n  dir: %q", modelName, filepath.Join(repoRoot, ".deps", "models")))
	s = replaceOnce(t, s, "  stdout: true", "  stdout: false")
	for _, e := range edits {
		s = replaceOnce(t, s, e[0], e[1])
	}
	path := filepath.Join(dir, "storesight.yml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, s
}

// lineOf is the 1-based line of the first occurrence of sub in s.
func lineOf(t *testing.T, s, sub string) int {
	t.Helper()
	i := strings.Index(s, sub)
	if i < 0 {
		t.Fatalf("%q not in config", sub)
	}
	return 1 + strings.Count(s[:i], "\n")
}

// modelDirEdit points model.dir at dir.
func modelDirEdit(dir string) [2]string {
	return [2]string{fmt.Sprintf("  dir: %q", filepath.Join(repoRoot, ".deps", "models")), fmt.Sprintf("  dir: %q", dir)}
}

// fakeProxy is an HTTP proxy on loopback standing in for the internet a
// missing model is downloaded from, so the tests behave the same with and
// without a network. With stall false it answers every CONNECT with 502,
// as a proxy without a route does; with stall true it accepts and never
// answers, which is how a firewall that drops packets looks to a client.
func fakeProxy(t *testing.T, stall bool) string {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stall {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		http.Error(w, "no route", http.StatusBadGateway)
	}))
	// Cleanups run last-in first-out: release stalled handlers, then let
	// Close wait for them.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv.URL
}

// proxyEnv sends every download through proxy, whatever proxy settings the
// test's environment has.
func proxyEnv(proxy string) []string {
	return []string{
		"HTTPS_PROXY=" + proxy, "https_proxy=" + proxy, "HTTP_PROXY=" + proxy, "http_proxy=" + proxy,
		"NO_PROXY=", "no_proxy=",
	}
}

func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	manifest, err := models.Lookup(modelName)
	if err != nil {
		t.Fatal(err)
	}

	// A missing model is installed from $STORESIGHT_MODEL_DIR, else
	// downloaded from the manifest's URL; both fail here.
	missingModel := func(t *testing.T, stall bool, wants ...string) {
		modelDir, sourceDir := t.TempDir(), t.TempDir()
		cfg, _ := testConfig(t, modelDirEdit(modelDir))
		env := append(proxyEnv(fakeProxy(t, stall)), models.EnvModelDir+"="+sourceDir)
		// Go itself waits a minute for a proxy's CONNECT and the kernel
		// about two for a TCP connect that is never answered; a limit
		// under both shows the binary gives up on its own.
		r := runCLI(t, 40*time.Second, env, "run", "-config", cfg)
		wantFailure(t, r, append([]string{
			"model file " + manifest.File + " not found", modelDir, sourceDir, "download",
		}, wants...)...)
		left, err := os.ReadDir(modelDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Errorf("failed install left %d files in model.dir, e.g. %s", len(left), left[0].Name())
		}
	}
	t.Run("model file not found", func(t *testing.T) {
		t.Parallel()
		missingModel(t, false)
	})
	t.Run("model download stalls", func(t *testing.T) {
		t.Parallel()
		missingModel(t, true, "no response from")
	})

	t.Run("model sha256 mismatch", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		junk := []byte("this is not an ONNX model\n")
		path := filepath.Join(dir, manifest.File)
		if err := os.WriteFile(path, junk, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, _ := testConfig(t, modelDirEdit(dir))
		sum := sha256.Sum256(junk)
		r := runCLI(t, cliLimit, nil, "run", "-config", cfg)
		wantFailure(t, r, modelName, path, "sha256 mismatch",
			"expected "+strings.ToLower(manifest.SHA256), "got "+hex.EncodeToString(sum[:]))
	})

	missing := filepath.Join(t.TempDir(), "no-such-video.avi")
	textAVI := filepath.Join(t.TempDir(), "notes.avi")
	if err := os.WriteFile(textAVI, []byte("shopping list: milk, eggs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct{ name, path, why string }{
		{"missing video", missing, "no such file"},
		{"text file named .avi", textAVI, "not a video file"},
	} {
		t.Run(v.name+" run", func(t *testing.T) {
			t.Parallel()
			cfg, _ := testConfig(t, [2]string{"    source: " + vtestVideo, "    source: " + v.path})
			r := runCLI(t, cliLimit, nil, "run", "-config", cfg)
			wantFailure(t, r, "camera plaza", v.path, v.why)
		})
		t.Run(v.name+" analyze", func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, cliLimit, nil, "analyze", v.path, "--progress=false")
			wantFailure(t, r, v.path, v.why)
		})
	}

	t.Run("YAML syntax error", func(t *testing.T) {
		t.Parallel()
		cfg, text := testConfig(t, [2]string{"  region: demo", "  region: demo: x"})
		r := runCLI(t, cliLimit, nil, "run", "-config", cfg)
		wantFailure(t, r, fmt.Sprintf("%s:%d: ", cfg, lineOf(t, text, "region: demo: x")), "invalid YAML")
	})

	t.Run("unknown key", func(t *testing.T) {
		t.Parallel()
		cfg, text := testConfig(t, [2]string{"    realtime: false", "    realtime: false\n    colour: red"})
		r := runCLI(t, cliLimit, nil, "run", "-config", cfg)
		wantFailure(t, r, fmt.Sprintf("%s:%d: cameras[0].colour: unknown key", cfg, lineOf(t, text, "colour: red")))
	})

	t.Run("line outside the frame", func(t *testing.T) {
		t.Parallel()
		cfg, _ := testConfig(t, [2]string{"[[560, 120], [560, 440]]", "[[2000, 120], [560, 440]]"})
		r := runCLI(t, cliLimit, nil, "run", "-config", cfg)
		wantFailure(t, r, "camera plaza", `line "east"`, "2000", "outside the 768x576 frame")
	})

	for _, f := range []struct{ name, flag, want string }{
		{"three numbers", "west=300,150,300", `-line "west=300,150,300": want name=x1,y1,x2,y2`},
		{"not a number", "west=300,150,300,abc", `"abc" is not a number`},
		{"no name", "300,150,300,340", `-line "300,150,300,340": want name=x1,y1,x2,y2`},
	} {
		t.Run("analyze --line "+f.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, cliLimit, nil, "analyze", vtestVideo, "--line", f.flag, "--progress=false")
			wantFailure(t, r, f.want)
		})
	}
}

// ffmpegClip encodes the first frames of vtest.avi as H.264 into path,
// through the video filter vf when not empty.
func ffmpegClip(t *testing.T, path string, frames int, vf string) {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-y", "-i", vtestVideo, "-frames:v", strconv.Itoa(frames)}
	if vf != "" {
		args = append(args, "-vf", vf)
	}
	args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// countKey is one direction of one line.
type countKey struct{ line, dir string }

var totalsRe = regexp.MustCompile(`(?m)^\s+line (\S+)\s+(\S+)=(\d+) (\S+)=(\d+)$`)

// printedTotals parses the per-line totals storesight prints at the end.
func printedTotals(t *testing.T, stdout string) map[countKey]int {
	t.Helper()
	out := map[countKey]int{}
	for _, m := range totalsRe.FindAllStringSubmatch(stdout, -1) {
		for _, i := range []int{2, 4} {
			n, _ := strconv.Atoi(m[i+1])
			out[countKey{m[1], m[i]}] = n
		}
	}
	if len(out) == 0 {
		t.Fatalf("no per-line totals on stdout:\n%s", stdout)
	}
	return out
}

// readCrossingEvents reads a JSON-lines events file of crossing envelopes.
func readCrossingEvents(t *testing.T, path, camera string) []counting.Crossing {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []counting.Crossing
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		var e events.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if e.Type != events.TypeCrossing || e.Camera != camera || e.ID == "" {
			t.Fatalf("%s:%d: type %q camera %q id %q, want a crossing of camera %s", path, n, e.Type, e.Camera, e.ID, camera)
		}
		var c counting.Crossing
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, c)
	}
	return out
}

// motBox is one MOTChallenge row's box.
type motBox struct{ x, y, w, h float64 }

// readMOT reads a MOTChallenge file into frame -> track id -> box, checking
// the format: 10 fields, frame,id,x,y,w,h,conf,-1,-1,-1.
func readMOT(t *testing.T, path string) map[int]map[uint64]motBox {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]map[uint64]motBox{}
	for n, row := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Split(row, ",")
		if len(f) != 10 || f[7] != "-1" || f[8] != "-1" || f[9] != "-1" {
			t.Fatalf("%s:%d: %q is not frame,id,x,y,w,h,conf,-1,-1,-1", path, n+1, row)
		}
		frame, err1 := strconv.Atoi(f[0])
		id, err2 := strconv.ParseUint(f[1], 10, 64)
		var v [5]float64
		errs := []error{err1, err2}
		for i := range v {
			var err error
			v[i], err = strconv.ParseFloat(f[2+i], 64)
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("%s:%d: %q: %v", path, n+1, row, err)
		}
		if id == 0 || v[2] <= 0 || v[3] <= 0 || v[4] <= 0 || v[4] > 1 {
			t.Fatalf("%s:%d: %q: want id > 0, positive size, confidence in (0,1]", path, n+1, row)
		}
		if out[frame] == nil {
			out[frame] = map[uint64]motBox{}
		}
		if _, dup := out[frame][id]; dup {
			t.Fatalf("%s:%d: track %d twice in frame %d", path, n+1, id, frame)
		}
		out[frame][id] = motBox{v[0], v[1], v[2], v[3]}
	}
	return out
}

// TestCLIAnalyze1080p runs `storesight analyze` on a 1920x1080 H.264 clip
// made from vtest.avi and on the same frames at the original 768x576, and
// checks the outputs against each other and against the frame size.
func TestCLIAnalyze1080p(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is needed to make the test clips (apt-get install ffmpeg)")
	}
	const frames = 150
	dir := t.TempDir()
	// Both clips go through the same encoder, so the only difference
	// between them is the resolution.
	hd, sd := filepath.Join(dir, "clip1080.mp4"), filepath.Join(dir, "clip576.mp4")
	ffmpegClip(t, hd, frames, "scale=1920:1080")
	ffmpegClip(t, sd, frames, "")

	// The vtest lines in 768x576 pixels, and scaled to 1920x1080.
	sdLines := map[string][4]float64{"west": {300, 150, 300, 340}, "east": {560, 120, 560, 440}}
	const sx, sy = 1920.0 / 768, 1080.0 / 576 // 2.5, 1.875
	analyze := func(video, name string, scaleX, scaleY float64) (cliResult, string, string) {
		evPath, tracks := filepath.Join(dir, name+".events.jsonl"), filepath.Join(dir, name+".tracks.txt")
		args := []string{"analyze", video, "--fps", "0", "--progress=false", "--events", evPath, "--tracks", tracks}
		for _, ln := range []string{"west", "east"} {
			p := sdLines[ln]
			args = append(args, "--line", fmt.Sprintf("%s=%g,%g,%g,%g,leftward,rightward",
				ln, p[0]*scaleX, p[1]*scaleY, p[2]*scaleX, p[3]*scaleY))
		}
		r := runCLI(t, cliLimit, nil, args...)
		noTrace(t, r.stderr)
		if r.code != 0 {
			t.Fatalf("storesight %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		if want := fmt.Sprintf("%d frames decoded, %d analysed, 0 skipped by fps, 0 without motion, 0 dropped, 0 errors", frames, frames); !strings.Contains(r.stdout, want) {
			t.Errorf("%s: stdout lacks %q:\n%s", name, want, r.stdout)
		}
		return r, evPath, tracks
	}
	hdRes, hdEvents, hdTracks := analyze(hd, "clip1080", sx, sy)
	sdRes, sdEvents, _ := analyze(sd, "clip576", 1, 1)

	// Printed totals are the events written.
	check := func(name string, r cliResult, crossings []counting.Crossing) map[countKey]int {
		printed := printedTotals(t, r.stdout)
		got := map[countKey]int{}
		for _, c := range crossings {
			if c.Frame < 0 || c.Frame >= frames {
				t.Errorf("%s: crossing at frame %d, outside the clip's 0..%d", name, c.Frame, frames-1)
			}
			got[countKey{c.Line, c.Direction}]++
		}
		for _, k := range []countKey{{"west", "leftward"}, {"west", "rightward"}, {"east", "leftward"}, {"east", "rightward"}} {
			if printed[k] != got[k] {
				t.Errorf("%s: %s %s printed %d, events file has %d", name, k.line, k.dir, printed[k], got[k])
			}
		}
		return printed
	}
	hdCrossings := readCrossingEvents(t, hdEvents, "clip1080")
	hdCounts := check("1080p", hdRes, hdCrossings)
	sdCounts := check("576p", sdRes, readCrossingEvents(t, sdEvents, "clip576"))

	// MOT frame numbers are 1-based decode indices and boxes are in the
	// video's pixels.
	mot := readMOT(t, hdTracks)
	minFrame, maxFrame, beyondSD := math.MaxInt, 0, 0
	// The tracker's Kalman estimate can run a few pixels past the edge for
	// a person walking out of the picture; the MOT writer clips it, so
	// boxes must be inside the frame (to the 0.01 px MOT rounding).
	const mx, my = 0.01, 0.01
	for frame, boxes := range mot {
		minFrame, maxFrame = min(minFrame, frame), max(maxFrame, frame)
		for id, b := range boxes {
			if b.x < -mx || b.y < -my || b.x+b.w > 1920+mx || b.y+b.h > 1080+my {
				t.Errorf("frame %d track %d: box %+v is outside the 1920x1080 frame", frame, id, b)
			}
			if b.x+b.w > 768*1.2 || b.y+b.h > 576*1.2 {
				beyondSD++
			}
		}
	}
	if minFrame < 1 || maxFrame != frames {
		t.Errorf("MOT frames run %d..%d, want within 1..%d and people (always in view) in the last frame %d", minFrame, maxFrame, frames, frames)
	}
	if beyondSD == 0 {
		t.Error("no MOT box reaches beyond 768x576 pixels: boxes are not in 1920x1080 coordinates")
	}
	// A crossing's frame is 0-based; its track is in the MOT file one frame
	// number later, with the crossing's anchor at the bottom centre of its
	// box (MOT rounds to 0.01 px).
	for _, c := range hdCrossings {
		b, ok := mot[int(c.Frame)+1][c.TrackID]
		if !ok {
			t.Errorf("crossing %s %s of track %d at frame %d: track not in the MOT file at frame %d", c.Line, c.Direction, c.TrackID, c.Frame, c.Frame+1)
			continue
		}
		if math.Abs(b.x+b.w/2-c.Point.X) > 0.02 || math.Abs(b.y+b.h-c.Point.Y) > 0.02 {
			t.Errorf("crossing of track %d at frame %d: anchor (%.2f,%.2f), MOT box %+v at frame %d has bottom centre (%.2f,%.2f)",
				c.TrackID, c.Frame, c.Point.X, c.Point.Y, b, c.Frame+1, b.x+b.w/2, b.y+b.h)
		}
	}

	// Same frames, same lines, so the same counts. The detector letterboxes
	// both clips to the same 416x416 input, but through different
	// resampling (ffmpeg's upscale then OpenCV's downscale, against one
	// downscale) and different H.264 artifacts; near-threshold scores and
	// box edges move by a pixel or so, which can make a person who stops on
	// a line count one crossing more or less. One per line and direction
	// absorbs that; a scaling bug in lines or boxes loses whole lines. The
	// clip has enough crossings for the comparison to mean something.
	total := 0
	for _, k := range []countKey{{"west", "leftward"}, {"west", "rightward"}, {"east", "leftward"}, {"east", "rightward"}} {
		total += sdCounts[k]
		t.Logf("%s %s: 1080p %d, 576p %d", k.line, k.dir, hdCounts[k], sdCounts[k])
		if d := hdCounts[k] - sdCounts[k]; d < -1 || d > 1 {
			t.Errorf("%s %s: %d crossings at 1080p, %d at 768x576, want within ±1", k.line, k.dir, hdCounts[k], sdCounts[k])
		}
	}
	if total < 5 {
		t.Errorf("only %d crossings in the first %d frames at 768x576, want at least 5 (10 hand-labelled)", total, frames)
	}
}

func TestCLIModels(t *testing.T) {
	t.Parallel()
	installed := filepath.Join(repoRoot, ".deps", "models")
	manifest, err := models.Lookup(modelName)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("verify installed", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, cliLimit, nil, "models", "verify", "-dir", installed)
		noTrace(t, r.stderr)
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		for _, m := range models.All() {
			if !strings.Contains(r.stdout, "ok   "+m.Name+"\n") {
				t.Errorf("stdout does not report %s ok:\n%s", m.Name, r.stdout)
			}
		}
	})

	t.Run("verify corrupted", func(t *testing.T) {
		t.Parallel()
		b, err := os.ReadFile(filepath.Join(installed, manifest.File))
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff // same size, one byte off
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, manifest.File), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, cliLimit, nil, "models", "verify", "-dir", dir, modelName)
		wantFailure(t, r, modelName, "sha256 mismatch")
		if !strings.Contains(r.stdout, "FAIL "+modelName) {
			t.Errorf("stdout does not report FAIL %s:\n%s", modelName, r.stdout)
		}
	})

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		row := regexp.MustCompile(`(?m)^` + modelName + `\s+yolox\s+416x416\s+Apache-2.0\s+(yes|no)$`)
		for dir, want := range map[string]string{installed: "yes", t.TempDir(): "no"} {
			r := runCLI(t, cliLimit, nil, "models", "list", "-dir", dir)
			noTrace(t, r.stderr)
			m := row.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil || m[1] != want {
				t.Errorf("models list -dir %s: exit %d, want %s listed as installed=%s:\n%s%s", dir, r.code, modelName, want, r.stdout, r.stderr)
			}
		}
	})
}

// watchBuffer collects a process's output and closes seen the first time
// it contains want.
type watchBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	already := strings.Contains(w.buf.String(), w.want)
	w.buf.Write(p)
	if !already && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
	}
	return len(p), nil
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestCLIRunSIGTERM stops a real-time `storesight run` with SIGTERM, as
// systemd or docker stop does, once it has counted someone: it must exit 0
// promptly with the totals so far.
func TestCLIRunSIGTERM(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t,
		[2]string{"    realtime: false", "    realtime: true"},
		[2]string{"  stdout: false", "  stdout: true"})
	cmd := exec.Command(binPath, "run", "-config", cfg)
	cmd.Dir = repoRoot
	stdout := &watchBuffer{want: " direction=", seen: make(chan struct{})}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// vtest's first crossing is 0.7 s into the video; 20 s covers start-up
	// on a loaded machine.
	select {
	case <-stdout.seen:
	case <-time.After(20 * time.Second):
		t.Log("no crossing printed within 20 s; stopping anyway")
	case err := <-exited:
		t.Fatalf("storesight run exited before SIGTERM: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("storesight run still running 15 s after SIGTERM\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	out := stdout.String()
	noTrace(t, stderr.String())
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	if !strings.Contains(out, " direction=") {
		t.Errorf("no crossing printed before SIGTERM:\n%s", out)
	}
	totals := printedTotals(t, out)
	for _, k := range []countKey{{"west", "leftward"}, {"east", "leftward"}} {
		if _, ok := totals[k]; !ok {
			t.Errorf("no total for line %s printed:\n%s", k.line, out)
		}
	}
	if !strings.Contains(out, "  line west ") || !strings.Contains(out, "kafka: ") {
		t.Errorf("totals or Kafka summary missing after SIGTERM:\n%s", out)
	}
	// The video lasts 79.5 s in real time, so stopping must have come from
	// the signal, not the end of the file.
	m := regexp.MustCompile(`camera plaza: (\d+) frames decoded`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no frame summary:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n >= 795 {
		t.Errorf("%d frames decoded: the run reached the end of the video instead of stopping on SIGTERM", n)
	}
}
