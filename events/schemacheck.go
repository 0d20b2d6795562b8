package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A JSON Schema checker for exactly the keywords our schemas use. go.mod
// has no JSON Schema library; this keeps the schemas honest against real
// encoded events, here and in the producers' tests. A keyword it does not
// know is a violation, so nobody adds one to a schema believing it is
// checked.
var (
	annotationKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true}
	checkedKeywords    = map[string]bool{"type": true, "required": true, "properties": true,
		"additionalProperties": true, "format": true, "minimum": true, "const": true, "pattern": true, "enum": true, "items": true}
)

// CheckSchemas checks an encoded envelope against the envelope schema and
// its data against its type's schema, with the keywords those schemas use.
// Producers' tests run it on the events they really publish, so a change to
// a payload's JSON that the schema does not allow fails there.
func CheckSchemas(raw []byte) error {
	errs, err := schemaViolations(raw)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errors.New("events: schema violations: " + strings.Join(errs, "; "))
	}
	return nil
}

func schemaViolations(raw []byte) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("events: decode event: %w", err)
	}
	env, err := parsedSchema("envelope")
	if err != nil {
		return nil, err
	}
	errs := checkSchema(env, v, "$")
	obj, _ := v.(map[string]any)
	typ, _ := obj["type"].(string)
	data, err := parsedSchema(typ)
	if err != nil {
		return append(errs, fmt.Sprintf("$.type: no schema for %q", typ)), nil
	}
	return append(errs, checkSchema(data, obj["data"], "$.data")...), nil
}

func parsedSchema(name string) (map[string]any, error) {
	b, err := Schema(name)
	if err != nil {
		return nil, err
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("events: schema %s is not JSON: %w", name, err)
	}
	return s, nil
}

// checkSchema returns the violations of v (decoded with UseNumber) against s.
func checkSchema(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !annotationKeywords[k] && !checkedKeywords[k] {
			fail("schema keyword %q is not supported by the schema checker", k)
		}
	}
	if typ, ok := s["type"].(string); ok && !hasType(v, typ) {
		fail("is %T, want %s", v, typ)
		return errs
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		fail("is %v, want const %v", v, c)
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || fmt.Sprint(e) == fmt.Sprint(v)
		}
		if !found {
			fail("is %v, want one of %v", v, enum)
		}
	}
	if p, ok := s["pattern"].(string); ok {
		if str, _ := v.(string); !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if f, ok := s["format"].(string); ok {
		if f != "date-time" {
			fail("format %q is not supported by the schema checker", f)
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
	if items, ok := s["items"].(map[string]any); ok {
		if arr, ok := v.([]any); ok {
			for i, it := range arr {
				errs = append(errs, checkSchema(items, it, fmt.Sprintf("%s[%d]", path, i))...)
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
