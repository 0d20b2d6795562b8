package video

import (
	"net/url"
	"strings"
)

// RedactURL returns rawURL fit for logs and errors: a password in its
// userinfo is replaced by "xxxxx". Strings that do not parse as URLs (a
// password with an unescaped '/' or '?' breaks parsing) lose everything
// between "://" and the last '@', since the password's extent is unknown.
func RedactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		return u.Redacted()
	}
	i := strings.Index(rawURL, "://")
	if i < 0 {
		return rawURL
	}
	rest := rawURL[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return rawURL
	}
	// A parsed URL without userinfo but with '@' after the host is a
	// malformed URL whose password may sit in the path; hide it too.
	return rawURL[:i+3] + "xxxxx" + rest[at:]
}

// scrubber removes one camera's secrets from error texts: gortsplib and
// net/url errors may quote the URL, and the URL carries the password.
type scrubber struct {
	rawURL   string
	redacted string
	secrets  []string
}

func newScrubber(rawURL string) scrubber {
	s := scrubber{rawURL: rawURL, redacted: RedactURL(rawURL)}
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			s.secrets = append(s.secrets, p, url.PathEscape(p), url.QueryEscape(p))
		}
	}
	return s
}

// text returns msg without the URL's password.
func (s scrubber) text(msg string) string {
	if s.rawURL != "" {
		msg = strings.ReplaceAll(msg, s.rawURL, s.redacted)
	}
	for _, p := range s.secrets {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}

// err wraps err so that its text carries no secret. errors.Is/As still see
// the original, whose own text callers must not print.
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	return &scrubbedError{msg: s.text(err.Error()), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
