package analytics

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestHTTPRiskAndStores(t *testing.T) {
	t.Parallel()
	s := handHistory(t)
	srv := httptest.NewServer(s.Handler(handRisk))
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	code, body := get("/analytics/risk?level=cashier&period=week&date=2026-11-19&store=a")
	if code != http.StatusOK {
		t.Fatalf("risk: %d %s", code, body)
	}
	var got struct {
		Query Query `json:"query"`
		Rows  []Row `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.Query.Period != w47 || got.Query.Level != LevelCashier || got.Query.Store != "a" {
		t.Errorf("query echoed as %+v", got.Query)
	}
	if len(got.Rows) != 2 || got.Rows[0].Entity != "c1" || got.Rows[0].Risk.Rank != 1 || got.Rows[0].Measures.VoidAmount != 15501 {
		t.Errorf("rows %+v", got.Rows)
	}
	// What the API serves is what Report returns.
	want, err := s.Report(Query{Level: LevelCashier, Period: w47, Store: "a"}, handRisk)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got.Rows)
	if string(wb) != string(gb) {
		t.Errorf("served rows differ from Report:\n%s\n%s", gb, wb)
	}

	code, body = get("/analytics/risk?level=region&period=month&date=2026-12-01")
	if code != http.StatusOK || !strings.Contains(body, `"rows":[]`) {
		t.Errorf("empty month: %d %s", code, body)
	}

	code, body = get("/analytics/stores")
	var stores map[string]string
	if code != http.StatusOK || json.Unmarshal([]byte(body), &stores) != nil || stores["a"] != "east" || stores["c"] != "" || len(stores) != 3 {
		t.Errorf("stores: %d %s", code, body)
	}

	for q, msg := range map[string]string{
		"level=team&period=week&date=2026-11-16":                "level",
		"level=cashier&period=year&date=2026-11-16":             "period",
		"level=cashier&period=week&date=16.11.2026":             "date",
		"level=cashier&period=week":                             "missing parameter(s) date",
		"":                                                      "missing parameter(s) level, period, date",
		"level=cashier&period=week&date=2026-11-16&stor=a":      `unknown parameter "stor"`,
		"level=cashier&level=store&period=week&date=2026-11-16": `"level" given 2 times`,
	} {
		code, body := get("/analytics/risk?" + q)
		if code != http.StatusBadRequest || !strings.Contains(body, msg) {
			t.Errorf("?%s: %d %q, want 400 mentioning %q", q, code, body, msg)
		}
	}
	resp, err := http.PostForm(srv.URL+"/analytics/risk", url.Values{"level": {"cashier"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

// A storage failure is a 500, not a 400: the caller's request was fine.
func TestHTTPStorageFailure(t *testing.T) {
	t.Parallel()
	s := handHistory(t)
	srv := httptest.NewServer(s.Handler(handRisk))
	t.Cleanup(srv.Close)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/analytics/risk?level=store&period=day&date=2026-11-17", "/analytics/stores"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s on a closed store: %d, want 500", p, resp.StatusCode)
		}
	}
}
