package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decoder fills a Config from a yaml.Node tree. It starts from the
// defaults and overwrites only the keys present, records the line of every
// key it sees, and keeps going after a problem so that one run reports all
// of them.
type decoder struct {
	file  string
	lines map[string]int
	errs  []*Error
	// failed holds the paths whose value could not be decoded; validation
	// problems at, above or below them are noise and are dropped.
	failed []string
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}}
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// failedNear reports whether path is at, above or below a value that could
// not be decoded.
func (d *decoder) failedNear(path string) bool {
	for _, f := range d.failed {
		if within(path, f) || within(f, path) {
			return true
		}
	}
	return false
}

// document decodes data into v, a struct (the Config, or a DecodeFile
// target). It returns an error only when the YAML cannot be parsed at all;
// other problems are collected in d.errs.
func (d *decoder) document(data []byte, v reflect.Value) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults only, validation says what is missing
		}
		return d.syntaxError(data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.errorf(extra.Line, "", "only one YAML document is allowed")
	case !errors.Is(err, io.EOF):
		return d.syntaxError(data, err)
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	d.lines[""] = root.Line
	d.value(root, v, "")
	return nil
}

var (
	yamlLineErr   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorErr = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// syntaxError turns yaml.v3's "yaml: line N: msg" into file:N: msg. yaml.v3
// gives no line for errors on the first line, for unknown aliases and for
// bad characters, so those are located here.
func (d *decoder) syntaxError(data []byte, err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		if m := yamlAnchorErr.FindStringSubmatch(msg); m != nil {
			if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
				line = 1 + bytes.Count(data[:i], []byte("\n"))
			}
		} else if line = badCharLine(data); line == 0 {
			line = 1
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: d.file, Line: line, Msg: "invalid YAML: " + msg}
}

// badCharLine returns the line of the first byte sequence YAML does not
// allow (invalid UTF-8 or a control character), or 0.
func badCharLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		bad := (r == utf8.RuneError && size <= 1) ||
			(r < 0x20 && r != '\t' && r != '\n' && r != '\r') ||
			(r >= 0x7F && r < 0xA0 && r != 0x85) ||
			r == 0xFFFE || r == 0xFFFF
		if bad {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
}

// value decodes n into v. A null keeps the default already in v.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Array:
		d.array(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeError(n, v, path)
		return
	}
	// Merge keys (<<: *anchor) go first so explicit keys win wherever they
	// appear in the mapping, as YAML specifies.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMerge(n.Content[i]) {
			d.merge(n.Content[i+1], v, path)
		}
	}
	fields, names := fieldsOf(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be names, got %s", describe(k))
			continue
		}
		p := joinKey(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, p, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k.Line, p, "unknown key%s", suggest(k.Value, names))
			continue
		}
		d.lines[p] = k.Line
		d.value(val, v.Field(idx), p)
	}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// merge applies a merge key's value: a mapping or a list of mappings, the
// earlier ones taking precedence.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		d.mapping(n, v, path)
		return
	case yaml.SequenceNode:
		ok := true
		for _, m := range n.Content {
			for m.Kind == yaml.AliasNode && m.Alias != nil {
				m = m.Alias
			}
			ok = ok && m.Kind == yaml.MappingNode
		}
		if ok {
			for i := len(n.Content) - 1; i >= 0; i-- {
				d.mapping(n.Content[i], v, path)
			}
			return
		}
	}
	d.errorf(n.Line, path, "<< needs a mapping or a list of mappings, got %s", describe(n))
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, v, path)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := joinIndex(path, i)
		d.lines[p] = item.Line
		e := s.Index(i)
		setElementDefaults(e)
		d.value(item, e, p)
	}
	v.Set(s)
}

// setElementDefaults gives list elements that have defaults of their own
// those defaults before their keys are decoded.
func setElementDefaults(e reflect.Value) {
	switch p := e.Addr().Interface().(type) {
	case *Camera:
		*p = DefaultCamera()
	case *Line:
		*p = DefaultLine()
	case *Rule:
		*p = DefaultRule()
	}
}

// array decodes fixed-size values; the only one in the schema is Point.
func (d *decoder) array(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, v, path)
		return
	}
	if len(n.Content) != v.Len() {
		d.errorf(n.Line, path, "a point is [x, y], got %d values", len(n.Content))
		d.failed = append(d.failed, path)
		return
	}
	for i, item := range n.Content {
		d.value(item, v.Index(i), joinIndex(path, i))
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.typeError(n, v, path)
		return
	}
	if v.Type() == durationType {
		dur, err := time.ParseDuration(n.Value)
		if n.ShortTag() != "!!str" || err != nil {
			d.errorf(n.Line, path, "expected a duration such as 5s or 250ms, got %s", describe(n))
			d.failed = append(d.failed, path)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	// yaml.v3 truncates 2.5 into an int and reads "0.3" as a string only;
	// a count written as 2.5 is a mistake worth reporting.
	if isInt(v.Kind()) && n.ShortTag() != "!!int" {
		d.typeError(n, v, path)
		return
	}
	ptr := reflect.New(v.Type())
	if err := n.Decode(ptr.Interface()); err != nil {
		d.typeError(n, v, path)
		return
	}
	v.Set(ptr.Elem())
}

var durationType = reflect.TypeOf(Duration(0))

func (d *decoder) typeError(n *yaml.Node, v reflect.Value, path string) {
	d.errorf(n.Line, path, "expected %s, got %s", want(v), describe(n))
	d.failed = append(d.failed, path)
}

func want(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.Array:
		return "a point [x, y]"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return v.Type().String()
}

// describe names what was found, quoting strings so that "1O" and 10 are
// told apart.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		val := n.Value
		if len(val) > 40 {
			val = val[:40] + "..."
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(val)
		}
		return val
	}
	return "nothing"
}

// fieldsOf maps yaml key names to struct field indexes; names is the key
// list for did-you-mean suggestions.
func fieldsOf(t reflect.Type) (fields map[string]int, names []string) {
	fields = map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, names
}

// suggest returns ` (did you mean "x"?)` for the closest known key within
// a typo or two (one for short keys, where two edits reach anything), or "".
func suggest(key string, names []string) string {
	limit := 2
	if len(key) <= 4 {
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, n := range names {
		if dist := editDistance(strings.ToLower(key), n); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}
