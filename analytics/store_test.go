package analytics

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/storesight/storesight/pos"
	bolt "go.etcd.io/bbolt"
)

func openStore(t *testing.T, path string, opt StoreOptions) *Store {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustAdd(t *testing.T, s *Store, facts ...Fact) int {
	t.Helper()
	n, err := s.Add(facts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func dayMeasures(t *testing.T, s *Store, p Period, level Level) map[string]Measures {
	t.Helper()
	rows, err := s.Report(Query{Level: level, Period: p}, RiskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Measures{}
	for _, r := range rows {
		out[r.Store+"/"+r.Entity] = r.Measures
	}
	return out
}

var plus2 = time.FixedZone("+02:00", 2*3600)

func TestDedupWithinBatchAcrossBatchesAndReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "analytics.db")
	s, err := Open(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, plus2)
	sale := FactsOf(pos.Transaction{Store: "s1", Region: "east", Register: "r1", Cashier: "c1", ID: "t1",
		Type: pos.TypeSale, Amount: 12500, Currency: "EUR", Tender: pos.TenderCard, Timestamp: at})[0]
	// A refund of the same id is a different fact (the key has the type).
	refund := FactsOf(pos.Transaction{Store: "s1", Region: "east", Register: "r1", Cashier: "c1", ID: "t1",
		Type: pos.TypeRefund, Amount: 12500, Currency: "EUR", Tender: pos.TenderCash, Timestamp: at})[0]
	if refund.Kind != FactCashRefund || sale.Key == refund.Key {
		t.Fatalf("FactsOf: sale %+v, cash refund %+v", sale, refund)
	}
	if n, err := s.Add([]Fact{sale, sale, refund}); err != nil || n != 2 {
		t.Fatalf("Add(sale, sale, refund) = %d, %v; want 2", n, err)
	}
	if n, err := s.Add([]Fact{sale}); err != nil || n != 0 {
		t.Fatalf("Add(sale) again = %d, %v; want 0", n, err)
	}
	if st := s.Stats(); st.Added != 2 || st.Duplicates != 2 {
		t.Errorf("stats %+v, want 2 added, 2 duplicates", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, StoreOptions{})
	if n := mustAdd(t, s, refund, sale); n != 0 {
		t.Fatalf("after reopening, redelivered facts were counted again: %d", n)
	}
	m := dayMeasures(t, s, PeriodOf(PeriodDay, at), LevelCashier)["s1/c1"]
	if want := (Measures{Transactions: 1, SalesAmount: 12500, CashRefunds: 1, CashRefundAmount: 12500}); m != want {
		t.Errorf("measures %+v, want %+v", m, want)
	}
	hours, err := s.Hours("s1", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || hours[0].Transactions != 1 || hours[0].SalesAmount != 12500 {
		t.Errorf("hours %+v, want one hour with one sale", hours)
	}
}

// The counters and the keys are written in one transaction: a batch that
// fails leaves neither, so retrying it counts it exactly once.
func TestFailedAddWritesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "analytics.db")
	s := openStore(t, path, StoreOptions{})
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, plus2)
	f := Fact{Key: "k1", Kind: FactSale, Time: at, Store: "s1", Cashier: "c1", Amount: 1000, N: 1}
	mustAdd(t, s, f)
	// Corrupt the row the next fact adds to: the Add must fail as a whole.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDaily).Put(dailyKey(at, "s1", "c1"), []byte{9, 9})
	}); err != nil {
		t.Fatal(err)
	}
	g := Fact{Key: "k2", Kind: FactSale, Time: at, Store: "s1", Cashier: "c1", Amount: 1000, N: 1}
	h := Fact{Key: "k3", Kind: FactSale, Time: at, Store: "s1", Cashier: "c2", Amount: 1000, N: 1}
	if n, err := s.Add([]Fact{h, g}); err == nil || n != 0 {
		t.Fatalf("Add over a corrupt row = %d, %v; want an error", n, err)
	}
	// Neither k3 (whose own row was fine) nor k2 was remembered or counted.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDaily).Put(dailyKey(at, "s1", "c1"), encodeMeasures(Measures{Transactions: 1, SalesAmount: 1000}))
	}); err != nil {
		t.Fatal(err)
	}
	if n := mustAdd(t, s, h, g); n != 2 {
		t.Fatalf("retry counted %d, want 2", n)
	}
	got := dayMeasures(t, s, PeriodOf(PeriodDay, at), LevelCashier)
	if got["s1/c1"].Transactions != 2 || got["s1/c2"].Transactions != 1 {
		t.Errorf("after retry %+v, want c1 2 sales, c2 1", got)
	}
}

