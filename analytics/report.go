package analytics

import (
	"cmp"
	"fmt"
	"slices"
)

// Level is the grain of a report.
type Level string

// Levels, finest first. Each rolls up the one before: a store is the sum of
// its cashiers, a region of its stores, HQ of everything.
const (
	LevelCashier Level = "cashier"
	LevelStore   Level = "store"
	LevelRegion  Level = "region"
	LevelHQ      Level = "hq"
)

// UnassignedRegion is the region-level entity of stores no fact gave a
// region.
const UnassignedRegion = "unassigned"

// hqEntity is the entity name of the one HQ row.
const hqEntity = "hq"

// Query selects one level of one period. Store and Region narrow the
// facts (and with them the peers a row is ranked against): a cashier query
// with Store set ranks that store's cashiers among themselves.
type Query struct {
	Level  Level  `json:"level"`
	Period Period `json:"period"`
	Store  string `json:"store,omitempty"`
	Region string `json:"region,omitempty"`
}

// Previous is the same entity's figures in the period before.
type Previous struct {
	Measures Measures `json:"measures"`
	Rates    *Rates   `json:"rates,omitempty"`
}

// Row is one entity's figures for one period: the data of a risk event.
type Row struct {
	Level Level `json:"level"`
	// Entity is the cashier id, store id, region name or "hq".
	Entity string `json:"entity"`
	// Store is set on cashier and store rows (cashier ids are per store).
	Store string `json:"store,omitempty"`
	// Region is set on cashier, store and region rows when known.
	Region   string   `json:"region,omitempty"`
	Period   Period   `json:"period"`
	Measures Measures `json:"measures"`
	// Rates are absent when the period has no transactions.
	Rates    *Rates   `json:"rates,omitempty"`
	Averages Averages `json:"averages"`
	Previous Previous `json:"previous"`
	// Change is absent unless both periods have rates.
	Change *Change `json:"change,omitempty"`
	Risk   Risk    `json:"risk"`
}

type entityKey struct{ store, entity string }

// Report computes q's rows: every entity of q.Level with any activity in
// q.Period (after the filters), with its previous period, change and risk.
// Rows come ranked first (rank 1 first), then the unranked by store and
// entity. Cashier rows are per (store, cashier); facts without a cashier
// count in their store but have no cashier row.
func (s *Store) Report(q Query, rc RiskConfig) ([]Row, error) {
	switch q.Level {
	case LevelCashier, LevelStore, LevelRegion, LevelHQ:
	default:
		return nil, fmt.Errorf("analytics: level %q is not one of cashier, store, region, hq", q.Level)
	}
	if q.Period.IsZero() || PeriodOf(q.Period.Kind, q.Period.Start) != q.Period {
		return nil, fmt.Errorf("analytics: invalid period %+v (use PeriodOf or ParsePeriod)", q.Period)
	}
	rc, weights, err := rc.withDefaults()
	if err != nil {
		return nil, err
	}
	prev := q.Period.Prev()
	stores, days, err := s.snapshot(prev.Start, q.Period.End)
	if err != nil {
		return nil, err
	}
	cur, old := map[entityKey]*Measures{}, map[entityKey]*Measures{}
	meta := map[entityKey]*Row{}
	for _, d := range days {
		region := stores[d.Store]
		if (q.Store != "" && d.Store != q.Store) || (q.Region != "" && regionName(region) != q.Region) {
			continue
		}
		k, row, ok := entityOf(q.Level, d.Store, d.Cashier, region)
		if !ok {
			continue
		}
		meta[k] = row
		into := cur
		if d.Date.Before(q.Period.Start) {
			into = old
		}
		if into[k] == nil {
			into[k] = &Measures{}
		}
		into[k].add(d.Measures)
	}
	var rows []*Row
	for k, m := range cur {
		if *m == (Measures{}) {
			continue
		}
		r := meta[k]
		r.Period = q.Period
		r.Measures = *m
		r.Rates = RatesOf(*m)
		r.Averages = AveragesOf(*m)
		if p := old[k]; p != nil {
			r.Previous = Previous{Measures: *p, Rates: RatesOf(*p)}
		}
		r.Change = ChangeOf(r.Rates, r.Previous.Rates)
		rows = append(rows, r)
	}
	slices.SortFunc(rows, compareEntity) // scoring and ties must not depend on map order
	scoreRisk(rows, rc, weights)
	slices.SortStableFunc(rows, func(a, b *Row) int {
		switch {
		case a.Risk.Ranked && b.Risk.Ranked:
			return cmp.Compare(a.Risk.Rank, b.Risk.Rank)
		case a.Risk.Ranked != b.Risk.Ranked:
			if a.Risk.Ranked {
				return -1
			}
			return 1
		}
		return compareEntity(a, b)
	})
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out, nil
}

// entityOf says which row of level a daily row of (store, cashier) adds
// to; ok is false when it belongs to none (no cashier at cashier level).
func entityOf(level Level, store, cashier, region string) (entityKey, *Row, bool) {
	switch level {
	case LevelCashier:
		if cashier == "" {
			return entityKey{}, nil, false
		}
		return entityKey{store, cashier}, &Row{Level: level, Entity: cashier, Store: store, Region: region}, true
	case LevelStore:
		return entityKey{store, store}, &Row{Level: level, Entity: store, Store: store, Region: region}, true
	case LevelRegion:
		r := regionName(region)
		return entityKey{"", r}, &Row{Level: level, Entity: r, Region: r}, true
	}
	return entityKey{"", hqEntity}, &Row{Level: level, Entity: hqEntity}, true
}

func regionName(r string) string {
	if r == "" {
		return UnassignedRegion
	}
	return r
}

func compareEntity(a, b *Row) int {
	if c := cmp.Compare(a.Store, b.Store); c != 0 {
		return c
	}
	return cmp.Compare(a.Entity, b.Entity)
}
