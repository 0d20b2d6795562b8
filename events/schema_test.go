package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
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
	errs, err := schemaViolations(raw)
	if err != nil {
		t.Fatal(err)
	}
	return errs
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
			t.Errorf("%s uses a keyword the schema checker does not check", bad)
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