func TestDedupWindowStaleAndPruning(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{DedupWindow: 10 * 24 * time.Hour})
	wall := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return wall }
	d0 := time.Date(2026, 11, 1, 12, 0, 0, 0, plus2)
	old := Fact{Key: "old", Kind: FactSale, Time: d0, Store: "s1", Cashier: "c1", Amount: 1000, N: 1}
	mustAdd(t, s, old)
	// A POS with a wrong clock (2099) must not move the dedup clock, or
	// every key would expire at once.
	future := Fact{Key: "future", Kind: FactSale, Time: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), Store: "s1", Cashier: "c1", N: 1}
	mustAdd(t, s, future)
	if n := mustAdd(t, s, old); n != 0 {
		t.Fatal("a duplicate was counted after a far-future fact")
	}
	// Now 15 days later: "old" is outside the 10-day window. Its key is
	// pruned, and a redelivery is refused as stale rather than counted.
	later := Fact{Key: "later", Kind: FactSale, Time: d0.AddDate(0, 0, 15), Store: "s1", Cashier: "c1", Amount: 1000, N: 1}
	mustAdd(t, s, later)
	sz, err := s.Size()
	if err != nil {
		t.Fatal(err)
	}
	if k := sz.Buckets["keys"].Rows; k != 2 { // later, future
		t.Errorf("%d keys remembered, want 2 (old pruned)", k)
	}
	if sz.Buckets["keytimes"].Rows != sz.Buckets["keys"].Rows {
		t.Errorf("key index out of step: %+v", sz.Buckets)
	}
	if n := mustAdd(t, s, old); n != 0 {
		t.Fatal("a fact older than the dedup window was counted")
	}
	if st := s.Stats(); st.Stale != 1 || st.Added != 3 || st.Duplicates != 1 {
		t.Errorf("stats %+v, want 3 added, 1 duplicate, 1 stale", st)
	}
	if got := dayMeasures(t, s, PeriodOf(PeriodDay, d0), LevelCashier)["s1/c1"].Transactions; got != 1 {
		t.Errorf("day of the old fact has %d sales, want 1", got)
	}
}

func TestInvalidFactsAreSkippedNotFatal(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{})
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, plus2)
	good := Fact{Key: "ok", Kind: FactSale, Time: at, Store: "s1", Cashier: "c1", Amount: 1000, N: 1}
	bad := []Fact{
		{Kind: FactSale, Time: at, Store: "s1", N: 1},
		{Key: "x1", Kind: "gift", Time: at, Store: "s1", N: 1},
		{Key: "x2", Kind: FactSale, Store: "s1", N: 1},
		{Key: "x3", Kind: FactSale, Time: at, N: 1},
		{Key: "x4", Kind: FactSale, Time: at, Store: "s1", Amount: -5, N: 1},
		{Key: string(make([]byte, 2000)), Kind: FactSale, Time: at, Store: "s1", N: 1},
	}
	if n := mustAdd(t, s, append(bad, good)...); n != 1 {
		t.Fatalf("counted %d, want only the good fact", n)
	}
	if st := s.Stats(); st.Invalid != int64(len(bad)) {
		t.Errorf("stats %+v, want %d invalid", st, len(bad))
	}
}

