package analytics

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/pos"
)

// handHistory is small enough to work out on paper. Week 2026-W47
// (16-22 Nov) is the one reported, W46 the previous one. Stores a and b are
// in region east (+02:00), c has no region.
//
//	W47  a/c1: 20 sales of 25.000; voids 10.001 and 5.500; cash refund 30.000
//	           with no customer; partial cancel 4.250; a no-sale
//	     a/c2: 40 sales of 12.500; void 8.000; card refund 20.000
//	     b/c1: 10 sales of 9.990
//	     c/c9: 5 sales of 2.000
//	W46  a/c1: 25 sales of 20.000; void 7.000; a no-sale
//	     a/c2: 40 sales of 12.500; voids 8.000 and 8.000
func handHistory(t *testing.T) *Store {
	t.Helper()
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{})
	n := 0
	f := func(kind FactKind, store, cashier string, at time.Time, amount pos.Money) Fact {
		n++
		region := "east"
		if store == "c" {
			region = ""
		}
		return Fact{Key: fmt.Sprint("hand/", n), Kind: kind, Time: at, Store: store, Region: region, Cashier: cashier, Amount: amount, N: 1}
	}
	tue := time.Date(2026, 11, 17, 11, 0, 0, 0, plus2)
	prevTue := tue.AddDate(0, 0, -7)
	var facts []Fact
	for i := range 20 {
		at := tue
		if i == 0 {
			at = time.Date(2026, 11, 16, 0, 30, 0, 0, plus2) // Sunday 22:30 UTC: W47 locally
		}
		facts = append(facts, f(FactSale, "a", "c1", at, 25000))
	}
	facts = append(facts, f(FactVoid, "a", "c1", tue, 10001), f(FactVoid, "a", "c1", tue, 5500),
		f(FactCashRefund, "a", "c1", tue, 30000), f(FactNoCustomer, "a", "c1", tue, 30000),
		f(FactPartialCancel, "a", "c1", tue, 4250), f(FactNoSale, "a", "c1", tue, 0))
	for range 40 {
		facts = append(facts, f(FactSale, "a", "c2", tue, 12500))
	}
	facts = append(facts, f(FactVoid, "a", "c2", tue, 8000), f(FactRefund, "a", "c2", tue, 20000))
	for range 10 {
		facts = append(facts, f(FactSale, "b", "c1", tue, 9990))
	}
	for range 5 {
		facts = append(facts, f(FactSale, "c", "c9", tue, 2000))
	}
	for i := range 25 {
		at := prevTue
		if i == 0 {
			at = time.Date(2026, 11, 15, 23, 59, 0, 0, plus2) // Sunday: still W46
		}
		facts = append(facts, f(FactSale, "a", "c1", at, 20000))
	}
	facts = append(facts, f(FactVoid, "a", "c1", prevTue, 7000), f(FactNoSale, "a", "c1", prevTue, 0))
	for range 40 {
		facts = append(facts, f(FactSale, "a", "c2", prevTue, 12500))
	}
	facts = append(facts, f(FactVoid, "a", "c2", prevTue, 8000), f(FactVoid, "a", "c2", prevTue, 8000))
	if got := mustAdd(t, s, facts...); got != len(facts) {
		t.Fatalf("added %d of %d", got, len(facts))
	}
	return s
}

var w47 = PeriodOf(PeriodWeek, day("2026-11-16"))

// handRisk is the plain formula (no prior) with a threshold the small
// history passes.
var handRisk = RiskConfig{MinTransactions: 10, Prior: -1}

func money(m pos.Money) *pos.Money { return &m }

func pct(v float64) *float64 { return &v }

const eps = 1e-6

func near(a, b float64) bool { return math.Abs(a-b) < eps }

func checkRates(t *testing.T, what string, got *Rates, want [6]float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no rates, want %v", what, want)
		return
	}
	for i, v := range got.values() {
		if !near(v, want[i]) {
			t.Errorf("%s: %s = %v, want %v", what, RateNames[i], v, want[i])
		}
	}
}

