package pos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// saleJSON is a valid sale; variants of it are built with msg.
const saleJSON = `{"store":"s1","region":"north","register":"r1","cashier":"c7","transaction_id":"t-100",` +
	`"type":"sale","amount":"49.90","currency":"EUR","tender":"cash","timestamp":"2026-11-16T14:03:27+01:00"}`

// msg returns saleJSON with fields set (nil value: removed) and encoded.
func msg(t testing.TB, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(saleJSON), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawJSON is a value msg writes verbatim (json.RawMessage).
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func lineItem(sku string, qty any, price, amount any) map[string]any {
	return map[string]any{"sku": sku, "quantity": qty, "unit_price": price, "amount": amount}
}

func TestParseValid(t *testing.T) {
	plus1 := time.FixedZone("", 3600)
	cases := []struct {
		name string
		raw  []byte
		want Transaction
	}{
		{"sale, amount as string", []byte(saleJSON), Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: "c7",
			ID: "t-100", Type: TypeSale, Amount: 49900, Currency: "EUR", Tender: TenderCash,
			Timestamp: time.Date(2026, 11, 16, 14, 3, 27, 0, plus1)}},
		{"amount as number, UTC, no region", msg(t, map[string]any{"amount": rawJSON("12.5"), "region": nil, "timestamp": "2026-11-16T13:03:27.250Z"}),
			Transaction{Store: "s1", Register: "r1", Cashier: "c7", ID: "t-100", Type: TypeSale, Amount: 12500, Currency: "EUR",
				Tender: TenderCash, Timestamp: time.Date(2026, 11, 16, 13, 3, 27, 250e6, time.UTC)}},
		{"cash refund with original id", msg(t, map[string]any{"type": "refund", "original_transaction_id": "t-99"}),
			Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: "c7", ID: "t-100", Type: TypeRefund, Amount: 49900,
				Currency: "EUR", Tender: TenderCash, Timestamp: time.Date(2026, 11, 16, 14, 3, 27, 0, plus1), OriginalID: "t-99"}},
		{"void, tender null, unknown fields ignored", msg(t, map[string]any{"type": "void", "tender": rawJSON("null"),
			"loyalty": map[string]any{"card": 123}, "x_vendor": []int{1}}),
			Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: "c7", ID: "t-100", Type: TypeVoid, Amount: 49900,
				Currency: "EUR", Timestamp: time.Date(2026, 11, 16, 14, 3, 27, 0, plus1)}},
		{"no sale", msg(t, map[string]any{"type": "no_sale", "amount": 0, "tender": nil}),
			Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: "c7", ID: "t-100", Type: TypeNoSale,
				Currency: "EUR", Timestamp: time.Date(2026, 11, 16, 14, 3, 27, 0, plus1)}},
		{"partial cancel", msg(t, map[string]any{"type": "partial_cancel", "amount": "3.98", "tender": nil, "timestamp": "2026-03-29T01:59:59-05:00",
			"items": []any{map[string]any{"sku": "4001", "description": "Milk 1l", "quantity": 2, "unit_price": "1.99", "amount": 3.98}}}),
			Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: "c7", ID: "t-100", Type: TypePartialCancel, Amount: 3980,
				Currency: "EUR", Timestamp: time.Date(2026, 3, 29, 1, 59, 59, 0, time.FixedZone("", -5*3600)),
				Items: []LineItem{{SKU: "4001", Description: "Milk 1l", Quantity: 2, UnitPrice: 1990, Amount: 3980}}}},
		{"weighed item", msg(t, map[string]any{"items": []any{lineItem("pl-7", 0.455, "3.49", "1.588")}}),
			Transaction{Store: "s1", Region: "north", Register: "r1", Cashier: "c7", ID: "t-100", Type: TypeSale, Amount: 49900,
				Currency: "EUR", Tender: TenderCash, Timestamp: time.Date(2026, 11, 16, 14, 3, 27, 0, plus1),
				Items: []LineItem{{SKU: "pl-7", Quantity: 0.455, UnitPrice: 3490, Amount: 1588}}}},
		{"whitespace around", append(append([]byte("\n  "), saleJSON...), " \r\n"...), Transaction{Store: "s1", Region: "north",
			Register: "r1", Cashier: "c7", ID: "t-100", Type: TypeSale, Amount: 49900, Currency: "EUR", Tender: TenderCash,
			Timestamp: time.Date(2026, 11, 16, 14, 3, 27, 0, plus1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.raw)
			if err != nil {
				t.Fatalf("Parse(%s): %v", c.raw, err)
			}
			if !got.Timestamp.Equal(c.want.Timestamp) || got.Timestamp.Format(time.RFC3339Nano) != c.want.Timestamp.Format(time.RFC3339Nano) {
				t.Errorf("timestamp %s, want %s (offset kept)", got.Timestamp.Format(time.RFC3339Nano), c.want.Timestamp.Format(time.RFC3339Nano))
			}
			got.Timestamp, c.want.Timestamp = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// The local day of a transaction comes from the offset it was sent with,
// whatever the machine's zone: 00:30+01:00 is still the 17th.
func TestParseKeepsLocalDay(t *testing.T) {
	tx, err := Parse(msg(t, map[string]any{"timestamp": "2026-11-17T00:30:00+01:00"}))
	if err != nil {
		t.Fatal(err)
	}
	if d := tx.Timestamp.Day(); d != 17 {
		t.Errorf("local day %d, want 17", d)
	}
	if _, off := tx.Timestamp.Zone(); off != 3600 {
		t.Errorf("offset %d, want 3600", off)
	}
	out, _ := json.Marshal(tx)
	if !bytes.Contains(out, []byte(`"timestamp":"2026-11-17T00:30:00+01:00"`)) {
		t.Errorf("re-encoded %s", out)
	}
}

func TestParseInvalid(t *testing.T) {
	long := strings.Repeat("x", MaxIDLength+1)
	var many []any
	for i := 0; i <= MaxItems; i++ {
		many = append(many, lineItem("a", 1, 1, 1))
	}
	cases := []struct {
		name string
		raw  []byte
		kind string
		want []string // every reason, in order
	}{
		{"not JSON", []byte(`{"store":`), ReasonNotJSON, []string{"message: not JSON: unexpected end of JSON input"}},
		{"trailing data", []byte(saleJSON + `{}`), ReasonNotJSON, []string{"message: not JSON: invalid character '{' after top-level value"}},
		{"not UTF-8", []byte("{\"store\":\"s\xff\"}"), ReasonNotJSON, []string{"message: not valid UTF-8"}},
		{"too large", append([]byte(saleJSON[:len(saleJSON)-1]+`,"pad":"`), append(bytes.Repeat([]byte("x"), MaxMessageBytes), `"}`...)...),
			ReasonTooLarge, []string{fmt.Sprintf("message: %d bytes, more than 65536", len(saleJSON)+MaxMessageBytes+9)}},
		{"array", []byte(`[` + saleJSON + `]`), ReasonInvalid, []string{"message: is an array, want an object"}},
		{"string", []byte(`"sale"`), ReasonInvalid, []string{"message: is a string, want an object"}},
		{"empty object", []byte(`{}`), ReasonInvalid, []string{"amount: missing", "store: missing", "register: missing",
			"cashier: missing", "transaction_id: missing", "type: missing", "currency: missing", "timestamp: missing"}},
		{"nulls are missing", msg(t, map[string]any{"store": rawJSON("null"), "amount": rawJSON("null")}), ReasonInvalid,
			[]string{"amount: missing", "store: missing"}},
		{"empty strings", msg(t, map[string]any{"store": "", "cashier": ""}), ReasonInvalid, []string{"store: empty", "cashier: empty"}},
		{"duplicate key", []byte(saleJSON[:len(saleJSON)-1] + `,"amount":"0.01"}`), ReasonInvalid, []string{"amount: given more than once"}},
		{"wrong types", msg(t, map[string]any{"store": 7, "amount": true, "timestamp": 1763298207, "items": map[string]any{},
			"type": []string{"sale"}, "tender": false, "region": 1.5}), ReasonInvalid, []string{
			"store: is a number, want a string", "region: is a number, want a string", "type: is an array, want a string",
			"amount: is a boolean, want a number or a decimal string", "tender: is a boolean, want a string",
			"timestamp: is a number, want an RFC 3339 string", "items: is an object, want an array"}},
		{"unknown type", msg(t, map[string]any{"type": "refnd"}), ReasonInvalid,
			[]string{`type: "refnd" is not one of sale, void, refund, partial_cancel, no_sale`}},
		{"negative amount", msg(t, map[string]any{"amount": rawJSON("-5")}), ReasonInvalid, []string{"amount: negative"}},
		{"negative amount string", msg(t, map[string]any{"amount": "-0.01"}), ReasonInvalid, []string{"amount: negative"}},
		{"4 decimals", msg(t, map[string]any{"amount": rawJSON("1.2345")}), ReasonInvalid, []string{`amount: "1.2345": more than 3 decimals`}},
		{"exponent", msg(t, map[string]any{"amount": rawJSON("1e3")}), ReasonInvalid, []string{`amount: "1e3": not a decimal number`}},
		{"amount text", msg(t, map[string]any{"amount": "12,50"}), ReasonInvalid, []string{`amount: "12,50": not a decimal number`}},
		{"currency", msg(t, map[string]any{"currency": "eur"}), ReasonInvalid, []string{`currency: "eur" is not 3 upper-case letters (ISO 4217)`}},
		{"sale without tender", msg(t, map[string]any{"tender": nil}), ReasonInvalid, []string{"tender: missing (required for sale)"}},
		{"refund without tender", msg(t, map[string]any{"type": "refund", "tender": rawJSON("null")}), ReasonInvalid,
			[]string{"tender: missing (required for refund)"}},
		{"unknown tender", msg(t, map[string]any{"tender": "bitcoin"}), ReasonInvalid,
			[]string{`tender: "bitcoin" is not one of cash, card, mobile, voucher, other`}},
		{"timestamp without offset", msg(t, map[string]any{"timestamp": "2026-11-16T14:03:27"}), ReasonInvalid,
			[]string{`timestamp: "2026-11-16T14:03:27" is not an RFC 3339 time with a UTC offset`}},
		{"timestamp not a time", msg(t, map[string]any{"timestamp": "yesterday"}), ReasonInvalid,
			[]string{`timestamp: "yesterday" is not an RFC 3339 time with a UTC offset`}},
		{"timestamp year", msg(t, map[string]any{"timestamp": "1999-12-31T23:59:59+01:00"}), ReasonInvalid,
			[]string{"timestamp: year 1999 is outside 2000-2100"}},
		{"timestamp year after", msg(t, map[string]any{"timestamp": "2101-01-01T00:00:00Z"}), ReasonInvalid,
			[]string{"timestamp: year 2101 is outside 2000-2100"}},
		{"partial cancel without items", msg(t, map[string]any{"type": "partial_cancel", "tender": nil}), ReasonInvalid,
			[]string{"items: missing (at least one required for partial_cancel)"}},
		{"partial cancel with empty items", msg(t, map[string]any{"type": "partial_cancel", "items": []any{}}), ReasonInvalid,
			[]string{"items: missing (at least one required for partial_cancel)"}},
		{"bad items", msg(t, map[string]any{"items": []any{
			"4001",
			map[string]any{"quantity": 0, "unit_price": "-1", "amount": "x"},
			map[string]any{"sku": "ok", "quantity": "2", "unit_price": 1},
			lineItem("ok", 1, 1, 1),
			map[string]any{"sku": "a\tb", "description": 5, "quantity": -1, "unit_price": 1, "amount": -1},
		}}), ReasonInvalid, []string{
			"items[0]: is a string, want an object",
			`items[1].amount: "x": not a decimal number`,
			"items[2].quantity: is a string, want a number",
			"items[2].amount: missing",
			"items[4].description: is a number, want a string",
			"items[1].sku: missing", "items[1].quantity: 0 is not a positive number", "items[1].unit_price: negative",
			"items[4].sku: contains control characters", "items[4].quantity: -1 is not a positive number", "items[4].amount: negative"}},
		{"too many items", msg(t, map[string]any{"items": many}), ReasonInvalid, []string{"items: 1001 items, at most 1000"}},
		{"long and control", msg(t, map[string]any{"transaction_id": long, "cashier": "c\n7", "original_transaction_id": long}),
			ReasonInvalid, []string{"cashier: contains control characters", "transaction_id: longer than 128 characters",
				"original_transaction_id: longer than 128 characters"}},
		{"several at once", msg(t, map[string]any{"type": "refnd", "amount": "-1", "timestamp": nil, "currency": "€"}), ReasonInvalid,
			[]string{`type: "refnd" is not one of sale, void, refund, partial_cancel, no_sale`, "amount: negative",
				`currency: "€" is not 3 upper-case letters (ISO 4217)`, "timestamp: missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.raw)
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse = %v, want an *InvalidError", err)
			}
			if ie.Kind != c.kind {
				t.Errorf("kind %q, want %q", ie.Kind, c.kind)
			}
			if !reflect.DeepEqual(ie.Reasons, c.want) {
				t.Errorf("reasons\n got  %q\n want %q", ie.Reasons, c.want)
			}
			if ie.Error() != strings.Join(c.want, "; ") {
				t.Errorf("Error() = %q", ie.Error())
			}
		})
	}
}

// A 129-character id is too long by characters, not bytes: 128 two-byte
// characters are fine.
func TestParseCountsCharacters(t *testing.T) {
	if _, err := Parse(msg(t, map[string]any{"cashier": strings.Repeat("é", MaxIDLength)})); err != nil {
		t.Errorf("128 characters: %v", err)
	}
	if _, err := Parse(msg(t, map[string]any{"cashier": strings.Repeat("é", MaxIDLength+1)})); err == nil {
		t.Error("129 characters accepted")
	}
}

func TestValidate(t *testing.T) {
	good, err := Parse([]byte(saleJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Validate(); err != nil {
		t.Errorf("valid transaction: %v", err)
	}
	bad := good
	bad.Store, bad.Type, bad.Amount, bad.Timestamp = "", TypePartialCancel, -1, time.Time{}
	bad.Items = []LineItem{{SKU: "x", Quantity: 1, UnitPrice: 5, Amount: -5}}
	err = bad.Validate()
	var ie *InvalidError
	if !errors.As(err, &ie) || ie.Kind != ReasonInvalid {
		t.Fatalf("Validate = %v", err)
	}
	want := []string{"store: missing", "amount: negative", "timestamp: missing", "items[0].amount: negative"}
	if !reflect.DeepEqual(ie.Reasons, want) {
		t.Errorf("reasons %q, want %q", ie.Reasons, want)
	}
	bad = good
	bad.Register = "r\xff"
	if err := bad.Validate(); err == nil || err.Error() != "register: not valid UTF-8" {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

// What Parse accepts, encoded again, parses to the same transaction.
func TestParseEncodeRoundTrip(t *testing.T) {
	for _, raw := range [][]byte{[]byte(saleJSON),
		msg(t, map[string]any{"type": "partial_cancel", "amount": 0.5, "items": []any{lineItem("a", 1.5, "0.333", 0.5)}}),
		msg(t, map[string]any{"type": "void", "tender": nil, "original_transaction_id": "t-1", "timestamp": "2026-06-01T23:59:59.999-07:00"}),
	} {
		tx, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := json.Marshal(tx)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parse %s: %v", enc, err)
		}
		if !reflect.DeepEqual(back, tx) {
			t.Errorf("round trip\n got  %+v\n want %+v", back, tx)
		}
	}
}
