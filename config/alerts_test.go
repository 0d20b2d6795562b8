package config

import (
	"strings"
	"testing"
)

// withZone is valid plus a zone "queue" on camera entrance; appended text
// starts at line 11.
const withZone = valid + `    zones:
      - name: queue
        polygon: [[0, 0], [100, 0], [100, 100]]
model:
  classes: [person, knife]
`

func TestAlertAndSMSErrorsCiteLines(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"invalid phone numbers rejected at load", withZone + `sms:
  from: "+15550000000"
  escalation:
    - name: manager
      numbers: ["+1 555 000 0001", "0049301234567", "+15550000001"]
`, []string{
			`f.yml:15: sms.escalation[0].numbers[0]: want an E.164 number such as +15551234567 (+, country code, 8 to 15 digits, no spaces), got "+1 555 000 0001"`,
			`f.yml:15: sms.escalation[0].numbers[1]: want an E.164 number such as +15551234567 (+, country code, 8 to 15 digits, no spaces), got "0049301234567"`,
		}},
		{"escalation needs a sender and later tiers", withZone + `sms:
  escalation:
    - name: manager
      numbers: ["+15550000001"]
      after: 5m
    - name: region
      numbers: ["+15550000001"]
      after: 1m
`, []string{
			"f.yml:11: sms.from: required when sms.escalation is set (the sending number, E.164)",
			"f.yml:15: sms.escalation[0].after: the first tier is texted at once: want 0s, got 5m0s",
			"f.yml:17: sms.escalation[1].numbers[0]: number listed twice (first at line 14)",
			"f.yml:18: sms.escalation[1].after: must be later than the previous tier's (5m0s), got 1m0s",
		}},
		{"weapon class not detected", withZone + `alerts:
  rules:
    - name: w
      kind: weapon
      classes: [knife, scissors]
`, []string{`f.yml:15: alerts.rules[0].classes[1]: "scissors" is not in model.classes [person knife]: the detector would never report it`}},
		{"key of another kind", withZone + `alerts:
  rules:
    - name: l
      kind: loitering
      zone: queue
      max: 3
`, []string{"f.yml:16: alerts.rules[0].max: not used by loitering rules (they take zone, dwell, clear)"}},
		{"unknown zone and camera", withZone + `alerts:
  rules:
    - name: o
      kind: occupancy
      cameras: [entrance, back]
      zone: till
`, []string{
			`f.yml:15: alerts.rules[0].cameras[1]: no camera with id "back"`,
			`f.yml:16: alerts.rules[0].zone: camera "entrance" has no zone "till"`,
		}},
		{"after hours needs opening hours", withZone + `alerts:
  rules:
    - name: night
      kind: after_hours
`, []string{"f.yml:14: alerts.rules[0].kind: after_hours rules need store.hours (when the store is open)"}},
		{"bad hours and holidays", `store:
  id: s
  hours:
    mon: ["9-18", "18:00-18:00", "22:00-06:00"]
  holidays: ["2026-02-30"]
cameras:
  - id: a
    source: v.avi
`, []string{
			`f.yml:4: store.hours.mon[0]: want a time range HH:MM-HH:MM such as 09:00-18:00 (22:00-06:00 runs past midnight), got "9-18"`,
			`f.yml:4: store.hours.mon[1]: want a time range HH:MM-HH:MM such as 09:00-18:00 (22:00-06:00 runs past midnight), got "18:00-18:00"`,
			`f.yml:5: store.holidays[0]: want a date YYYY-MM-DD, got "2026-02-30"`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "f.yml")
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestValidAlertConfigLoads(t *testing.T) {
	doc := `store:
  id: s
  hours: {mon: ["09:00-18:00"]}
` + strings.TrimPrefix(withZone, "store:\n  id: shop-001\n") + `alerts:
  rules:
    - {name: l, kind: loitering, zone: queue, dwell: 20s}
    - {name: n, kind: after_hours, cameras: [entrance]}
    - {name: w, kind: weapon, classes: [knife], min_score: 0.3}
sms:
  from: "+15550000000"
  escalation:
    - {name: m, numbers: ["+15550000001"]}
    - {name: r, numbers: ["+447700900123"], after: 5m}
`
	c, err := Parse([]byte(doc), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Alerts.Rules
	if len(r) != 3 || r[0].Dwell.D().Seconds() != 20 || r[1].Frames != 3 || r[2].MinScore != 0.3 || r[2].Near != 0.5 {
		t.Fatalf("rules %+v", r)
	}
}