func checkChange(t *testing.T, what string, got *Change, abs [6]float64, pcts [6]*float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no change", what)
		return
	}
	for i, c := range []RateChange{got.Voids, got.CashRefunds, got.Refunds, got.PartialCancels, got.NoSales, got.NoCustomer} {
		if !near(c.Abs, abs[i]) {
			t.Errorf("%s: %s change %v, want %v", what, RateNames[i], c.Abs, abs[i])
		}
		switch {
		case (c.Pct == nil) != (pcts[i] == nil):
			t.Errorf("%s: %s pct %v, want %v", what, RateNames[i], c.Pct, pcts[i])
		case c.Pct != nil && !near(*c.Pct, *pcts[i]):
			t.Errorf("%s: %s pct %v, want %v", what, RateNames[i], *c.Pct, *pcts[i])
		}
	}
}

func rowsByEntity(rows []Row) map[string]Row {
	m := map[string]Row{}
	for _, r := range rows {
		m[r.Store+"/"+r.Entity] = r
	}
	return m
}

func TestHandComputedCashierWeek(t *testing.T) {
	t.Parallel()
	s := handHistory(t)
	rows, err := s.Report(Query{Level: LevelCashier, Period: w47}, handRisk)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{}
	for _, r := range rows {
		order = append(order, r.Store+"/"+r.Entity)
	}
	if got := strings.Join(order, " "); got != "a/c1 a/c2 b/c1 c/c9" {
		t.Errorf("order %s, want a/c1 a/c2 b/c1 c/c9 (ranked by score, then unranked)", got)
	}
	m := rowsByEntity(rows)

	c1 := m["a/c1"]
	if want := (Measures{Transactions: 20, SalesAmount: 500000, Voids: 2, VoidAmount: 15501, CashRefunds: 1, CashRefundAmount: 30000,
		PartialCancels: 1, PartialCancelAmount: 4250, NoSales: 1, NoCustomer: 1, NoCustomerAmount: 30000}); c1.Measures != want {
		t.Errorf("a/c1 measures\n%+v\nwant\n%+v", c1.Measures, want)
	}
	if c1.Level != LevelCashier || c1.Region != "east" || c1.Period != w47 {
		t.Errorf("a/c1 identity %v %q %v", c1.Level, c1.Region, c1.Period)
	}
	// voids 2/20, everything else 1/20 per 1,000; refunds none.
	checkRates(t, "a/c1", c1.Rates, [6]float64{100, 50, 0, 50, 50, 50})
	// 15.501 / 2 = 7.7505 rounds half up to 7.751.
	if want := (Averages{Void: money(7751), CashRefund: money(30000), PartialCancel: money(4250), NoCustomer: money(30000)}); fmt.Sprint(c1.Averages.values()) != fmt.Sprint(want.values()) {
		t.Errorf("a/c1 averages %v, want %v", c1.Averages.values(), want.values())
	}
	if want := (Measures{Transactions: 25, SalesAmount: 500000, Voids: 1, VoidAmount: 7000, NoSales: 1}); c1.Previous.Measures != want {
		t.Errorf("a/c1 previous %+v, want %+v", c1.Previous.Measures, want)
	}
	checkRates(t, "a/c1 previous", c1.Previous.Rates, [6]float64{40, 0, 0, 0, 40, 0})
	// voids 40 -> 100: +60, +150%; no-sales 40 -> 50: +10, +25%; the rest
	// from 0: no percentage.
	checkChange(t, "a/c1", c1.Change, [6]float64{60, 50, 0, 50, 10, 50}, [6]*float64{pct(150), nil, nil, nil, pct(25), nil})

	// Risk, by hand. Peers a/c1, a/c2, b/c1 (c/c9 has 5 < 10 sales).
	// voids 100, 25, 0: median 25, MAD 25, scale 1.4826*25 = 37.065:
	//   z(a/c1) = 75/37.065 = 2.023472, z(a/c2) = 0, z(b/c1) = -0.674491.
	// cash refunds 50, 0, 0: MAD 0 -> population stddev 23.5702:
	//   z(a/c1) = 50/23.5702 = 3/sqrt(2) = 2.121320; the same for partial
	//   cancels, no-sales, no-customer; refunds 0, 25, 0: z(a/c2) = 2.121320.
	// score(a/c1) = (3+2+1+1)*2.121320 + 1*2.023472) / 8.5 = 1.985025
	// score(a/c2) = 0.5*2.121320 / 8.5 = 0.124784; score(b/c1) = 0.
	wantRisk := map[string]struct {
		score float64
		rank  int
	}{"a/c1": {1.985025258, 1}, "a/c2": {0.124783550, 2}, "b/c1": {0, 3}}
	for k, w := range wantRisk {
		r := m[k].Risk
		if math.Abs(r.Score-w.score) > 1e-8 || r.Rank != w.rank || !r.Ranked || r.Peers != 3 || r.Reason != "" {
			t.Errorf("%s risk %+v, want score %.9f rank %d of 3", k, r, w.score, w.rank)
		}
	}
	if z := c1.Risk.Z; !near(z["voids"], 2.023472278) || !near(z["cash_refunds"], 2.121320344) || !near(z["refunds"], 0) {
		t.Errorf("a/c1 z %v", z)
	}
	if z := m["b/c1"].Risk.Z["voids"]; !near(z, -0.674490759) {
		t.Errorf("b/c1 voids z %v, want -0.674491", z)
	}
	c2 := m["a/c2"]
	checkChange(t, "a/c2", c2.Change, [6]float64{-25, 0, 25, 0, 0, 0}, [6]*float64{pct(-50), nil, nil, nil, nil, nil})

	b1 := m["b/c1"]
	if b1.Previous.Measures != (Measures{}) || b1.Previous.Rates != nil || b1.Change != nil {
		t.Errorf("b/c1 had no previous week: %+v, change %+v", b1.Previous, b1.Change)
	}
	if av := b1.Averages; av.Void != nil || av.CashRefund != nil || av.NoCustomer != nil {
		t.Errorf("b/c1 has averages of nothing: %v", av.values())
	}
	c9 := m["c/c9"]
	if c9.Risk.Ranked || c9.Risk.Peers != 3 || c9.Risk.Rank != 0 || c9.Risk.Score != 0 || c9.Risk.Reason != "fewer than 10 transactions" || c9.Region != "" {
		t.Errorf("c/c9 risk %+v region %q, want unranked: fewer than 10 transactions", c9.Risk, c9.Region)
	}
}

