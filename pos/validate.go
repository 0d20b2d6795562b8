package pos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a transaction. They bound what one message can make us hold
// and log; real POS transactions are far below them.
const (
	MaxMessageBytes = 64 << 10 // one encoded transaction
	MaxIDLength     = 128      // characters of store, region, register, cashier, ids, SKUs
	MaxTextLength   = 1024     // characters of an item description
	MaxItems        = 1000     // line items
	MinYear         = 2000     // a timestamp's year (in its own offset)
	MaxYear         = 2100
)

// Dead-letter reasons, in InvalidError.Kind and DeadLetter.Reason.
const (
	ReasonInvalid  = "invalid"   // JSON, but not a valid transaction
	ReasonTooLarge = "too_large" // more than MaxMessageBytes (or, over HTTP, than the body limit)
	ReasonNotJSON  = "not_json"  // not a JSON text (or not UTF-8)
)

// InvalidError says why a message is not a valid transaction. Reasons
// lists every problem found, each prefixed with the field it concerns
// (`amount: negative`, `timestamp: missing`), so a POS integrator can fix
// them all in one go.
type InvalidError struct {
	// Kind is the dead-letter reason: ReasonInvalid, ReasonTooLarge or
	// ReasonNotJSON.
	Kind    string
	Reasons []string
}

// Error joins the reasons with "; ".
func (e *InvalidError) Error() string { return strings.Join(e.Reasons, "; ") }

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate checks t against the rules of the wire format. It returns nil
// or an *InvalidError listing every problem. Parse already calls it.
func (t Transaction) Validate() error {
	if p := t.problems(nil); len(p) > 0 {
		return &InvalidError{Kind: ReasonInvalid, Reasons: p.reasons(nil)}
	}
	return nil
}

// problem is one reason with the path of the field it is about (and of
// its line item, if any), so Parse can drop the checks of values that did
// not even decode.
type problem struct{ field, item, msg string }

type problems []problem

func (ps problems) reasons(skip map[string]bool) []string {
	var out []string
	for _, p := range ps {
		if !skip[p.field] && (p.item == "" || !skip[p.item]) {
			out = append(out, p.msg)
		}
	}
	return out
}

// problems checks t; present, when not nil, tells which fields the
// message had, so an empty string sent is "empty" rather than "missing".
func (t Transaction) problems(present func(field string) bool) problems {
	var ps problems
	add := func(field, format string, args ...any) {
		ps = append(ps, problem{field, "", field + ": " + fmt.Sprintf(format, args...)})
	}
	id := func(field, v string, required bool) {
		switch {
		case v == "" && required && (present == nil || !present(field)):
			add(field, "missing")
		case v == "" && required:
			add(field, "empty")
		default:
			if msg := textProblem(v, MaxIDLength); msg != "" {
				add(field, "%s", msg)
			}
		}
	}
	id("store", t.Store, true)
	id("region", t.Region, false)
	id("register", t.Register, true)
	id("cashier", t.Cashier, true)
	id("transaction_id", t.ID, true)
	id("original_transaction_id", t.OriginalID, false)

	switch {
	case t.Type == "":
		add("type", "missing")
	case !knownType(t.Type):
		add("type", "%q is not one of %s", truncate(string(t.Type), 40), joinNames(Types))
	}
	if t.Amount < 0 {
		add("amount", "negative")
	}
	switch {
	case t.Currency == "":
		add("currency", "missing")
	case !currencyRE.MatchString(t.Currency):
		add("currency", "%q is not 3 upper-case letters (ISO 4217)", truncate(t.Currency, 40))
	}
	switch {
	case t.Tender == "" && (t.Type == TypeSale || t.Type == TypeRefund):
		add("tender", "missing (required for %s)", t.Type)
	case t.Tender != "" && !knownTender(t.Tender):
		add("tender", "%q is not one of %s", truncate(string(t.Tender), 40), joinNames(Tenders))
	}
	switch {
	case t.Timestamp.IsZero():
		add("timestamp", "missing")
	case t.Timestamp.Year() < MinYear || t.Timestamp.Year() > MaxYear:
		add("timestamp", "year %d is outside %d-%d", t.Timestamp.Year(), MinYear, MaxYear)
	}
	switch {
	case len(t.Items) > MaxItems:
		add("items", "%d items, at most %d", len(t.Items), MaxItems)
	case len(t.Items) == 0 && t.Type == TypePartialCancel:
		add("items", "missing (at least one required for partial_cancel)")
	}
	for i, it := range t.Items {
		if i >= MaxItems {
			break
		}
		item := fmt.Sprintf("items[%d]", i)
		at := func(field, format string, args ...any) {
			ps = append(ps, problem{item + "." + field, item, item + "." + field + ": " + fmt.Sprintf(format, args...)})
		}
		if it.SKU == "" {
			at("sku", "missing")
		} else if msg := textProblem(it.SKU, MaxIDLength); msg != "" {
			at("sku", "%s", msg)
		}
		if msg := textProblem(it.Description, MaxTextLength); msg != "" {
			at("description", "%s", msg)
		}
		if !(it.Quantity > 0) || math.IsInf(it.Quantity, 0) {
			at("quantity", "%v is not a positive number", it.Quantity)
		}
		if it.UnitPrice < 0 {
			at("unit_price", "negative")
		}
		if it.Amount < 0 {
			at("amount", "negative")
		}
	}
	return ps
}

