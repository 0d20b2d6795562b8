package rtsptest

import (
	"regexp"
	"strings"
	"sync"
)

// ringBuffer keeps the last max bytes written to it, for ffmpeg's stderr: a
// publisher that runs for hours must not grow without bound, yet an error
// needs ffmpeg's last words.
type ringBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newRingBuffer(max int) *ringBuffer {
	return &ringBuffer{max: max, buf: make([]byte, 0, max)}
}

// Write implements io.Writer; it never fails.
func (r *ringBuffer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	if n >= r.max {
		r.buf = append(r.buf[:0], p[n-r.max:]...)
		return n, nil
	}
	if over := len(r.buf) + n - r.max; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
	r.buf = append(r.buf, p...)
	return n, nil
}

// String returns what is kept, credentials in URLs redacted.
func (r *ringBuffer) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return redactText(string(r.buf))
}

// Tail returns the last lines kept, at most n bytes, trimmed and redacted,
// for error messages.
func (r *ringBuffer) Tail(n int) string {
	s := r.String()
	if len(s) > n {
		s = s[len(s)-n:]
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
	}
	return strings.TrimSpace(s)
}

var userinfoRE = regexp.MustCompile(`(?i)(rtsps?://)[^/@\s]*@`)

// redactText replaces the userinfo of rtsp:// URLs in free text, so ffmpeg
// messages quoting a URL never leak a password into logs or errors.
func redactText(s string) string {
	return userinfoRE.ReplaceAllString(s, "${1}REDACTED@")
}
