package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// A JSON Schema checker for exactly the keywords our schemas use. go.mod
// has no JSON Schema library; this keeps the schemas honest against real
// encoded events. A keyword it does not know fails the test, so nobody
// adds one to a schema believing it is checked.
var (
	annotationKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true}
	checkedKeywords    = map[string]bool{"type": true, "required": true, "properties": true,
		"additionalProperties": true, "format": true, "minimum": true, "const": true, "pattern": true}
)

func loadSchema(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := Schema(name)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema %s is not JSON: %v", name, err)
	}
	return s
}

// checkSchema returns the violations of v (decoded with UseNumber) against s.
func checkSchema(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !annotationKeywords[k] && !checkedKeywords[k] {
			fail("schema keyword %q is not supported by the test checker", k)
		}
	}
	if typ, ok := s["type"].(string); ok && !hasType(v, typ) {
		fail("is %T, want %s", v, typ)
		return errs
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		fail("is %v, want const %v", v, c)
	}
	if p, ok := s["pattern"].(string); ok {
		if str, _ := v.(string); !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if f, ok := s["format"].(string); ok {
		if f != "date-time" {
			fail("format %q is not supported by the test checker", f)
		} else if str, _ := v.(string); !isDateTime(str) {
			fail("%q is not an RFC 3339 date-time", str)
		}
	}
	if m, ok := s["minimum"].(float64); ok {
		if n, ok := v.(json.Number); ok {
			if f, _ := n.Float64(); f < m {
				fail("%v is below minimum %v", n, m)
			}
		}
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return errs
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				fail("missing required %q", r)
			}
		}
	}
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ps, ok := props[k].(map[string]any); ok {
			errs = append(errs, checkSchema(ps, obj[k], path+"."+k)...)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				fail("unexpected property %q", k)
			}
		case map[string]any:
			errs = append(errs, checkSchema(ap, obj[k], path+"."+k)...)
		}
	}
	return errs
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		if _, err := n.Int64(); err == nil {
			return true
		}
		f, err := n.Float64()
		return err == nil && f == float64(int64(f))
	}
	return false
}

// isDateTime: RFC 3339 requires a zone offset; time.Parse with RFC3339Nano
// accepts exactly the date-time production (with optional fraction).
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func decodeNumbers(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// eventViolations checks an encoded envelope against the envelope schema
// and its data against its type's schema.
func eventViolations(t testing.TB, raw []byte) []string {
	t.Helper()
	v := decodeNumbers(t, raw)
	errs := checkSchema(loadSchema(t, "envelope"), v, "$")
	obj, _ := v.(map[string]any)
	typ, _ := obj["type"].(string)
	if _, err := Schema(typ); err != nil {
		return append(errs, fmt.Sprintf("$.type: no schema for %q", typ))
	}
	return append(errs, checkSchema(loadSchema(t, typ), obj["data"], "$.data")...)
}

func TestRealEventsMatchSchemas(t *testing.T) {
	t.Parallel()
	for _, e := range []Envelope{
		crossingEvent(t, "s1", "cam-0", 3),
		lineCountEvent(t, "s1", "cam-0", 3),
		zoneEvent(t, "s1", "cam-0", 3),
	} {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if errs := eventViolations(t, raw); len(errs) > 0 {
			t.Errorf("%s event %s violates its schema:\n%s", e.Type, raw, strings.Join(errs, "\n"))
		}
	}
}

func TestSchemaCheckerCatchesViolations(t *testing.T) {
	t.Parallel()
	raw, err := json.Marshal(crossingEvent(t, "s1", "cam-0", 3))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(env, data map[string]any)
		want string
	}{
		"missing id":        {func(e, d map[string]any) { delete(e, "id") }, `missing required "id"`},
		"bad id":            {func(e, d map[string]any) { e["id"] = "xyz" }, "does not match"},
		"extra field":       {func(e, d map[string]any) { e["severity"] = "high" }, `unexpected property "severity"`},
		"spec version":      {func(e, d map[string]any) { e["spec_version"] = "2" }, "want const 1"},
		"bad time":          {func(e, d map[string]any) { e["time"] = "2025-03-14 09:30" }, "not an RFC 3339"},
		"time without zone": {func(e, d map[string]any) { e["processed_at"] = "2025-03-14T09:30:00" }, "not an RFC 3339"},
		"data not object":   {func(e, d map[string]any) { e["data"] = "x" }, "want object"},
		"missing line":      {func(e, d map[string]any) { delete(d, "line") }, `missing required "line"`},
		"fractional frame":  {func(e, d map[string]any) { d["frame"] = json.Number("1.5") }, "want integer"},
		"negative track":    {func(e, d map[string]any) { d["track_id"] = json.Number("-1") }, "below minimum"},
		"point as array":    {func(e, d map[string]any) { d["point"] = []any{} }, "want object"},
		"point missing y":   {func(e, d map[string]any) { delete(d["point"].(map[string]any), "y") }, `missing required "y"`},
		"score as string":   {func(e, d map[string]any) { d["score"] = "0.9" }, "want number"},
	}
	for name, c := range cases {
		v := decodeNumbers(t, raw).(map[string]any)
		c.edit(v, v["data"].(map[string]any))
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		errs := strings.Join(eventViolations(t, b), "\n")
		if !strings.Contains(errs, c.want) {
			t.Errorf("%s: violations %q do not mention %q", name, errs, c.want)
		}
	}
	lc, _ := json.Marshal(lineCountEvent(t, "s1", "cam-0", 1))
	v := decodeNumbers(t, lc).(map[string]any)
	v["data"].(map[string]any)["counts"].(map[string]any)["in"] = "3"
	b, _ := json.Marshal(v)
	if errs := strings.Join(eventViolations(t, b), "\n"); !strings.Contains(errs, "$.data.counts.in") {
		t.Errorf("a string count passed: %q", errs)
	}
}

func TestEverySchemaIsUsableAndEveryTypeHasOne(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(Schemas(), "*.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		name := strings.TrimSuffix(n, ".schema.json")
		have[name] = true
		s := loadSchema(t, name)
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %v, want draft 2020-12", n, s["$schema"])
		}
		if s["type"] != "object" {
			t.Errorf("%s: top-level type = %v, want object", n, s["type"])
		}
		for _, bad := range unsupportedKeywords(s, n) {
			t.Errorf("%s uses a keyword the test checker does not check", bad)
		}
		if name != "envelope" && DefaultTopics[name] == "" {
			t.Errorf("schema %s has no topic in DefaultTopics", name)
		}
	}
	if !have["envelope"] {
		t.Error("no envelope schema")
	}
	for typ := range DefaultTopics {
		if !have[typ] {
			t.Errorf("type %s has a topic but no schema", typ)
		}
	}
}

// unsupportedKeywords walks the whole schema, not just the parts some test
// instance happens to reach.
func unsupportedKeywords(s map[string]any, path string) []string {
	var out []string
	for k, v := range s {
		if !annotationKeywords[k] && !checkedKeywords[k] {
			out = append(out, path+"/"+k)
		}
		switch k {
		case "properties":
			for name, ps := range v.(map[string]any) {
				out = append(out, unsupportedKeywords(ps.(map[string]any), path+"/properties/"+name)...)
			}
		case "additionalProperties":
			if ap, ok := v.(map[string]any); ok {
				out = append(out, unsupportedKeywords(ap, path+"/additionalProperties")...)
			}
		case "format":
			if v != "date-time" {
				out = append(out, path+"/format="+fmt.Sprint(v))
			}
		}
	}
	return out
}