// textProblem checks a free string: UTF-8, no control characters (they
// break logs and keys), at most max characters.
func textProblem(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("longer than %d characters", max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "contains control characters"
	}
	return ""
}

func knownType(t Type) bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

func knownTender(t Tender) bool {
	for _, k := range Tenders {
		if t == k {
			return true
		}
	}
	return false
}

func joinNames[S ~string](names []S) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

// truncate shortens s (at a character boundary) for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Parse decodes and validates one raw transaction message. Unknown fields
// are ignored, so a POS system may send more than we read; null is the
// same as an absent field. Everything else is strict: a field of the wrong
// JSON type, a missing required field, a value out of range, a key given
// twice, or trailing data is an error. The error is always an
// *InvalidError listing every problem; its Kind says whether the message
// was too large, not JSON at all, or an invalid transaction.
//
// The timestamp keeps the offset it was sent with.
func Parse(raw []byte) (Transaction, error) {
	if len(raw) > MaxMessageBytes {
		return Transaction{}, &InvalidError{Kind: ReasonTooLarge,
			Reasons: []string{fmt.Sprintf("message: %d bytes, more than %d", len(raw), MaxMessageBytes)}}
	}
	if !utf8.Valid(raw) {
		return Transaction{}, &InvalidError{Kind: ReasonNotJSON, Reasons: []string{"message: not valid UTF-8"}}
	}
	fields, err := objectFields(raw)
	if err != nil {
		return Transaction{}, err
	}
	d := fieldDecoder{fields: fields, bad: map[string]bool{}}
	t := Transaction{
		Store:      d.str("store"),
		Region:     d.str("region"),
		Register:   d.str("register"),
		Cashier:    d.str("cashier"),
		ID:         d.str("transaction_id"),
		Type:       Type(d.str("type")),
		Amount:     d.money("amount", true),
		Currency:   d.str("currency"),
		Tender:     Tender(d.str("tender")),
		Timestamp:  d.time("timestamp"),
		Items:      d.items("items"),
		OriginalID: d.str("original_transaction_id"),
	}
	present := func(f string) bool { _, ok := fields[f]; return ok }
	reasons := append(d.reasons, t.problems(present).reasons(d.bad)...)
	if len(reasons) > 0 {
		return Transaction{}, &InvalidError{Kind: ReasonInvalid, Reasons: reasons}
	}
	return t, nil
}

// objectFields splits one JSON object into its members, rejecting
// anything else, trailing data and keys given twice (two parsers could
// disagree on which one counts). Null members are left out: null means
// absent.
func objectFields(raw []byte) (map[string]json.RawMessage, error) {
	notJSON := func(err error) error {
		return &InvalidError{Kind: ReasonNotJSON, Reasons: []string{"message: not JSON: " + err.Error()}}
	}
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v) // only for its description of the syntax error
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, notJSON(err)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &InvalidError{Kind: ReasonInvalid,
			Reasons: []string{"message: is " + jsonKind(trimmed) + ", want an object"}}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, notJSON(err)
	}
	fields := map[string]json.RawMessage{}
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notJSON(err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, notJSON(err)
		}
		if _, seen := fields[key]; seen {
			dups = append(dups, truncate(key, 40)+": given more than once")
		}
		fields[key] = v
	}
	if len(dups) > 0 {
		return nil, &InvalidError{Kind: ReasonInvalid, Reasons: dups}
	}
	for k, v := range fields {
		if string(v) == "null" {
			delete(fields, k)
		}
	}
	return fields, nil
}

