package analytics

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/storesight/storesight/events"
)

// riskEnvelope wraps a row the way risk events are published (see
// risk.schema.json): store id, "region:<name>" or "hq"; no camera; the
// period's start as time.
func riskEnvelope(t *testing.T, r Row) []byte {
	t.Helper()
	st := events.Store{ID: r.Store, Region: r.Region}
	switch r.Level {
	case LevelRegion:
		st = events.Store{ID: "region:" + r.Entity, Region: r.Entity}
	case LevelHQ:
		st = events.Store{ID: "hq"}
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.NewEnvelope(events.ID(events.TypeRisk, string(r.Level), r.Store, r.Entity, r.Period.String(), string(data)),
		events.TypeRisk, st, "", r.Period.Start, json.RawMessage(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func checkRowsSchema(t *testing.T, rows []Row) {
	t.Helper()
	if len(rows) == 0 {
		t.Fatal("no rows to check")
	}
	for _, r := range rows {
		raw := riskEnvelope(t, r)
		if err := events.CheckSchemas(raw); err != nil {
			t.Errorf("%s %s/%s: %v\n%s", r.Level, r.Store, r.Entity, err, raw)
		}
	}
}

// Rows with every optional part present and absent: null percentages,
// no previous period, no averages, no rates at all (no sales), unranked.
func TestRiskRowsMatchSchema(t *testing.T) {
	t.Parallel()
	s := handHistory(t)
	// A store with a drawer opening and no sale: a row without rates.
	mustAdd(t, s, Fact{Key: "lonely", Kind: FactNoSale, Time: time.Date(2026, 11, 18, 9, 0, 0, 0, plus2), Store: "d", Cashier: "c1", N: 1})
	seen := map[string]bool{}
	for _, level := range []Level{LevelCashier, LevelStore, LevelRegion, LevelHQ} {
		rows, err := s.Report(Query{Level: level, Period: w47}, handRisk)
		if err != nil {
			t.Fatal(err)
		}
		checkRowsSchema(t, rows)
		for _, r := range rows {
			b, _ := json.Marshal(r)
			seen["rates"] = seen["rates"] || r.Rates == nil
			seen["pct"] = seen["pct"] || strings.Contains(string(b), `"pct":null`)
			seen["unranked"] = seen["unranked"] || !r.Risk.Ranked
			seen["change"] = seen["change"] || r.Change == nil
		}
	}
	if len(seen) != 4 || !seen["rates"] || !seen["pct"] || !seen["unranked"] || !seen["change"] {
		t.Errorf("the rows did not cover every optional part: %v", seen)
	}
}

// The schema is strict enough to catch a row that changed shape.
func TestRiskSchemaCatchesViolations(t *testing.T) {
	t.Parallel()
	s := handHistory(t)
	rows, err := s.Report(Query{Level: LevelCashier, Period: w47}, handRisk)
	if err != nil {
		t.Fatal(err)
	}
	raw := riskEnvelope(t, rows[0])
	cases := map[string]struct {
		edit func(d map[string]any)
		want string
	}{
		"amount as number": {func(d map[string]any) { d["measures"].(map[string]any)["sales_amount"] = 500.0 }, "want string"},
		"negative count":   {func(d map[string]any) { d["measures"].(map[string]any)["voids"] = -1 }, "below minimum"},
		"missing risk":     {func(d map[string]any) { delete(d, "risk") }, `missing required "risk"`},
		"unknown level":    {func(d map[string]any) { d["level"] = "team" }, "want one of"},
		"extra z":          {func(d map[string]any) { d["risk"].(map[string]any)["z"].(map[string]any)["theft"] = 9.0 }, `unexpected property "theft"`},
		"bad date":         {func(d map[string]any) { d["period"].(map[string]any)["start"] = "16.11.2026" }, "does not match"},
		"missing previous": {func(d map[string]any) { delete(d["previous"].(map[string]any), "measures") }, `missing required "measures"`},
		"extra field":      {func(d map[string]any) { d["note"] = "x" }, `unexpected property "note"`},
	}
	for name, c := range cases {
		var env map[string]any
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		c.edit(env["data"].(map[string]any))
		b, _ := json.Marshal(env)
		if err := events.CheckSchemas(b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a violation mentioning %q", name, err, c.want)
		}
	}
}
