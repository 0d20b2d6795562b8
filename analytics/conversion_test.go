package analytics

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// cest is a store's local offset: facts keep it, hours are UTC.
var cest = time.FixedZone("CEST", 2*3600)

func openSvcStore(t *testing.T, path string) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "analytics.db")
	}
	s, err := Open(path, StoreOptions{Log: svcTestLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustMoney(t *testing.T, s string) pos.Money {
	t.Helper()
	m, err := pos.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The conversion of an hour, by hand: 40 people came in through two
// entrances between 10:00 and 11:00 UTC and 10 sales were rung (at 12:xx
// local time, +02:00), so the rate is 10/40 = 0.25. Voids, refunds and
// the no-customer check are not transactions; an hour with sales but no
// counts has no rate; an hour outside [from, to) is not returned.
func TestConversionByHand(t *testing.T) {
	s := openSvcStore(t, "")
	var facts []Fact
	for i := range 10 {
		facts = append(facts, Fact{Key: "pos/sale" + strconv.Itoa(i), Kind: FactSale, Time: time.Date(2026, 11, 16, 12, 5*i, 0, 0, cest),
			Store: "s1", Region: "north", Cashier: "c1", Amount: mustMoney(t, "12.5"), N: 1})
	}
	facts = append(facts,
		Fact{Key: "pos/void", Kind: FactVoid, Time: time.Date(2026, 11, 16, 12, 10, 0, 0, cest), Store: "s1", Cashier: "c1", Amount: mustMoney(t, "3"), N: 1},
		Fact{Key: "pos/refund", Kind: FactCashRefund, Time: time.Date(2026, 11, 16, 12, 20, 0, 0, cest), Store: "s1", Cashier: "c1", Amount: mustMoney(t, "20"), N: 1},
		Fact{Key: "check/x", Kind: FactNoCustomer, Time: time.Date(2026, 11, 16, 12, 20, 0, 0, cest), Store: "s1", Cashier: "c1", Amount: mustMoney(t, "20"), N: 1},
		// 25 + 15 entries in the hour, from two doors; 9 in the next hour
		// but outside the query.
		Fact{Key: "count/a", Kind: FactEntries, Time: time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), Store: "s1", N: 25},
		Fact{Key: "count/b", Kind: FactEntries, Time: time.Date(2026, 11, 16, 10, 59, 0, 0, time.UTC), Store: "s1", N: 15},
		Fact{Key: "count/zero", Kind: FactEntries, Time: time.Date(2026, 11, 16, 10, 30, 0, 0, time.UTC), Store: "s1", N: 0},
		Fact{Key: "count/late", Kind: FactEntries, Time: time.Date(2026, 11, 16, 13, 0, 0, 0, time.UTC), Store: "s1", N: 9},
		// 11:00 UTC: 3 sales, nobody counted.
		Fact{Key: "pos/s11a", Kind: FactSale, Time: time.Date(2026, 11, 16, 13, 1, 0, 0, cest), Store: "s1", Cashier: "c2", Amount: mustMoney(t, "1.005"), N: 1},
		Fact{Key: "pos/s11b", Kind: FactSale, Time: time.Date(2026, 11, 16, 13, 2, 0, 0, cest), Store: "s1", Cashier: "c2", Amount: mustMoney(t, "2"), N: 1},
		Fact{Key: "pos/s11c", Kind: FactSale, Time: time.Date(2026, 11, 16, 13, 3, 0, 0, cest), Store: "s1", Cashier: "c2", Amount: mustMoney(t, "3"), N: 1},
		// Another store's hour is not s1's.
		Fact{Key: "count/other", Kind: FactEntries, Time: time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), Store: "s2", N: 100},
	)
	if _, err := s.Add(facts); err != nil {
		t.Fatal(err)
	}
	got, err := s.Conversion("s1", time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d hours, want 2: %+v", len(got), got)
	}
	h10, h11 := got[0], got[1]
	if !h10.Hour.Equal(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)) || h10.Store != "s1" || h10.Region != "north" ||
		h10.Entries != 40 || h10.Transactions != 10 || h10.SalesAmount.String() != "125" {
		t.Errorf("10:00 = %+v, want s1/north 40 entries, 10 transactions, 125 sales", h10)
	}
	if h10.Rate == nil || *h10.Rate != 0.25 {
		t.Errorf("10:00 rate = %v, want 0.25", h10.Rate)
	}
	if h11.Entries != 0 || h11.Transactions != 3 || h11.SalesAmount.String() != "6.005" || h11.Rate != nil {
		t.Errorf("11:00 = %+v (rate %v), want 0 entries, 3 transactions, 6.005, no rate", h11, h11.Rate)
	}
	b, err := json.Marshal(h10)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"store":"s1","region":"north","hour":"2026-11-16T10:00:00Z","entries":40,"transactions":10,"sales_amount":"125","rate":0.25}`
	if string(b) != want {
		t.Errorf("json\n got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(h11)
	if strings.Contains(string(b), "rate") {
		t.Errorf("an hour without entries has a rate in JSON: %s", b)
	}
	if _, err := s.Conversion("", time.Time{}, time.Now()); err == nil {
		t.Error("conversion without a store: no error")
	}
}

// Conversion events match the schema, carry the store and the hour, and
// their ids change exactly when the figures do.
func TestConversionEvent(t *testing.T) {
	r := 0.25
	c := Conversion{Store: "s1", Region: "north", Hour: time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), Entries: 40,
		Transactions: 10, SalesAmount: mustMoney(t, "125"), Rate: &r}
	noRate := Conversion{Store: "s1", Hour: c.Hour, Transactions: 3, SalesAmount: mustMoney(t, "6.005")}
	for _, c := range []Conversion{c, noRate} {
		e, err := ConversionEvent(c)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(e)
		if err := events.CheckSchemas(raw); err != nil {
			t.Errorf("%s", err)
		}
		if e.Type != events.TypeConversion || e.Camera != "" || e.Store.ID != "s1" || !e.Time.Equal(c.Hour) || e.Key() != "s1" {
			t.Errorf("envelope %+v", e)
		}
	}
	a, _ := ConversionEvent(c)
	again, _ := ConversionEvent(c)
	c2 := c
	c2.Transactions = 11
	changed, _ := ConversionEvent(c2)
	if a.ID != again.ID {
		t.Error("same figures, different ids")
	}
	if a.ID == changed.ID {
		t.Error("changed figures, same id")
	}
	// The schema holds the line: a negative count or a float amount fails.
	bad, _ := events.NewEnvelope(a.ID, events.TypeConversion, events.Store{ID: "s1"}, "", c.Hour,
		map[string]any{"store": "s1", "hour": c.Hour, "entries": -1, "transactions": 1, "sales_amount": 1.5})
	raw, _ := json.Marshal(bad)
	err := events.CheckSchemas(raw)
	if err == nil || !strings.Contains(err.Error(), "entries") || !strings.Contains(err.Error(), "sales_amount") {
		t.Errorf("bad conversion data: err = %v, want violations of entries and sales_amount", err)
	}
}

func lineCountEnvelope(t *testing.T, store events.Store, camera string, lc counting.LineCount) events.Envelope {
	t.Helper()
	id := events.ID(store.ID, camera, events.TypeLineCount, lc.Line, lc.WindowStart.UTC().Format(time.RFC3339Nano))
	e, err := events.NewEnvelope(id, events.TypeLineCount, store, camera, lc.WindowEnd, lc)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func checkEnvelope(t *testing.T, store events.Store, c pos.Check) events.Envelope {
	t.Helper()
	e, err := pos.CheckEvent(store, "cam-"+c.Register, c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// What each input event becomes: only no-customer checks and entrance
// lines make facts, keyed by the event id, on the POS's local time and
// the window's UTC start; malformed data is an error (skipped and counted
// by the consumer), other events are skipped.
func TestEventFacts(t *testing.T) {
	st := events.Store{ID: "s1", Region: "north"}
	posTime := time.Date(2026, 11, 16, 12, 20, 0, 0, cest)
	check := pos.Check{TransactionID: "t9", Register: "r1", Cashier: "c7", Type: pos.TypeRefund, Tender: pos.TenderCash,
		Amount: mustMoney(t, "49.9"), Currency: "EUR", POSTime: posTime, CameraTime: posTime.Add(7 * time.Second).UTC(),
		Verdict: pos.VerdictNoCustomer}
	present := check
	present.Verdict = pos.VerdictCustomerPresent
	w0 := time.Date(2026, 11, 16, 10, 7, 0, 0, time.UTC)
	door := counting.LineCount{Line: "door", WindowStart: w0, WindowEnd: w0.Add(time.Minute),
		Counts: map[string]int{"in": 4, "out": 2}, Totals: map[string]int{"in": 4, "out": 2}, Net: 2, EntranceDirection: "in"}
	aisle := door
	aisle.Line, aisle.EntranceDirection = "aisle", ""
	wrongDir := door
	wrongDir.EntranceDirection = "inwards"

	ce := checkEnvelope(t, st, check)
	f, err := checkFact(ce)
	// Decoded through JSON: the offset must survive the trip.
	if err != nil || f.Key != "check/"+ce.ID || f.Kind != FactNoCustomer || !f.Time.Equal(posTime) ||
		f.Time.Format(time.RFC3339) != "2026-11-16T12:20:00+02:00" || f.Store != "s1" || f.Region != "north" ||
		f.Cashier != "c7" || f.Amount.String() != "49.9" || f.N != 1 {
		t.Errorf("no-customer check -> %+v, %v", f, err)
	}
	if _, err := checkFact(checkEnvelope(t, st, present)); !errors.Is(err, errSkip) {
		t.Errorf("customer present: err = %v, want skip", err)
	}
	de := lineCountEnvelope(t, st, "cam-door", door)
	f, err = countFact(de)
	if err != nil || f.Key != "count/"+de.ID || f.Kind != FactEntries || !f.Time.Equal(w0) || f.Store != "s1" || f.N != 4 || f.Cashier != "" {
		t.Errorf("entrance line count -> %+v, %v", f, err)
	}
	if _, err := countFact(lineCountEnvelope(t, st, "cam-door", aisle)); !errors.Is(err, errSkip) {
		t.Errorf("non-entrance line: err = %v, want skip", err)
	}
	if _, err := countFact(lineCountEnvelope(t, st, "cam-door", wrongDir)); err == nil || errors.Is(err, errSkip) {
		t.Errorf("entrance direction not among counts: err = %v, want malformed", err)
	}
	if _, err := countFact(ce); !errors.Is(err, errSkip) {
		t.Errorf("pos_check on the counts topic: err = %v, want skip", err)
	}
	if _, err := checkFact(de); !errors.Is(err, errSkip) {
		t.Errorf("line_count on the checks topic: err = %v, want skip", err)
	}
	bad := de
	bad.Data = json.RawMessage(`{"line":"door","counts":"many","entrance_direction":"in"}`)
	if _, err := countFact(bad); err == nil || errors.Is(err, errSkip) {
		t.Errorf("counts of the wrong type: err = %v, want malformed", err)
	}
	bad = ce
	bad.Data = json.RawMessage(`{"verdict":"no_customer","amount":1.2345}`)
	if _, err := checkFact(bad); err == nil || errors.Is(err, errSkip) {
		t.Errorf("amount with 4 decimals: err = %v, want malformed", err)
	}
}
