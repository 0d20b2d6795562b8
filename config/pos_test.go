package config

import (
	"strings"
	"testing"
	"time"
)

func TestPOSAndAnalyticsErrorsCiteLines(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"registers", valid + `pos:
  enabled: true
  dead_letter_topic: storesight.pos
  check: [refund, refnd]
  refund_tenders: [cash, bitcoin]
  history: 10s
  registers:
    - id: r1
      camera: back
      customer_zone: [[0, 0], [10, 0]]
    - id: r1
      camera: entrance
`, []string{
			`f.yml:8: pos.dead_letter_topic: must differ from pos.topic ("storesight.pos")`,
			`f.yml:9: pos.check[1]: want one of sale, void, refund, partial_cancel, no_sale, got "refnd"`,
			`f.yml:10: pos.refund_tenders[1]: want one of cash, card, mobile, voucher, other, got "bitcoin"`,
			`f.yml:11: pos.history: must be longer than the window before + after (25s), got 10s`,
			`f.yml:14: pos.registers[0].camera: no camera with id "back"`,
			`f.yml:15: pos.registers[0].customer_zone: need at least 3 points, got 2`,
			`f.yml:16: pos.registers[1].id: duplicate register id "r1" (first used at line 13)`,
			`f.yml:16: pos.registers[1].customer_zone: required: the polygon where a customer stands`,
		}},
		{"entrance direction", `store:
  id: s
cameras:
  - id: a
    source: v.avi
    lines:
      - name: door
        points: [[0, 10], [100, 10]]
        entrance: inside
`, []string{`f.yml:9: cameras[0].lines[0].entrance: must name the direction that enters the store, forward ("in") or backward ("out"), got "inside"`}},
		{"analytics", valid + `analytics:
  min_transactions: 0
  weights: {no_customer: 0, cash_refunds: 0, voids: 0, partial_cancels: 0, no_sales: 0, refunds: -1}
  regions:
    - name: north
      stores: [s1, s2]
    - name: north
      stores: [s2]
`, []string{
			"f.yml:7: analytics.min_transactions: must be >= 1, got 0",
			"f.yml:8: analytics.weights.refunds: must be >= 0, got -1",
			"f.yml:8: analytics.weights: at least one weight must be > 0",
			`f.yml:12: analytics.regions[1].name: duplicate region name "north" (first used at line 10)`,
			`f.yml:13: analytics.regions[1].stores[0]: store "s2" is already in a region (at line 11)`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "f.yml")
			if err == nil {
				t.Fatal("accepted")
			}
			if got := err.Error(); got != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestValidPOSConfigLoads(t *testing.T) {
	doc := valid + `pos:
  enabled: true
  clock_offset: -7s
  registers:
    - id: r1
      camera: entrance
      customer_zone: [[0, 0], [100, 0], [100, 100]]
      clock_offset: 2s
analytics:
  enabled: true
`
	c, err := Parse([]byte(doc), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.POS
	if p.ClockOffset.D() != -7*time.Second || p.Registers[0].ClockOffset.D() != 2*time.Second || p.Before.D() != 20*time.Second || len(p.Check) != 3 {
		t.Fatalf("pos %+v", p)
	}
	if !c.Analytics.Enabled || c.Analytics.MinTransactions != 100 {
		t.Fatalf("analytics %+v", c.Analytics)
	}
}
