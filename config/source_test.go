package config

import (
	"strings"
	"testing"
)

func TestRedactedSource(t *testing.T) {
	for _, tc := range []struct{ src, want, secret string }{
		{"rtsp://admin:secret@192.168.1.20:554/stream1", "rtsp://admin:xxxxx@192.168.1.20:554/stream1", "secret"},
		// Unescaped '@' and '/' in passwords make url.Parse fail or misread
		// them; they must still be hidden.
		{"rtsp://admin:p@ss/w0rd@cam.local/live", "rtsp://admin:xxxxx@cam.local/live", "w0rd"},
		{"rtsp://admin:12/34@host/stream", "rtsp://admin:xxxxx@host/stream", "12/34"},
		{"RTSP://u:pw@h/", "RTSP://u:xxxxx@h/", "pw@"},
		{"rtsp://host/cgi?user=admin&Password=s3cret&channel=1", "rtsp://host/cgi?user=admin&Password=xxxxx&channel=1", "s3cret"},
		{"rtsp://u:pw@host/s?pwd=other", "rtsp://u:xxxxx@host/s?pwd=xxxxx", "other"},
		{"rtsp://admin@host/s", "rtsp://admin@host/s", ""},
		{"rtsp://host:554/s", "rtsp://host:554/s", ""},
		{"/videos/cam:1.avi", "/videos/cam:1.avi", ""},
		{"file:///videos/a.avi", "file:///videos/a.avi", ""},
	} {
		got := Camera{Source: tc.src}.RedactedSource()
		if got != tc.want {
			t.Errorf("RedactedSource(%q) = %q, want %q", tc.src, got, tc.want)
		}
		if tc.secret != "" && strings.Contains(got, tc.secret) {
			t.Errorf("RedactedSource(%q) = %q leaks %q", tc.src, got, tc.secret)
		}
	}
}

func TestSourceKindAndFilePath(t *testing.T) {
	for _, tc := range []struct {
		src  string
		kind SourceKind
		path string
	}{
		{"a.avi", SourceFile, "a.avi"},
		{"/x/cam:1.avi", SourceFile, "/x/cam:1.avi"},
		{"file:///x/a%20b.avi", SourceFile, "/x/a b.avi"},
		{"file://localhost/x.avi", SourceFile, "/x.avi"},
		{"file://relative/x.avi", SourceInvalid, ""},
		{"file://", SourceInvalid, ""},
		{"rtsp://h/s", SourceRTSP, ""},
		{"rtsp://u:p/w@h:8554/s", SourceRTSP, ""},
		{"rtsp://", SourceInvalid, ""},
		{"rtsp://u:p@", SourceInvalid, ""},
		{"rtsp:///path", SourceInvalid, ""},
		{"http://h/v.mp4", SourceInvalid, ""},
		{"", SourceInvalid, ""},
	} {
		c := Camera{Source: tc.src}
		if got := c.SourceKind(); got != tc.kind {
			t.Errorf("SourceKind(%q) = %v, want %v", tc.src, got, tc.kind)
		}
		if got := c.FilePath(); got != tc.path {
			t.Errorf("FilePath(%q) = %q, want %q", tc.src, got, tc.path)
		}
	}
}