// jsonKind names the JSON type of an encoded value for error messages.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// fieldDecoder decodes the members of one object, recording every
// problem instead of stopping at the first.
type fieldDecoder struct {
	prefix  string // "items[3]." inside an item
	fields  map[string]json.RawMessage
	bad     map[string]bool // paths that did not decode: their value checks are skipped
	reasons []string
}

func (d *fieldDecoder) fail(field, msg string) {
	d.bad[d.prefix+field] = true
	d.reasons = append(d.reasons, d.prefix+field+": "+msg)
}

func (d *fieldDecoder) wrongType(field string, v json.RawMessage, want string) {
	d.fail(field, fmt.Sprintf("is %s, want %s", jsonKind(v), want))
}

func (d *fieldDecoder) str(field string) string {
	v, ok := d.fields[field]
	if !ok {
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		d.wrongType(field, v, "a string")
		return ""
	}
	return s
}

// money reads a number or a decimal string; a required one must be there.
func (d *fieldDecoder) money(field string, required bool) Money {
	v, ok := d.fields[field]
	if !ok {
		if required {
			d.fail(field, "missing")
		}
		return 0
	}
	text := string(v)
	switch {
	case v[0] == '"':
		if json.Unmarshal(v, &text) != nil {
			d.wrongType(field, v, "a number or a decimal string")
			return 0
		}
	case v[0] != '-' && (v[0] < '0' || v[0] > '9'):
		d.wrongType(field, v, "a number or a decimal string")
		return 0
	}
	m, err := parseMoney(text)
	if err != nil {
		d.fail(field, fmt.Sprintf("%q: %v", truncate(text, 40), err))
		return 0
	}
	return m
}

func (d *fieldDecoder) number(field string) float64 {
	v, ok := d.fields[field]
	if !ok {
		d.fail(field, "missing")
		return 0
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		d.wrongType(field, v, "a number")
		return 0
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		d.fail(field, truncate(string(v), 40)+" is out of range")
		return 0
	}
	return f
}

func (d *fieldDecoder) time(field string) time.Time {
	v, ok := d.fields[field]
	if !ok {
		return time.Time{}
	}
	if v[0] != '"' {
		d.wrongType(field, v, "an RFC 3339 string")
		return time.Time{}
	}
	var t time.Time
	if err := json.Unmarshal(v, &t); err != nil {
		d.fail(field, truncate(string(v), 60)+" is not an RFC 3339 time with a UTC offset")
		return time.Time{}
	}
	return keepOffset(t)
}

// keepOffset pins t to a fixed zone with its own offset. time.Parse
// attaches the machine's Local zone when the offset happens to match it;
// a fixed zone makes the value, and its re-encoding, the same everywhere.
func keepOffset(t time.Time) time.Time {
	_, off := t.Zone()
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", off))
}

// items decodes the line items. An element that is not an object keeps
// its index (as a zero item marked bad), so reasons name the index the
// sender used.
func (d *fieldDecoder) items(field string) []LineItem {
	v, ok := d.fields[field]
	if !ok {
		return nil
	}
	var elems []json.RawMessage
	if v[0] != '[' || json.Unmarshal(v, &elems) != nil {
		d.wrongType(field, v, "an array")
		return nil
	}
	items := make([]LineItem, min(len(elems), MaxItems))
	for i, e := range elems[:len(items)] {
		item := fmt.Sprintf("%s[%d]", field, i)
		sub, err := objectFields(e)
		if err != nil {
			d.bad[d.prefix+item] = true
			if ie := (*InvalidError)(nil); errors.As(err, &ie) {
				for _, r := range ie.Reasons {
					d.reasons = append(d.reasons, d.prefix+item+": "+strings.TrimPrefix(r, "message: "))
				}
			}
			continue
		}
		id := fieldDecoder{prefix: d.prefix + item + ".", fields: sub, bad: d.bad}
		items[i] = LineItem{
			SKU:         id.str("sku"),
			Description: id.str("description"),
			Quantity:    id.number("quantity"),
			UnitPrice:   id.money("unit_price", true),
			Amount:      id.money("amount", true),
		}
		d.reasons = append(d.reasons, id.reasons...)
	}
	if len(elems) > MaxItems {
		d.fail(field, fmt.Sprintf("%d items, at most %d", len(elems), MaxItems))
	}
	return items
}
