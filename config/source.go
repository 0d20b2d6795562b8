package config

import (
	"net/url"
	"strings"
)

// SourceKind tells how a camera source is opened.
type SourceKind int

// Source kinds. SourceInvalid is what an unvalidated, unusable source
// reports.
const (
	SourceInvalid SourceKind = iota
	SourceFile
	SourceRTSP
)

// String names the kind for logs.
func (k SourceKind) String() string {
	switch k {
	case SourceFile:
		return "file"
	case SourceRTSP:
		return "rtsp"
	}
	return "invalid"
}

// SourceKind tells whether Source is a file (plain path or file:// URL) or
// an RTSP stream.
func (c Camera) SourceKind() SourceKind {
	kind, _ := parseSource(c.Source)
	return kind
}

// FilePath is the local path of a file source (a file:// URL decoded), or
// "" for other sources.
func (c Camera) FilePath() string {
	kind, path := parseSource(c.Source)
	if kind != SourceFile {
		return ""
	}
	return path
}

// parseSource classifies src; for files it also returns the path. A string
// without "://" is a path, so names like "cam:1.avi" stay files.
func parseSource(src string) (SourceKind, string) {
	if src == "" {
		return SourceInvalid, ""
	}
	scheme, rest, isURL := strings.Cut(src, "://")
	if !isURL {
		return SourceFile, src
	}
	switch strings.ToLower(scheme) {
	case "file":
		u, err := url.Parse(src)
		// file://relative/x parses "relative" as a host; only the empty host
		// and localhost name this machine.
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return SourceInvalid, ""
		}
		return SourceFile, u.Path
	case "rtsp":
		// Passwords with / or @ break url.Parse yet are common on cameras,
		// so the host is found the way redactURL finds it: after the last @.
		host := rest[strings.LastIndex(rest, "@")+1:]
		if host == "" || host[0] == '/' || host[0] == '?' {
			return SourceInvalid, ""
		}
		return SourceRTSP, ""
	}
	return SourceInvalid, ""
}

// redacted replaces the password; it is what logs show.
const redacted = "xxxxx"

// RedactedSource is Source with any password hidden, for logs and error
// messages: rtsp://user:secret@host/stream becomes
// rtsp://user:xxxxx@host/stream, and password-like query parameters are
// hidden too.
func (c Camera) RedactedSource() string {
	return redactURL(c.Source)
}

// redactURL does not rely on url.Parse: camera passwords often contain
// unescaped '/', '@' or digits-only parts that make url.Parse fail or, worse,
// succeed with the password read as a port and path. Like url.Parse it
// takes the last '@' as the end of the user info, but over the whole
// string, so it can only hide too much, never too little.
func redactURL(src string) string {
	scheme, rest, isURL := strings.Cut(src, "://")
	if !isURL {
		return src
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			rest = user + ":" + redacted + rest[at:]
		}
	}
	if base, query, ok := strings.Cut(rest, "?"); ok {
		rest = base + "?" + redactQuery(query)
	}
	return scheme + "://" + rest
}

// redactQuery hides the values of password-like query parameters, which
// some camera brands use instead of user info.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		key, _, hasValue := strings.Cut(p, "=")
		switch strings.ToLower(key) {
		case "password", "passwd", "pass", "pwd":
			if hasValue {
				parts[i] = key + "=" + redacted
			}
		}
	}
	return strings.Join(parts, "&")
}
