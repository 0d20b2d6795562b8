package evidence

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/avcodec"
	"github.com/storesight/storesight/internal/rtsptest"
	"github.com/storesight/storesight/video"
)

// TestRecorderKeepsMainStream records a 1280x720 H.264 main stream while
// the camera's 640x360 detect stream is decoded, as the app does, and
// checks what is kept and what can be taken out of it.
func TestRecorderKeepsMainStream(t *testing.T) {
	t.Parallel()
	mainFile := media(t, "h264", 1280, 720, testFPS, testGOP)
	cam := startCamera(t, map[string]string{
		"main":   mainFile,
		"detect": media(t, "h264", 640, 360, testFPS, testGOP),
	})
	ref := decodeReference(t, mainFile, 1280, 720)
	if len(ref.frames) != testLoop {
		t.Fatalf("reference has %d pictures, want %d", len(ref.frames), testLoop)
	}
	const keep = 3 * time.Second
	rec := record(t, cam, "main", Options{Keep: keep}, nil)
	det, err := video.OpenRTSP(context.Background(), video.Spec{Camera: "door", URL: cam.srv.URL("detect"), Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()

	// Running longer than Keep plus two GOPs: the buffer is full and has
	// evicted GOPs.
	waitFor(t, 15*time.Second, "two GOPs evicted", func() bool { return rec.Stats().Evicted >= 2 })
	st := rec.Stats()
	t.Logf("stats: %d AUs in %d GOPs, %d KB, span %v, evicted %d, dropped %d; live %+v",
		st.AUs, st.GOPs, st.Bytes>>10, st.Span(), st.Evicted, st.Dropped, st.Live)
	if st.Span() < keep-frameStep || st.Span() > keep+time.Second+frameStep {
		t.Fatalf("holds %v, want between Keep %v and Keep plus one GOP", st.Span(), keep)
	}
	if want := int(st.Span()/frameStep) + 1; st.AUs < want-1 || st.AUs > want+1 {
		t.Fatalf("%d AUs over %v, want %d", st.AUs, st.Span(), want)
	}
	if st.GOPs < 3 || st.GOPs > 5 || st.Dropped != 0 || st.Live.Connects != 1 || st.Live.Decoded != 0 || !st.Live.Online {
		t.Fatalf("stats %+v", st)
	}
	if age := time.Since(st.Newest); age < -time.Second || age > time.Second {
		t.Fatalf("newest picture is %v old, want about now", age)
	}

	// A snapshot at a recent time shows the picture of that moment at full
	// resolution: it is one of the media's pictures (decoded by ffmpeg as
	// reference), at the same place in its GOP as the requested time (the
	// media's keyframes are its pictures 0, 10, 20...), and one taken 1.5 s
	// earlier is 15 pictures before it.
	at := st.Newest.Add(-500*time.Millisecond + 30*time.Millisecond)
	i1 := checkSnapshot(t, rec, ref, at)
	i0 := checkSnapshot(t, rec, ref, at.Add(-1500*time.Millisecond))
	if (i1-i0+testLoop)%testLoop != 15 {
		t.Fatalf("snapshots 1.5 s apart show pictures %d and %d, want 15 apart", i0, i1)
	}

	// The detect stream's picture of a moment matches the main stream's
	// snapshot of its time, scaled down. The two streams come from two
	// publishers started apart, so their pictures of the same source frame
	// are up to a few frames apart in time: the bound is loose.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := det.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := snapshot(t, rec, f.Time)
	small := gocv.NewMat()
	gocv.Resize(p.Img, &small, image.Pt(640, 360), 0, 0, gocv.InterpolationArea)
	d := mad(small, f.Img)
	small.Close()
	p.Close()
	f.Release()
	t.Logf("detect picture vs main snapshot scaled down: difference %.2f", d)
	if d > 8 {
		t.Fatalf("detect picture and main snapshot differ by %.2f", d)
	}

	// JPEG.
	jpg, jt, err := rec.SnapshotJPEG(context.Background(), at, 80)
	if err != nil {
		t.Fatal(err)
	}
	img, err := gocv.IMDecode(jpg, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	if img.Cols() != 1280 || img.Rows() != 720 || absDur(jt.Sub(at)) > frameStep/2 {
		t.Fatalf("JPEG %dx%d at %v, want 1280x720 at %v", img.Cols(), img.Rows(), jt, at)
	}
	img.Close()

	// Before the buffer's start: a clear error.
	st = rec.Stats()
	_, err = rec.Snapshot(context.Background(), st.Oldest.Add(-5*time.Second))
	if err == nil || !errors.Is(err, ErrNoPicture) || !strings.Contains(err.Error(), "door") ||
		!strings.Contains(err.Error(), "no picture at ") || !strings.Contains(err.Error(), "buffer holds "+fmtTime(st.Oldest)+"..") {
		t.Fatalf("err = %v, want no picture naming the camera and the buffer's range", err)
	}
	t.Logf("before the buffer: %v", err)

	// A clip from 2 s to 0.5 s ago starts at the keyframe before its start
	// and decodes, with ffmpeg, to every picture held in between.
	from, to := st.Newest.Add(-2*time.Second), st.Newest.Add(-500*time.Millisecond)
	path := filepath.Join(t.TempDir(), "door"+ClipExt(avcodec.H264))
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rec.WriteClip(file, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	want := int(c.End.Sub(c.Start)/frameStep) + 1
	if c.Start.After(from) || from.Sub(c.Start) > time.Second || c.End.After(to) || to.Sub(c.End) > frameStep || c.Pictures != want {
		t.Fatalf("clip %+v for %v..%v: want it from the keyframe before the start, %d pictures", c, from, to, want)
	}
	n, codec, w, h := ffprobe(t, path)
	if n != c.Pictures || codec != "h264" || w != 1280 || h != 720 {
		t.Fatalf("ffprobe: %d %s pictures of %dx%d, want %d h264 of 1280x720", n, codec, w, h, c.Pictures)
	}
	t.Logf("clip: %d pictures, %d GOPs, %d KB; ffprobe decodes %d", c.Pictures, c.GOPs, c.Bytes>>10, n)
}

// snapshot takes a picture that must exist, checking its size and time.
func snapshot(t *testing.T, rec *Recorder, at time.Time) Picture {
	t.Helper()
	p, err := rec.Snapshot(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	if p.Img.Cols() != 1280 || p.Img.Rows() != 720 || p.Img.Channels() != 3 {
		t.Fatalf("snapshot %dx%dx%d, want 1280x720 BGR", p.Img.Cols(), p.Img.Rows(), p.Img.Channels())
	}
	if d := absDur(p.Time.Sub(at)); d > frameStep/2 {
		t.Fatalf("snapshot at %v shows %v, %v away: more than half a frame", at, p.Time, d)
	}
	return p
}

// checkSnapshot takes a snapshot at at and checks that it is a picture of
// the media (by the reference) at the place in its GOP that at is,
// returning its index in the media.
func checkSnapshot(t *testing.T, rec *Recorder, ref *reference, at time.Time) int {
	t.Helper()
	p := snapshot(t, rec, at)
	defer p.Close()
	i, best, second := ref.match(t, p.Img)
	// Neighbouring vtest pictures can differ by as little as ~0.45 where
	// few people move, so the margin to the runner-up is 0.3, not more.
	if best > 0.5 || second < best+0.3 {
		t.Fatalf("snapshot at %v is no clear match of a source picture: difference %.2f, runner-up %.2f", at, best, second)
	}
	if k := gopOffset(t, rec, p.Time); i%testGOP != k {
		t.Fatalf("snapshot at %v shows media picture %d, want one %d after a keyframe", at, i, k)
	}
	return i
}

// gopOffset is how many pictures after its GOP's keyframe the held picture
// at time at is.
func gopOffset(t *testing.T, rec *Recorder, at time.Time) int {
	t.Helper()
	b := rec.Buffer()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range b.gops {
		for k, e := range g.aus {
			if e.time.Equal(at) {
				return k
			}
		}
	}
	t.Fatalf("no held picture at %v", at)
	return 0
}

// writeClip writes a clip to a temporary file and checks that ffprobe
// decodes every picture of it at codec and 1280x720.
func writeClip(t *testing.T, rec *Recorder, from, to time.Time, codec avcodec.Codec) Clip {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip"+ClipExt(codec))
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rec.WriteClip(file, from, to)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[avcodec.Codec]string{avcodec.H264: "h264", avcodec.H265: "hevc"}[codec]
	n, name, w, h := ffprobe(t, path)
	if n != c.Pictures || name != want || w != 1280 || h != 720 || c.Codec != codec {
		t.Fatalf("clip %+v: ffprobe decodes %d %s pictures of %dx%d, want %d %s of 1280x720", c, n, name, w, h, c.Pictures, want)
	}
	return c
}

func TestRecorderH265(t *testing.T) {
	t.Parallel()
	file := media(t, "h265", 1280, 720, testFPS, testGOP)
	cam := startCamera(t, map[string]string{"main": file})
	ref := decodeReference(t, file, 1280, 720)
	rec := record(t, cam, "main", Options{}, nil)
	waitFor(t, 10*time.Second, "2.5 s recorded", func() bool { return rec.Stats().Span() >= 2500*time.Millisecond })
	st := rec.Stats()
	at := st.Newest.Add(-300 * time.Millisecond)
	i1 := checkSnapshot(t, rec, ref, at)
	i0 := checkSnapshot(t, rec, ref, at.Add(-1500*time.Millisecond))
	if (i1-i0+testLoop)%testLoop != 15 {
		t.Fatalf("snapshots 1.5 s apart show pictures %d and %d, want 15 apart", i0, i1)
	}
	c := writeClip(t, rec, st.Oldest, st.Newest, avcodec.H265)
	if c.Pictures != st.AUs || c.GOPs != st.GOPs {
		t.Fatalf("clip of everything %+v, buffer %+v", c, st)
	}
}

// TestRecorderParamsFromSDP records a camera that sends its parameter sets
// only in the SDP: every GOP still decodes on its own.
func TestRecorderParamsFromSDP(t *testing.T) {
	t.Parallel()
	file := sdpOnlyMedia(t)
	cam := startCamera(t, map[string]string{"main": file})
	ref := decodeReference(t, file, 1280, 720)
	rec := record(t, cam, "main", Options{}, nil)
	waitFor(t, 10*time.Second, "three GOPs", func() bool { return rec.Stats().GOPs >= 3 })

	b := rec.Buffer()
	b.mu.Lock()
	g := b.gops[1]
	inBand, params, start := hasSPS(g.codec, g.aus[0].nalus), len(g.params), g.start()
	b.mu.Unlock()
	if inBand || params != 2 {
		t.Fatalf("keyframe carries SPS: %v, GOP has %d parameter sets: want none in band, SPS and PPS from the SDP", inBand, params)
	}
	// The second GOP's pictures decode with a fresh decoder.
	checkSnapshot(t, rec, ref, start.Add(5*frameStep))
	writeClip(t, rec, start, start.Add(15*frameStep), avcodec.H264)
}

// TestRecorderResumesAfterRestart takes the camera away and back: the
// buffer keeps what it held, and recording resumes with a new GOP at a
// keyframe once the camera is back.
func TestRecorderResumesAfterRestart(t *testing.T) {
	t.Parallel()
	file := media(t, "h264", 1280, 720, testFPS, testGOP)
	cam := startCamera(t, map[string]string{"main": file})
	ref := decodeReference(t, file, 1280, 720)
	statuses := newStatusLog()
	rec := record(t, cam, "main", Options{Tolerance: 300 * time.Millisecond}, statuses.on)
	waitFor(t, 10*time.Second, "2 s recorded", func() bool { return rec.Stats().Span() >= 2*time.Second })

	opts := cam.srv.Options()
	cam.srv.Close()
	off := statuses.wait(t, false, 5*time.Second)
	before := rec.Stats()
	time.Sleep(2 * time.Second) // a gap that snapshots cannot bridge
	if st := rec.Stats(); st.AUs != before.AUs || st.Newest != before.Newest || st.Evicted != 0 || st.Live.Online {
		t.Fatalf("while offline: %+v, before %+v", st, before)
	}
	srv, err := rtsptest.Start(opts)
	if err != nil {
		t.Fatalf("restart on the same ports: %v", err)
	}
	cam.srv = srv
	on := statuses.wait(t, true, 10*time.Second)
	waitFor(t, 10*time.Second, "15 pictures after the restart", func() bool { return rec.Stats().AUs >= before.AUs+15 })
	t.Logf("offline %v (%s), online %v later", off.Time.Format("15:04:05.000"), off.Reason, on.Time.Sub(off.Time))

	// The GOPs from before are intact and a new one starts after the gap,
	// at a keyframe (each GOP's first picture decodes on its own).
	b := rec.Buffer()
	b.mu.Lock()
	gap := -1
	for i, g := range b.gops {
		if g.start().After(before.Newest) {
			gap = i
			break
		}
	}
	var lastBefore, firstAfter time.Time
	if gap > 0 {
		prev := b.gops[gap-1]
		lastBefore, firstAfter = prev.aus[len(prev.aus)-1].time, b.gops[gap].start()
	}
	b.mu.Unlock()
	if gap <= 0 || !lastBefore.Equal(before.Newest) || firstAfter.Sub(lastBefore) < 2*time.Second {
		t.Fatalf("GOP after the restart at index %d: last picture before %v, first after %v; newest before the outage %v",
			gap, lastBefore, firstAfter, before.Newest)
	}
	if st := rec.Stats(); !st.Oldest.Equal(before.Oldest) || st.Live.Reconnects < 1 || st.Live.Connects < 2 {
		t.Fatalf("after the restart: %+v, before %+v", st, before)
	}
	checkSnapshot(t, rec, ref, lastBefore.Add(-250*time.Millisecond))
	checkSnapshot(t, rec, ref, firstAfter)
	checkSnapshot(t, rec, ref, firstAfter.Add(3*frameStep))
	mid := lastBefore.Add(firstAfter.Sub(lastBefore) / 2)
	if _, err := rec.Snapshot(context.Background(), mid); !errors.Is(err, ErrNoPicture) || !strings.Contains(err.Error(), "nearest is") {
		t.Fatalf("snapshot in the gap: %v", err)
	}
	// A clip across the gap plays through it.
	c := writeClip(t, rec, lastBefore.Add(-time.Second), firstAfter.Add(5*frameStep), avcodec.H264)
	if c.GOPs < 2 {
		t.Fatalf("clip across the gap %+v", c)
	}
}