// Hourly counters are per UTC hour and store; entries feed only them;
// the region map keeps the last non-empty region.
func TestHoursAndStores(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{})
	west := time.FixedZone("-05:00", -5*3600)
	// 23:10 and 23:50 local at -05:00 are 04:10 and 04:50 UTC the next day.
	mustAdd(t, s,
		Fact{Key: "a", Kind: FactSale, Time: time.Date(2026, 11, 16, 23, 10, 0, 0, west), Store: "w1", Region: "west", Cashier: "c1", Amount: 2500, N: 1},
		Fact{Key: "b", Kind: FactSale, Time: time.Date(2026, 11, 16, 23, 50, 0, 0, west), Store: "w1", Cashier: "c1", Amount: 500, N: 1},
		Fact{Key: "c", Kind: FactEntries, Time: time.Date(2026, 11, 17, 4, 20, 0, 0, time.UTC), Store: "w1", N: 40},
		Fact{Key: "d", Kind: FactEntries, Time: time.Date(2026, 11, 17, 5, 0, 0, 0, time.UTC), Store: "w1", N: 7},
		Fact{Key: "e", Kind: FactVoid, Time: time.Date(2026, 11, 16, 23, 55, 0, 0, west), Store: "w1", Cashier: "c1", Amount: 100, N: 1},
		Fact{Key: "f", Kind: FactEntries, Time: time.Date(2026, 11, 17, 4, 30, 0, 0, time.UTC), Store: "w10", N: 3},
	)
	mustAdd(t, s, Fact{Key: "g", Kind: FactSale, Time: time.Date(2026, 11, 17, 9, 0, 0, 0, west), Store: "w1", Region: "", Cashier: "c1", N: 1})
	hours, err := s.Hours("w1", time.Date(2026, 11, 17, 4, 30, 0, 0, time.UTC), time.Date(2026, 11, 17, 6, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := []Hour{
		{Start: time.Date(2026, 11, 17, 4, 0, 0, 0, time.UTC), Store: "w1", Transactions: 2, SalesAmount: 3000, Entries: 40},
		{Start: time.Date(2026, 11, 17, 5, 0, 0, 0, time.UTC), Store: "w1", Entries: 7},
	}
	if len(hours) != len(want) || hours[0] != want[0] || hours[1] != want[1] {
		t.Errorf("hours\n%+v\nwant\n%+v", hours, want)
	}
	// Local day 16th has both sales and the void; the 17th only the 09:00 sale.
	d16 := dayMeasures(t, s, PeriodOf(PeriodDay, day("2026-11-16")), LevelStore)["w1/w1"]
	d17 := dayMeasures(t, s, PeriodOf(PeriodDay, day("2026-11-17")), LevelStore)["w1/w1"]
	if d16.Transactions != 2 || d16.Voids != 1 || d17.Transactions != 1 {
		t.Errorf("local days: 16th %+v, 17th %+v", d16, d17)
	}
	st, err := s.Stores()
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st["w1"] != "west" || st["w10"] != "" {
		t.Errorf("stores %v, want w1 west (kept over a later empty region), w10 unknown", st)
	}
}

func TestOpenRefusesAnotherFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "analytics.db")
	s, err := Open(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, StoreOptions{}); err == nil {
		t.Fatal("opened a file of another format")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "a.db"), StoreOptions{}); err == nil {
		t.Fatal("opened a file in a missing directory")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// Writers delivering the same facts at once (two consumers after a
// rebalance) count each once; readers run beside them.
func TestConcurrentAddsCountOnce(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{})
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, plus2)
	var facts []Fact
	for i := range 400 {
		facts = append(facts, Fact{Key: fmt.Sprint("f", i), Kind: FactSale, Time: at.Add(time.Duration(i) * time.Minute), Store: "s1", Cashier: "c1", Amount: 1000, N: 1})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < len(facts); i += 40 {
				j := (i + 40*w) % len(facts) // each writer starts elsewhere
				if _, err := s.Add(facts[j : j+40]); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := s.Report(Query{Level: LevelStore, Period: PeriodOf(PeriodWeek, at)}, RiskConfig{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Added != 400 || st.Duplicates != 1200 {
		t.Errorf("stats %+v, want 400 added, 1200 duplicates", st)
	}
	m := dayMeasures(t, s, PeriodOf(PeriodWeek, at), LevelStore)["s1/s1"]
	if m.Transactions != 400 || m.SalesAmount != 400000 {
		t.Errorf("week %+v, want 400 sales of 1.000", m)
	}
}