func TestHandComputedRollUps(t *testing.T) {
	t.Parallel()
	s := handHistory(t)
	report := func(q Query) map[string]Row {
		t.Helper()
		q.Period = w47
		rows, err := s.Report(q, handRisk)
		if err != nil {
			t.Fatal(err)
		}
		return rowsByEntity(rows)
	}
	stores := report(Query{Level: LevelStore})
	a := stores["a/a"]
	if want := (Measures{Transactions: 60, SalesAmount: 1000000, Voids: 3, VoidAmount: 23501, CashRefunds: 1, CashRefundAmount: 30000,
		Refunds: 1, RefundAmount: 20000, PartialCancels: 1, PartialCancelAmount: 4250, NoSales: 1, NoCustomer: 1, NoCustomerAmount: 30000}); a.Measures != want {
		t.Errorf("store a\n%+v\nwant the sum of its cashiers\n%+v", a.Measures, want)
	}
	checkRates(t, "store a", a.Rates, [6]float64{50, 1000.0 / 60, 1000.0 / 60, 1000.0 / 60, 1000.0 / 60, 1000.0 / 60})
	if *a.Averages.Void != 7834 { // 23.501 / 3 = 7.8337
		t.Errorf("store a average void %v, want 7.834", *a.Averages.Void)
	}
	// Previous: 65 sales, 3 voids, 1 no-sale: voids 46.153846 -> 50.
	checkRates(t, "store a previous", a.Previous.Rates, [6]float64{3000.0 / 65, 0, 0, 0, 1000.0 / 65, 0})
	checkChange(t, "store a", a.Change,
		[6]float64{50 - 3000.0/65, 1000.0 / 60, 1000.0 / 60, 1000.0 / 60, 1000.0/60 - 1000.0/65, 1000.0 / 60},
		[6]*float64{pct((50 - 3000.0/65) / (3000.0 / 65) * 100), nil, nil, nil, pct((1000.0/60 - 1000.0/65) / (1000.0 / 65) * 100), nil})
	// Two ranked stores (c has 5 sales): a is above the median (25 for
	// voids) by one MAD on every rate, so every z is 1/1.4826 = 0.674491
	// and so is the score.
	if r := a.Risk; r.Rank != 1 || r.Peers != 2 || !near(r.Score, 0.674490759) {
		t.Errorf("store a risk %+v, want rank 1 of 2, score 0.674491", r)
	}
	if r := stores["b/b"].Risk; r.Rank != 2 || r.Score != 0 {
		t.Errorf("store b risk %+v", r)
	}
	if r := stores["c/c"].Risk; r.Ranked {
		t.Errorf("store c ranked with 5 sales: %+v", r)
	}

	regions := report(Query{Level: LevelRegion})
	east, un := regions["/east"], regions["/"+UnassignedRegion]
	if east.Measures.Transactions != 70 || east.Measures.SalesAmount != 1099900 || east.Region != "east" {
		t.Errorf("region east %+v", east)
	}
	if un.Measures.Transactions != 5 || un.Measures.SalesAmount != 10000 {
		t.Errorf("unassigned region %+v", un.Measures)
	}
	// Only east has >= 10 sales: a z against oneself says nothing.
	if east.Risk.Ranked || !strings.HasPrefix(east.Risk.Reason, "no peers") {
		t.Errorf("region east risk %+v, want unranked for lack of peers", east.Risk)
	}
	hq := report(Query{Level: LevelHQ})["/hq"]
	if hq.Measures.Transactions != 75 || hq.Measures.SalesAmount != 1109900 || hq.Measures.Voids != 3 ||
		hq.Previous.Measures.Transactions != 65 || hq.Previous.Measures.Voids != 3 {
		t.Errorf("hq %+v previous %+v", hq.Measures, hq.Previous.Measures)
	}

	// Filters narrow the facts and the peers.
	onlyA := report(Query{Level: LevelCashier, Store: "a"})
	if len(onlyA) != 2 || onlyA["a/c1"].Risk.Peers != 2 || onlyA["a/c1"].Risk.Rank != 1 {
		t.Errorf("cashiers of store a: %v", onlyA)
	}
	east2 := report(Query{Level: LevelStore, Region: "east"})
	if len(east2) != 2 || east2["c/c"].Entity != "" {
		t.Errorf("stores of east: %d rows", len(east2))
	}
	unassigned := report(Query{Level: LevelCashier, Region: UnassignedRegion})
	if len(unassigned) != 1 || unassigned["c/c9"].Measures.Transactions != 5 {
		t.Errorf("cashiers of unassigned stores: %v", unassigned)
	}
	// The day report of Monday has the 00:30 (+02:00) sale, Sunday the 23:59 one.
	mon := dayMeasures(t, s, PeriodOf(PeriodDay, day("2026-11-16")), LevelCashier)["a/c1"]
	sun := dayMeasures(t, s, PeriodOf(PeriodDay, day("2026-11-15")), LevelCashier)["a/c1"]
	if mon.Transactions != 1 || sun.Transactions != 1 {
		t.Errorf("Monday %d sales, Sunday %d; want 1 and 1", mon.Transactions, sun.Transactions)
	}
	// The month holds both weeks.
	nov := dayMeasures(t, s, PeriodOf(PeriodMonth, day("2026-11-01")), LevelHQ)["/hq"]
	if nov.Transactions != 140 || nov.Voids != 6 {
		t.Errorf("November %+v, want 140 sales, 6 voids", nov)
	}
}

