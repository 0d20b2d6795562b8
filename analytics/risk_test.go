package analytics

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedHistory is the "must show": on a fleet history with
// realistic noise, the planted dishonest cashier ranks first at cashier
// level exactly in the weeks he is dishonest, an honest part-timer's
// bad-luck week does not outrank him, and every figure adds up to what was
// generated. One history is built (it takes seconds) and shared by the
// subtests, which only read it.
func TestGeneratedHistory(t *testing.T) {
	h := generateHistory(20261116)
	s := openStore(t, filepath.Join(t.TempDir(), "analytics.db"), StoreOptions{})
	total := 0
	for _, batch := range h.days {
		total += len(batch)
		mustAdd(t, s, batch...)
	}
	if st := s.Stats(); st.Added != int64(total) || st.Duplicates+st.Stale+st.Invalid != 0 {
		t.Fatalf("stats %+v, want all %d facts added", st, total)
	}
	week := func(w int) Period { return PeriodOf(PeriodWeek, histStart.AddDate(0, 0, 7*w)) }
	report := func(t *testing.T, q Query, rc RiskConfig) []Row {
		t.Helper()
		rows, err := s.Report(q, rc)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	find := func(rows []Row, store, entity string) Row {
		for _, r := range rows {
			if r.Store == store && r.Entity == entity {
				return r
			}
		}
		t.Fatalf("no row %s/%s", store, entity)
		return Row{}
	}

	t.Run("planted cashier ranks first only when dishonest", func(t *testing.T) {
		for w := range histWeeks {
			rows := report(t, Query{Level: LevelCashier, Period: week(w)}, RiskConfig{})
			d := find(rows, dishonestStore, dishonestCashier)
			top := rows[0]
			t.Logf("week %d (%s): %s/%s rank %d of %d, score %.2f (top %s/%s %.2f)", w, week(w).Label(),
				dishonestStore, dishonestCashier, d.Risk.Rank, d.Risk.Peers, d.Risk.Score, top.Store, top.Entity, top.Risk.Score)
			if d.Risk.Peers < 80 {
				t.Errorf("week %d: only %d cashiers ranked; the history should rank most of 96", w, d.Risk.Peers)
			}
			if w >= dishonestFrom {
				if d.Risk.Rank != 1 {
					t.Errorf("week %d: dishonest cashier ranks %d, want 1 (first is %s/%s, %.2f vs %.2f)", w, d.Risk.Rank, top.Store, top.Entity, top.Risk.Score, d.Risk.Score)
				}
				// The ranking comes from the right signals.
				if d.Risk.Z[RateNoCustomer] < 3 || d.Risk.Z[RateCashRefunds] < 1 {
					t.Errorf("week %d: z %v, want no_customer > 3 and cash_refunds > 1", w, d.Risk.Z)
				}
			} else if d.Risk.Rank == 1 {
				t.Errorf("week %d: ranks first before he started", w)
			}
		}
	})

	t.Run("noisy small-store cashier does not outrank him", func(t *testing.T) {
		rows := report(t, Query{Level: LevelCashier, Period: week(noisyWeek)}, RiskConfig{})
		d, n := find(rows, dishonestStore, dishonestCashier), find(rows, noisyStore, noisyCashier)
		if !n.Risk.Ranked {
			t.Fatalf("the noisy cashier is not ranked (%d sales): the case is not tested", n.Measures.Transactions)
		}
		if n.Measures.CashRefunds != 3 || n.Measures.NoCustomer != 1 || n.Rates.CashRefunds < 3*d.Rates.CashRefunds/2 {
			t.Fatalf("the noisy week is not as planted: %+v (dishonest %+v)", n.Measures, d.Measures)
		}
		if n.Risk.Rank <= d.Risk.Rank {
			t.Errorf("noisy %s/%s (%d sales, cash refunds %.1f, no-customer %.1f per 1,000) ranks %d, dishonest ranks %d",
				noisyStore, noisyCashier, n.Measures.Transactions, n.Rates.CashRefunds, n.Rates.NoCustomer, n.Risk.Rank, d.Risk.Rank)
		}
		// With raw rates (the prior off) the part-timer's raw rates are
		// higher than the dishonest cashier's, and he comes out on top:
		// this is what the prior is for.
		plain := report(t, Query{Level: LevelCashier, Period: week(noisyWeek)}, RiskConfig{Prior: -1})
		if pn, pd := find(plain, noisyStore, noisyCashier), find(plain, dishonestStore, dishonestCashier); pn.Risk.Rank >= pd.Risk.Rank {
			t.Errorf("without the prior the noisy cashier ranks %d and the dishonest %d; the planted trap does not bite", pn.Risk.Rank, pd.Risk.Rank)
		}
	})

	t.Run("region filter ranks within the region", func(t *testing.T) {
		for _, w := range []int{dishonestFrom - 1, dishonestFrom} {
			rows := report(t, Query{Level: LevelCashier, Period: week(w), Region: "south"}, RiskConfig{})
			for _, r := range rows {
				if r.Region != "south" {
					t.Fatalf("row of region %q in a south query", r.Region)
				}
			}
			d := find(rows, dishonestStore, dishonestCashier)
			if (w >= dishonestFrom) != (d.Risk.Rank == 1) || d.Risk.Peers > 32 {
				t.Errorf("week %d in south: rank %d of %d", w, d.Risk.Rank, d.Risk.Peers)
			}
		}
	})

	t.Run("figures add up to what was generated", func(t *testing.T) {
		for w := range histWeeks {
			cashiers := report(t, Query{Level: LevelCashier, Period: week(w)}, RiskConfig{})
			seen := 0
			byStore := map[string]*Measures{}
			for _, r := range cashiers {
				want := h.truth.at(w, r.Store, r.Entity)
				if r.Measures != *want {
					t.Errorf("week %d %s/%s: %+v, generated %+v", w, r.Store, r.Entity, r.Measures, *want)
				}
				if w > 0 && r.Previous.Measures != *h.truth.at(w-1, r.Store, r.Entity) {
					t.Errorf("week %d %s/%s: previous %+v, generated %+v", w, r.Store, r.Entity, r.Previous.Measures, *h.truth.at(w-1, r.Store, r.Entity))
				}
				if byStore[r.Store] == nil {
					byStore[r.Store] = &Measures{}
				}
				byStore[r.Store].add(r.Measures)
				seen++
			}
			if seen != 96 {
				t.Errorf("week %d: %d cashier rows, want 96", w, seen)
			}
			byRegion := map[string]*Measures{}
			var all Measures
			for _, r := range report(t, Query{Level: LevelStore, Period: week(w)}, RiskConfig{}) {
				if r.Measures != *byStore[r.Store] {
					t.Errorf("week %d store %s: %+v, its cashiers sum to %+v", w, r.Store, r.Measures, *byStore[r.Store])
				}
				if byRegion[r.Region] == nil {
					byRegion[r.Region] = &Measures{}
				}
				byRegion[r.Region].add(r.Measures)
				all.add(r.Measures)
			}
			regions := report(t, Query{Level: LevelRegion, Period: week(w)}, RiskConfig{})
			if len(regions) != 3 {
				t.Errorf("week %d: %d regions, want 3", w, len(regions))
			}
			for _, r := range regions {
				if r.Measures != *byRegion[r.Entity] || !r.Risk.Ranked || r.Risk.Peers != 3 {
					t.Errorf("week %d region %s: %+v (risk %+v), its stores sum to %+v", w, r.Entity, r.Measures, r.Risk, *byRegion[r.Entity])
				}
			}
			hq := report(t, Query{Level: LevelHQ, Period: week(w)}, RiskConfig{})
			if len(hq) != 1 || hq[0].Measures != all || hq[0].Risk.Ranked {
				t.Errorf("week %d hq %+v, want the sum of all stores %+v, unranked", w, hq, all)
			}
		}
	})

	t.Run("period over period of the planted cashier", func(t *testing.T) {
		w := dishonestFrom
		d := find(report(t, Query{Level: LevelCashier, Period: week(w)}, RiskConfig{}), dishonestStore, dishonestCashier)
		cur, prev := h.truth.at(w, dishonestStore, dishonestCashier), h.truth.at(w-1, dishonestStore, dishonestCashier)
		rc := float64(cur.CashRefunds) * 1000 / float64(cur.Transactions)
		rp := float64(prev.CashRefunds) * 1000 / float64(prev.Transactions)
		if !near(d.Change.CashRefunds.Abs, rc-rp) || d.Change.CashRefunds.Pct == nil || !near(*d.Change.CashRefunds.Pct, (rc-rp)/rp*100) {
			t.Errorf("cash refunds change %+v, want %.3f (%.1f%%)", d.Change.CashRefunds, rc-rp, (rc-rp)/rp*100)
		}
		t.Logf("week %d: cash refunds %d in %d sales (%.1f per 1,000) after %d in %d (%.1f): %+.1f%%",
			w, cur.CashRefunds, cur.Transactions, rc, prev.CashRefunds, prev.Transactions, rp, *d.Change.CashRefunds.Pct)
	})

	t.Run("schema of real rows", func(t *testing.T) {
		for _, level := range []Level{LevelCashier, LevelStore, LevelRegion, LevelHQ} {
			checkRowsSchema(t, report(t, Query{Level: level, Period: week(noisyWeek)}, RiskConfig{}))
		}
		checkRowsSchema(t, report(t, Query{Level: LevelStore, Period: PeriodOf(PeriodMonth, histStart)}, RiskConfig{}))
	})

	t.Run("sizes", func(t *testing.T) {
		sz, err := s.Size()
		if err != nil {
			t.Fatal(err)
		}
		per := func(b string) float64 { return float64(sz.Buckets[b].Bytes) / float64(sz.Buckets[b].Rows) }
		t.Logf("%d facts: file %d bytes; %s", total, sz.FileBytes, fmt.Sprint(sz.Buckets))
		t.Logf("bytes per row in use: daily %.1f, hourly %.1f, key %.1f + %.1f", per("daily"), per("hourly"), per("keys"), per("keytimes"))
		// 56 days x 96 cashiers; the encoding stays compact (doc.go's
		// figures rest on it).
		if sz.Buckets["daily"].Rows != 56*96 || per("daily") > 64 || per("hourly") > 48 || per("keys") > 48 {
			t.Errorf("daily rows %d, bytes per row: daily %.1f, hourly %.1f, keys %.1f", sz.Buckets["daily"].Rows, per("daily"), per("hourly"), per("keys"))
		}
	})
}

// TestRiskAcrossSeeds reproduces doc.go's calibration of the prior: the
// planted cashier's rank in his dishonest weeks over 12 seeds, with raw
// rates, Prior 200 and the default. It takes about a minute, so it runs
// only with STORESIGHT_RISK_SEEDS=1.
func TestRiskAcrossSeeds(t *testing.T) {
	if os.Getenv("STORESIGHT_RISK_SEEDS") == "" {
		t.Skip("set STORESIGHT_RISK_SEEDS=1 to run the 12-seed calibration")
	}
	priors := []int64{-1, 200, defaultPrior}
	first := map[int64]int{}
	falseFirst := 0
	for seed := uint64(1); seed <= 12; seed++ {
		h := generateHistory(seed)
		s := openStore(t, filepath.Join(t.TempDir(), fmt.Sprint(seed, ".db")), StoreOptions{})
		for _, b := range h.days {
			mustAdd(t, s, b...)
		}
		for w := range histWeeks {
			for _, prior := range priors {
				rows, err := s.Report(Query{Level: LevelCashier, Period: PeriodOf(PeriodWeek, histStart.AddDate(0, 0, 7*w))}, RiskConfig{Prior: prior})
				if err != nil {
					t.Fatal(err)
				}
				top := rows[0].Store == dishonestStore && rows[0].Entity == dishonestCashier
				switch {
				case w >= dishonestFrom && top:
					first[prior]++
				case w < dishonestFrom && top && prior == defaultPrior:
					falseFirst++
				}
			}
		}
		_ = s.Close()
	}
	weeks := 12 * (histWeeks - dishonestFrom)
	t.Logf("first in dishonest weeks (of %d): raw %d, prior 200 %d, prior %d %d; first in honest weeks (of %d) with the default: %d",
		weeks, first[-1], first[200], defaultPrior, first[defaultPrior], 12*dishonestFrom, falseFirst)
	if first[defaultPrior] != weeks || falseFirst > 2 {
		t.Errorf("the default prior no longer separates the planted cashier on every seed")
	}
}
