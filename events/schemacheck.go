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
	"unicode/utf8"
)

// A JSON Schema checker for exactly the keywords our schemas use. go.mod
// has no JSON Schema library; this keeps the schemas honest against real
// encoded events, here and in the producers' tests. A keyword it does not
// know is a violation, so nobody adds one to a schema believing it is
// checked.
var (
	annotationKeywords = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true}
	checkedKeywords    = map[string]bool{"type": true, "required": true, "properties": true,
		"additionalProperties": true, "format": true, "minimum": true, "exclusiveMinimum": true, "const": true,
		"pattern": true, "enum": true, "items": true, "minItems": true, "maxItems": true,
		"minLength": true, "maxLength": true, "allOf": true, "if": true, "then": true}
)

// Violations checks the JSON instance against the JSON Schema schema (the
// keywords above; "type" may be a list) and returns every violation, with
// its JSON path. Schemas other than the event types' (the POS input's) are
// checked with it.
func Violations(schema, instance []byte) ([]string, error) {
	var s map[string]any
	if err := decodeJSON(schema, &s); err != nil {
		return nil, fmt.Errorf("events: decode schema: %w", err)
	}
	var v any
	if err := decodeJSON(instance, &v); err != nil {
		return nil, fmt.Errorf("events: decode instance: %w", err)
	}
	return checkSchema(s, v, "$"), nil
}

// decodeJSON keeps numbers as json.Number, so integers and bounds are
// compared exactly.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

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
	var v any
	if err := decodeJSON(raw, &v); err != nil {
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
	if err := decodeJSON(b, &s); err != nil {
		return nil, fmt.Errorf("events: schema %s is not JSON: %w", name, err)
	}
	return s, nil
}

// checkSchema returns the violations of v against s (both decoded with
// UseNumber).
func checkSchema(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !annotationKeywords[k] && !checkedKeywords[k] {
			fail("schema keyword %q is not supported by the schema checker", k)
		}
	}
	if typ, ok := s["type"]; ok {
		types, _ := typ.([]any)
		if name, ok := typ.(string); ok {
			types = []any{name}
		}
		match := false
		for _, name := range types {
			match = match || hasType(v, name.(string))
		}
		if !match {
			fail("is %T, want %v", v, typ)
			return errs
		}
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
	if str, ok := v.(string); ok {
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
		if n, ok := bound(s, "minLength"); ok && float64(utf8.RuneCountInString(str)) < n {
			fail("shorter than %v", n)
		}
		if n, ok := bound(s, "maxLength"); ok && float64(utf8.RuneCountInString(str)) > n {
			fail("longer than %v", n)
		}
		if f, ok := s["format"].(string); ok {
			if f != "date-time" {
				fail("format %q is not supported by the schema checker", f)
			} else if !isDateTime(str) {
				fail("%q is not an RFC 3339 date-time", str)
			}
		}
	}
	if n, ok := v.(json.Number); ok {
		x, _ := n.Float64()
		if m, ok := bound(s, "minimum"); ok && x < m {
			fail("%v is below minimum %v", n, m)
		}
		if m, ok := bound(s, "exclusiveMinimum"); ok && x <= m {
			fail("%v is not above %v", n, m)
		}
	}
	if arr, ok := v.([]any); ok {
		if n, ok := bound(s, "minItems"); ok && float64(len(arr)) < n {
			fail("fewer than %v items", n)
		}
		if n, ok := bound(s, "maxItems"); ok && float64(len(arr)) > n {
			fail("more than %v items", n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range arr {
				errs = append(errs, checkSchema(items, it, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, checkSchema(sub.(map[string]any), v, path)...)
		}
	}
	if cond, ok := s["if"].(map[string]any); ok && len(checkSchema(cond, v, path)) == 0 {
		if then, ok := s["then"].(map[string]any); ok {
			errs = append(errs, checkSchema(then, v, path)...)
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

// bound reads a numeric keyword of s.
func bound(s map[string]any, key string) (float64, bool) {
	n, ok := s[key].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func hasType(v any, typ string) bool {
	switch typ {
	case "null":
		return v == nil
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