func TestReportRejectsBadQueriesAndWeights(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{})
	bad := []struct {
		q  Query
		rc RiskConfig
	}{
		{Query{Level: "team", Period: w47}, RiskConfig{}},
		{Query{Level: LevelStore}, RiskConfig{}},
		{Query{Level: LevelStore, Period: Period{Kind: PeriodWeek, Start: day("2026-11-17"), End: day("2026-11-24")}}, RiskConfig{}},
		{Query{Level: LevelStore, Period: w47}, RiskConfig{Weights: map[string]float64{"void": 1}}},
		{Query{Level: LevelStore, Period: w47}, RiskConfig{Weights: map[string]float64{"voids": -1}}},
		{Query{Level: LevelStore, Period: w47}, RiskConfig{Weights: map[string]float64{"voids": 0}}},
		{Query{Level: LevelStore, Period: w47}, RiskConfig{Weights: map[string]float64{"voids": math.NaN()}}},
	}
	for _, b := range bad {
		if _, err := s.Report(b.q, b.rc); err == nil {
			t.Errorf("Report(%+v, %+v) succeeded", b.q, b.rc)
		}
	}
	rows, err := s.Report(Query{Level: LevelHQ, Period: w47}, RiskConfig{})
	if err != nil || len(rows) != 0 {
		t.Errorf("empty store: %v, %v", rows, err)
	}
}

