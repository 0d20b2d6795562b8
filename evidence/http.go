package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/storesight/storesight/avcodec"
)

// Handler serves the recorders' evidence over HTTP:
//
//	GET /cameras/{id}/snapshot.jpg[?at=RFC3339]        JPEG of the picture nearest at (default: the newest)
//	GET /cameras/{id}/clip[?from=RFC3339&to=RFC3339]    Annex-B H.264/H.265 clip (default: the last 10 s)
//
// The picture's own time is in the X-Picture-Time header (a snapshot) or
// X-Clip-Start / X-Clip-End (a clip), so an alert can cite exactly what it
// shows. A time outside what the buffer holds is 404 with the held range.
func Handler(recorders map[string]*Recorder) http.Handler {
	mux := http.NewServeMux()
	rec := func(w http.ResponseWriter, r *http.Request) *Recorder {
		rc := recorders[r.PathValue("id")]
		if rc == nil {
			http.Error(w, fmt.Sprintf("no main stream recorded for camera %q", r.PathValue("id")), http.StatusNotFound)
		}
		return rc
	}
	mux.HandleFunc("GET /cameras/{id}/snapshot.jpg", func(w http.ResponseWriter, r *http.Request) {
		rc := rec(w, r)
		if rc == nil {
			return
		}
		at, ok := queryTime(w, r, "at", rc.Stats().Newest)
		if !ok {
			return
		}
		jpg, t, err := rc.SnapshotJPEG(r.Context(), at, 90)
		if err != nil {
			httpError(w, err)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(jpg)))
		w.Header().Set("X-Picture-Time", t.UTC().Format(time.RFC3339Nano))
		w.Write(jpg)
	})
	mux.HandleFunc("GET /cameras/{id}/clip", func(w http.ResponseWriter, r *http.Request) {
		rc := rec(w, r)
		if rc == nil {
			return
		}
		newest := rc.Stats().Newest
		to, ok := queryTime(w, r, "to", newest)
		if !ok {
			return
		}
		from, ok := queryTime(w, r, "from", to.Add(-10*time.Second))
		if !ok {
			return
		}
		// The clip is bounded by the buffer (Options.MaxBytes); writing it
		// to memory first lets a failure still be an HTTP error.
		var buf bytes.Buffer
		c, err := rc.WriteClip(&buf, from, to)
		if err != nil {
			httpError(w, err)
			return
		}
		ct := "video/h264"
		if c.Codec == avcodec.H265 {
			ct = "video/h265"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q",
			r.PathValue("id")+"-"+c.Start.UTC().Format("20060102T150405Z")+ClipExt(c.Codec)))
		w.Header().Set("X-Clip-Start", c.Start.UTC().Format(time.RFC3339Nano))
		w.Header().Set("X-Clip-End", c.End.UTC().Format(time.RFC3339Nano))
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Write(buf.Bytes())
	})
	return mux
}

func queryTime(w http.ResponseWriter, r *http.Request, key string, def time.Time) (time.Time, bool) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		http.Error(w, fmt.Sprintf("%s: want an RFC 3339 time such as 2026-11-21T10:00:00Z, got %q", key, v), http.StatusBadRequest)
		return time.Time{}, false
	}
	return t, true
}

func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, ErrNoPicture) {
		code = http.StatusNotFound
	}
	http.Error(w, err.Error(), code)
}
