package pos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The events package's schema checker is not exported and knows only the
// keywords of the event schemas; this one adds the few more that
// transaction.schema.json needs. Unknown keywords are violations, so the
// schema cannot use one believing it is checked.
var schemaKeywords = map[string]bool{
	"$schema": true, "$id": true, "title": true, "description": true,
	"type": true, "required": true, "properties": true, "additionalProperties": true, "format": true,
	"pattern": true, "enum": true, "const": true, "items": true, "minItems": true, "maxItems": true,
	"minLength": true, "maxLength": true, "minimum": true, "exclusiveMinimum": true, "allOf": true, "if": true, "then": true,
}

func loadSchema(t testing.TB) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(Schema()))
	d.UseNumber()
	var s map[string]any
	if err := d.Decode(&s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return s
}

// violations checks v (decoded with UseNumber) against s.
func violations(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !schemaKeywords[k] {
			fail("schema keyword %q is not supported by the test's checker", k)
		}
	}
	if typ, ok := s["type"]; ok {
		types, _ := typ.([]any)
		if name, ok := typ.(string); ok {
			types = []any{name}
		}
		match := false
		for _, name := range types {
			match = match || jsonHasType(v, name.(string))
		}
		if !match {
			fail("is %T, want %v", v, typ)
			return errs
		}
	}
	if c, ok := s["const"]; ok && !sameJSON(c, v) {
		fail("is %v, want %v", v, c)
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || sameJSON(e, v)
		}
		if !found {
			fail("is %v, want one of %v", v, enum)
		}
	}
	if str, ok := v.(string); ok {
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
		if n, ok := s["minLength"].(json.Number); ok && int64(utf8.RuneCountInString(str)) < mustInt(n) {
			fail("shorter than %v", n)
		}
		if n, ok := s["maxLength"].(json.Number); ok && int64(utf8.RuneCountInString(str)) > mustInt(n) {
			fail("longer than %v", n)
		}
		if f, ok := s["format"].(string); ok {
			if f != "date-time" {
				fail("format %q is not supported by the test's checker", f)
			} else if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				fail("%q is not a date-time", str)
			}
		}
	}
	if n, ok := v.(json.Number); ok {
		x, _ := n.Float64()
		if m, ok := s["minimum"].(json.Number); ok {
			if mf, _ := m.Float64(); x < mf {
				fail("%v is below minimum %v", n, m)
			}
		}
		if m, ok := s["exclusiveMinimum"].(json.Number); ok {
			if mf, _ := m.Float64(); x <= mf {
				fail("%v is not above %v", n, m)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if n, ok := s["minItems"].(json.Number); ok && int64(len(arr)) < mustInt(n) {
			fail("fewer than %v items", n)
		}
		if n, ok := s["maxItems"].(json.Number); ok && int64(len(arr)) > mustInt(n) {
			fail("more than %v items", n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range arr {
				errs = append(errs, violations(items, it, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, violations(sub.(map[string]any), v, path)...)
		}
	}
	if cond, ok := s["if"].(map[string]any); ok && len(violations(cond, v, path)) == 0 {
		if then, ok := s["then"].(map[string]any); ok {
			errs = append(errs, violations(then, v, path)...)
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
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
			errs = append(errs, violations(ps, obj[k], path+"."+k)...)
		} else if ap, ok := s["additionalProperties"].(bool); ok && !ap {
			fail("unexpected property %q", k)
		}
	}
	return errs
}

func mustInt(n json.Number) int64 {
	i, err := n.Int64()
	if err != nil {
		panic(err)
	}
	return i
}

func sameJSON(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func jsonHasType(v any, typ string) bool {
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
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func schemaViolations(t testing.TB, s map[string]any, raw []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("example is not JSON: %v", err)
	}
	return violations(s, v, "$")
}

func TestSchemaDocumentsEveryField(t *testing.T) {
	s := loadSchema(t)
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %v", s["$schema"])
	}
	if d, _ := s["description"].(string); d == "" {
		t.Error("no top-level description")
	}
	// Every field Parse reads is in the schema, with a description.
	fields := map[string][]string{
		"": {"store", "region", "register", "cashier", "transaction_id", "type", "amount", "currency", "tender",
			"timestamp", "items", "original_transaction_id"},
		"items": {"sku", "description", "quantity", "unit_price", "amount"},
	}
	props := s["properties"].(map[string]any)
	itemProps := props["items"].(map[string]any)["items"].(map[string]any)["properties"].(map[string]any)
	for scope, names := range fields {
		p := props
		if scope == "items" {
			p = itemProps
		}
		if len(p) != len(names) {
			t.Errorf("%s: schema has %d properties, Parse reads %d", scope, len(p), len(names))
		}
		for _, n := range names {
			ps, ok := p[n].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not in the schema", scope, n)
				continue
			}
			if d, _ := ps["description"].(string); len(d) < 10 {
				t.Errorf("%s.%s: no description", scope, n)
			}
		}
	}
	// The enums are the package's.
	var types, tenders []string
	for _, v := range props["type"].(map[string]any)["enum"].([]any) {
		types = append(types, v.(string))
	}
	for _, v := range props["tender"].(map[string]any)["enum"].([]any) {
		if v != nil {
			tenders = append(tenders, v.(string))
		}
	}
	if strings.Join(types, ",") != strings.ReplaceAll(joinNames(Types), ", ", ",") ||
		strings.Join(tenders, ",") != strings.ReplaceAll(joinNames(Tenders), ", ", ",") {
		t.Errorf("enums %v %v differ from Types/Tenders", types, tenders)
	}
}

func TestSchemaAgreesWithParse(t *testing.T) {
	s := loadSchema(t)
	accepted := [][]byte{
		[]byte(saleJSON),
		msg(t, map[string]any{"amount": rawJSON("12.5"), "region": nil, "timestamp": "2026-11-16T13:03:27.250Z"}),
		msg(t, map[string]any{"type": "refund", "original_transaction_id": "t-99", "tender": "card"}),
		msg(t, map[string]any{"type": "void", "tender": rawJSON("null"), "loyalty": map[string]any{"card": 123}, "region": rawJSON("null")}),
		msg(t, map[string]any{"type": "no_sale", "amount": 0, "tender": nil}),
		msg(t, map[string]any{"type": "partial_cancel", "amount": "3.98", "tender": nil, "timestamp": "2026-03-29T01:59:59-05:00",
			"items": []any{map[string]any{"sku": "4001", "description": "Milk 1l", "quantity": 2, "unit_price": "1.99", "amount": 3.98, "vat": 7}}}),
		msg(t, map[string]any{"items": []any{lineItem("pl-7", 0.455, "3.49", "1.588")}, "tender": "voucher"}),
		msg(t, map[string]any{"cashier": strings.Repeat("é", MaxIDLength), "timestamp": "2100-12-31T23:59:59+14:00"}),
		msg(t, map[string]any{"timestamp": "2000-01-01T00:00:00-12:00", "amount": "1234567.891", "items": rawJSON("null")}),
	}
	for i, raw := range accepted {
		if _, err := Parse(raw); err != nil {
			t.Fatalf("accepted[%d] rejected by Parse: %v", i, err)
		}
		if v := schemaViolations(t, s, raw); len(v) > 0 {
			t.Errorf("accepted[%d] %s violates the schema: %q", i, raw, v)
		}
	}
	var many []any
	for i := 0; i <= MaxItems; i++ {
		many = append(many, lineItem("a", 1, 1, 1))
	}
	rejected := map[string][]byte{
		"empty object":        []byte(`{}`),
		"array":               []byte(`[` + saleJSON + `]`),
		"null store":          msg(t, map[string]any{"store": rawJSON("null")}),
		"empty store":         msg(t, map[string]any{"store": ""}),
		"store number":        msg(t, map[string]any{"store": 7}),
		"amount boolean":      msg(t, map[string]any{"amount": true}),
		"timestamp number":    msg(t, map[string]any{"timestamp": 1763298207}),
		"items object":        msg(t, map[string]any{"items": map[string]any{}}),
		"unknown type":        msg(t, map[string]any{"type": "refnd"}),
		"negative number":     msg(t, map[string]any{"amount": rawJSON("-5")}),
		"negative string":     msg(t, map[string]any{"amount": "-0.01"}),
		"4 decimals string":   msg(t, map[string]any{"amount": "1.2345"}),
		"comma":               msg(t, map[string]any{"amount": "12,50"}),
		"currency":            msg(t, map[string]any{"currency": "eur"}),
		"no currency":         msg(t, map[string]any{"currency": nil}),
		"sale no tender":      msg(t, map[string]any{"tender": nil}),
		"refund null tender":  msg(t, map[string]any{"type": "refund", "tender": rawJSON("null")}),
		"unknown tender":      msg(t, map[string]any{"tender": "bitcoin"}),
		"no offset":           msg(t, map[string]any{"timestamp": "2026-11-16T14:03:27"}),
		"year 1999":           msg(t, map[string]any{"timestamp": "1999-12-31T23:59:59+01:00"}),
		"year 2101":           msg(t, map[string]any{"timestamp": "2101-01-01T00:00:00Z"}),
		"partial no items":    msg(t, map[string]any{"type": "partial_cancel", "tender": nil}),
		"partial empty items": msg(t, map[string]any{"type": "partial_cancel", "items": []any{}}),
		"item not object":     msg(t, map[string]any{"items": []any{"4001"}}),
		"item no sku":         msg(t, map[string]any{"items": []any{map[string]any{"quantity": 1, "unit_price": 1, "amount": 1}}}),
		"item zero quantity":  msg(t, map[string]any{"items": []any{lineItem("a", 0, 1, 1)}}),
		"item string qty":     msg(t, map[string]any{"items": []any{lineItem("a", "2", 1, 1)}}),
		"item negative":       msg(t, map[string]any{"items": []any{lineItem("a", 1, 1, -1)}}),
		"too many items":      msg(t, map[string]any{"items": many}),
		"long id":             msg(t, map[string]any{"transaction_id": strings.Repeat("x", MaxIDLength+1)}),
		"control character":   msg(t, map[string]any{"cashier": "c\n7"}),
		"C1 control":          msg(t, map[string]any{"register": "r\u00851"}),
	}
	for name, raw := range rejected {
		if _, err := Parse(raw); err == nil {
			t.Errorf("%s: Parse accepted %s", name, raw)
		}
		if v := schemaViolations(t, s, raw); len(v) == 0 {
			t.Errorf("%s: schema accepts %s, which Parse rejects", name, raw)
		}
	}
	// What JSON Schema cannot say (the schema's description lists it):
	// decimals and exponents of JSON numbers, keys given twice, the size.
	for name, raw := range map[string][]byte{
		"4 decimals number": msg(t, map[string]any{"amount": rawJSON("1.2345")}),
		"exponent":          msg(t, map[string]any{"amount": rawJSON("1e3")}),
		"duplicate key":     []byte(saleJSON[:len(saleJSON)-1] + `,"amount":"0.01"}`),
	} {
		if _, err := Parse(raw); err == nil {
			t.Errorf("%s: Parse accepted %s", name, raw)
		}
	}
}