// The scale falls back from the MAD to the standard deviation and never
// goes below 1 per 1,000; the prior shrinks a small sample's rate.
func TestRobustZScaleAndPrior(t *testing.T) {
	t.Parallel()
	rows := func(tx []int64, nc []int64) []*Row {
		var out []*Row
		for i := range tx {
			out = append(out, &Row{Measures: Measures{Transactions: tx[i], NoCustomer: nc[i]}})
		}
		return out
	}
	nc := slicesIndex(RateNoCustomer)
	// Rates 1, 0, 0 per 1,000: MAD 0, stddev 0.471 -> floor 1: z = 1.
	if z := robustZ(rows([]int64{1000, 1000, 1000}, []int64{1, 0, 0}), nc, 0); !near(z[0], 1) || z[1] != 0 {
		t.Errorf("floored z %v, want 1, 0, 0", z)
	}
	// 100 sales with one no-customer (10 per 1,000) against two clean
	// registers of 1,000: plain, stddev 4.714 gives z = 3/sqrt(2); with a
	// prior of 400 the rate is (1000 + 400*0) / 500 = 2 per 1,000, stddev
	// 0.943 -> floor 1: z = 2.
	r := rows([]int64{100, 1000, 1000}, []int64{1, 0, 0})
	if z := robustZ(r, nc, 0); !near(z[0], 3/math.Sqrt2) {
		t.Errorf("plain z %v, want 2.1213", z[0])
	}
	if z := robustZ(r, nc, 400); !near(z[0], 2) {
		t.Errorf("shrunk z %v, want 2", z[0])
	}
}

func slicesIndex(name string) int {
	for i, n := range RateNames {
		if n == name {
			return i
		}
	}
	panic(name)
}

// values lists the averages for comparison and messages.
func (a Averages) values() []string {
	var out []string
	for _, p := range []*pos.Money{a.Void, a.CashRefund, a.PartialCancel, a.NoCustomer} {
		if p == nil {
			out = append(out, "-")
		} else {
			out = append(out, p.String())
		}
	}
	return out
}
