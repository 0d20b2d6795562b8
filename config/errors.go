package config

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem in a configuration, located by file, line and key
// path. The errors returned by Load, Parse and Validate join one *Error per
// problem; use errors.As or the Unwrap() []error of the joined error to get
// at them.
type Error struct {
	File string
	// Line is 1-based; 0 when unknown (config built in code).
	Line int
	// Path is the key path, e.g. cameras[0].lines[1].points; empty for
	// problems with the file as a whole.
	Path string
	Msg  string
}

// Error formats as file:line: path: message, leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		} else {
			b.WriteString("line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinSorted orders problems as they appear in the file, so the report
// reads top to bottom; problems without a line go last.
func joinSorted(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if li == 0 || lj == 0 {
			return lj == 0 && li != 0
		}
		return li < lj
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// parentPath strips the last key or index: a.b[2].c -> a.b[2] -> a.b -> a -> "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// within reports whether path p is key path q or lies below it.
func within(p, q string) bool {
	if q == "" || p == q {
		return true
	}
	return strings.HasPrefix(p, q) && (p[len(q)] == '.' || p[len(q)] == '[')
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
