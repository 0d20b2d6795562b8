package analytics

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// riskResponse is the body of GET /analytics/risk.
type riskResponse struct {
	Query Query `json:"query"`
	Rows  []Row `json:"rows"`
}

// Handler serves the store's figures at absolute paths (mount it
// unstripped):
//
//	GET /analytics/risk?level=cashier&period=week&date=2026-11-16[&store=s1][&region=north]
//	    {"query": {...}, "rows": [Row, ...]} ranked as Report returns them;
//	    level, period and date (any day inside the period) are required
//	GET /analytics/stores
//	    {"store id": "region", ...}
//
// Bad parameters answer 400 with a one-line message; a storage failure
// 500. It does no authentication: cashier risk scores are personal data,
// so whoever mounts it must put it behind the API token (or loopback).
func (s *Store) Handler(rc RiskConfig) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /analytics/risk", func(w http.ResponseWriter, r *http.Request) {
		q, err := parseQuery(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rows, err := s.Report(q, rc)
		if err != nil {
			s.log.Error("analytics: risk report", "query", r.URL.RawQuery, "err", err)
			http.Error(w, "report failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if rows == nil {
			rows = []Row{}
		}
		writeJSON(w, s.log, riskResponse{Query: q, Rows: rows})
	})
	mux.HandleFunc("GET /analytics/stores", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Stores()
		if err != nil {
			s.log.Error("analytics: stores", "err", err)
			http.Error(w, "stores failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, s.log, st)
	})
	return mux
}

var queryParams = map[string]bool{"level": true, "period": true, "date": true, "store": true, "region": true}

// parseQuery reads and checks the risk query. Unknown parameters are
// refused: a misspelt filter (?stor=s1) would otherwise silently widen the
// report to the whole fleet.
func parseQuery(r *http.Request) (Query, error) {
	v := r.URL.Query()
	for k, vals := range v {
		if !queryParams[k] {
			return Query{}, fmt.Errorf("unknown parameter %q (want level, period, date, store, region)", k)
		}
		if len(vals) > 1 {
			return Query{}, fmt.Errorf("parameter %q given %d times", k, len(vals))
		}
	}
	var missing []string
	for _, k := range []string{"level", "period", "date"} {
		if v.Get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Query{}, fmt.Errorf("missing parameter(s) %s", strings.Join(missing, ", "))
	}
	q := Query{Level: Level(v.Get("level")), Store: v.Get("store"), Region: v.Get("region")}
	switch q.Level {
	case LevelCashier, LevelStore, LevelRegion, LevelHQ:
	default:
		return Query{}, fmt.Errorf("level %q is not one of cashier, store, region, hq", q.Level)
	}
	p, err := ParsePeriod(v.Get("period"), v.Get("date"))
	if err != nil {
		return Query{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "analytics: "))
	}
	q.Period = p
	return q, nil
}

func writeJSON(w http.ResponseWriter, log *slog.Logger, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Error("analytics: encode response", "err", err)
		http.Error(w, "encode failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}
