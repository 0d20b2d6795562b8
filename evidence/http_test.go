package evidence

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

func TestHandlerServesSnapshotsAndClips(t *testing.T) {
	file := media(t, "h264", 1280, 720, 10, 10)
	cam := startCamera(t, map[string]string{"main": file})
	rec := record(t, cam, "main", Options{Keep: 3 * time.Second}, nil)
	waitFor(t, 15*time.Second, "2 s of main stream", func() bool { return rec.Stats().Span() >= 2*time.Second })

	srv := httptest.NewServer(Handler(map[string]*Recorder{"door": rec}))
	defer srv.Close()
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	resp, body := get("/cameras/door/snapshot.jpg")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("snapshot: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	img, err := gocv.IMDecode(body, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	if img.Cols() != 1280 || img.Rows() != 720 {
		t.Fatalf("snapshot is %dx%d, want the 1280x720 main stream", img.Cols(), img.Rows())
	}
	img.Close()
	pt, err := time.Parse(time.RFC3339Nano, resp.Header.Get("X-Picture-Time"))
	if err != nil || time.Since(pt) > 10*time.Second {
		t.Fatalf("X-Picture-Time %q: %v", resp.Header.Get("X-Picture-Time"), err)
	}

	st := rec.Stats()
	from := st.Oldest.Add(500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	resp, body = get("/cameras/door/clip?from=" + from)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/h264" || len(body) < 1000 {
		t.Fatalf("clip: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if !strings.HasPrefix(string(body), "\x00\x00\x00\x01") {
		t.Fatal("clip does not start with an Annex-B start code")
	}

	old := st.Oldest.Add(-time.Hour).UTC().Format(time.RFC3339)
	if resp, body = get("/cameras/door/snapshot.jpg?at=" + old); resp.StatusCode != 404 || !strings.Contains(string(body), "buffer holds") {
		t.Fatalf("snapshot an hour ago: %d %s", resp.StatusCode, body)
	}
	if resp, body = get("/cameras/door/snapshot.jpg?at=yesterday"); resp.StatusCode != 400 {
		t.Fatalf("bad time: %d %s", resp.StatusCode, body)
	}
	if resp, body = get("/cameras/back/snapshot.jpg"); resp.StatusCode != 404 || !strings.Contains(string(body), `"back"`) {
		t.Fatalf("unknown camera: %d %s", resp.StatusCode, body)
	}
}
