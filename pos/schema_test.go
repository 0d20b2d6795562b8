package pos

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/storesight/storesight/events"
)

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

// schemaViolations checks an example against the POS schema with the
// project's JSON Schema checker.
func schemaViolations(t testing.TB, raw []byte) []string {
	t.Helper()
	v, err := events.Violations(Schema(), raw)
	if err != nil {
		t.Fatalf("example: %v", err)
	}
	return v
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
		if v := schemaViolations(t, raw); len(v) > 0 {
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
		if v := schemaViolations(t, raw); len(v) == 0 {
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
