package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/storesight/storesight/alerts"
)

// vtestAlertsConfig watches vtest.avi with the zones and the 8 s dwell of
// testdata/alerts/LABELS.md, and an after-hours rule: the store opens
// 09:00-18:00 every day and the clip is set at 23:00 on a Saturday, so the
// pedestrians are people inside a closed store. Every alert at level 2 or
// above is texted to the two numbers of tier 0; tier 1 (after 1h) is never
// reached. The cooldown is 1ms instead of 10m, so that the second corner
// alert, raised seconds after the first, is texted too: this test is about
// one text per number per alert (the cooldown has its own tests in sms).
const vtestAlertsConfig = `
store:
  id: e2e-store
  name: Plaza
  timezone: UTC
  hours:
    mon: ["09:00-18:00"]
    tue: ["09:00-18:00"]
    wed: ["09:00-18:00"]
    thu: ["09:00-18:00"]
    fri: ["09:00-18:00"]
    sat: ["09:00-18:00"]
    sun: ["09:00-18:00"]
model:
  name: yolox_nano_416_coco
  dir: "{{MODELS}}"
cameras:
  - id: plaza
    source: ` + vtestPath + `
    start_time: 2026-11-21T23:00:00Z
    realtime: false
    fps: 0
    zones:
      - name: meeting
        polygon: [[340, 225], [450, 225], [450, 300], [340, 300]]
      - name: corner
        polygon: [[630, 140], [740, 140], [740, 215], [630, 215]]
kafka:
  embedded_addr: 127.0.0.1:0
  spill_dir: "{{TMP}}/spill"
outputs:
  stdout: false
alerts:
  notify_level: 2
  public_url: ` + publicURL + `
  snapshots:
    dir: "{{TMP}}/snapshots"
  rules:
    - name: loiter-meeting
      kind: loitering
      zone: meeting
      dwell: 8s
    - name: loiter-corner
      kind: loitering
      zone: corner
      dwell: 8s
    - name: intrusion
      kind: after_hours
sms:
  account_sid: ` + fakeSID + `
  auth_token: ` + fakeToken + `
  from: "` + fakeFrom + `"
  cooldown: 1ms
  escalation:
    - name: store manager
      numbers: ["` + fakeMgr1 + `", "` + fakeMgr2 + `"]
    - name: hq
      numbers: ["` + fakeHQ + `"]
      after: 1h
  state_dir: "{{TMP}}/sms"
`

// loiterLabel is a visit over the threshold from LABELS.md, in decode
// frames (10 fps).
type loiterLabel struct {
	rule        string
	zone        string
	firstTrack  uint64
	first, last int64
}

// The visits LABELS.md expects over 8 s: man A at the meeting point, and
// the couple at the corner (the woman's visit starts as track 7, a man who
// left before her ID switch to 7, so the dweller's visit of id 7 begins at
// f111).
var vtestLoiterers = []loiterLabel{
	{"loiter-meeting", "meeting", 2, 12, 161},
	{"loiter-corner", "corner", 7, 111, 285},
	{"loiter-corner", "corner", 4, 142, 261},
}

// loiterSlack is how far (frames) a visit's start and end may be from the
// labels: the labels come from the same tracker's output, replayed through
// the dweller, so only a changed detector or tracker moves them.
const loiterSlack = 5

// TestAlertsLoiteringAndAfterHoursOnVtest runs vtest.avi through the whole
// product once (the real ONNX model, ByteTrack, dwell, the alert engine and
// manager, snapshots, the embedded Kafka broker over TCP, and SMS through
// twilio-go to a local Twilio stand-in) and checks the alerts a store
// manager would get: the three loitering visits of LABELS.md and one
// after-hours intrusion, each on storesight.alerts from raised to resolved,
// with its snapshot on disk and one text per tier-0 number.
func TestAlertsLoiteringAndAfterHoursOnVtest(t *testing.T) {
	tw := newTwilioServer(t)
	run := runAlerts(t, vtestAlertsConfig, tw)

	st := run.sum.Cameras[0].Stats
	if st.Decoded != 795 || st.Analysed != 795 || st.Dropped != 0 {
		t.Fatalf("frames: %+v, want all 795 decoded and analysed", st)
	}
	if len(run.stories) != 4 {
		for id, s := range run.stories {
			a := s.raised()
			t.Logf("alert %s: %s zone %q tracks %v started f%d raised f%d", id, a.Rule, a.Zone, a.TrackIDs, run.frame(a.Started), a.Frame)
		}
		t.Errorf("%d alerts, want 4 (3 loitering, 1 after hours)", len(run.stories))
	}

	// Loitering: one alert per labelled visit, none other.
	var loiter []*alertStory
	for _, rule := range []string{"loiter-meeting", "loiter-corner"} {
		loiter = append(loiter, run.byRule(rule)...)
	}
	if got := []int{len(run.byRule("loiter-meeting")), len(run.byRule("loiter-corner"))}; !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("loitering alerts meeting/corner %v, want [1 2]", got)
	}
	for _, l := range vtestLoiterers {
		var s *alertStory
		for _, c := range loiter {
			if c.raised().Rule == l.rule && len(c.raised().TrackIDs) > 0 && c.raised().TrackIDs[0] == l.firstTrack {
				s = c
			}
		}
		if s == nil {
			t.Errorf("%s: no alert for track %d (f%d-%d)", l.rule, l.firstTrack, l.first, l.last)
			continue
		}
		a, end := s.raised(), s.resolved()
		started, ended := run.frame(a.Started), run.frame(end.Ended)
		t.Logf("%s: alert %s tracks %v started f%d raised f%d dwell %.1fs; resolved f%d after %.1fs (%d steps)",
			a.Zone, a.ID, end.TrackIDs, started, a.Frame, a.Value, ended, end.Value, len(s.Steps))
		if a.Kind != alerts.KindLoitering || a.Level != alerts.LevelHuman || a.Zone != l.zone || a.Class != "person" || a.Camera != "plaza" {
			t.Errorf("%s: raised %+v, want a level 2 loitering alert of a person in zone %s", l.rule, a, l.zone)
		}
		if abs(started-l.first) > loiterSlack || abs(ended-l.last) > loiterSlack {
			t.Errorf("%s track %d: visit f%d-%d, labels f%d-%d (±%d)", l.rule, l.firstTrack, started, ended, l.first, l.last, loiterSlack)
		}
		// Raised the first analysed frame the dwell reached 8 s (80
		// frames), a little later if the person was hidden just then.
		if a.Value < 8 || a.Frame < started+80 || a.Frame > started+85 || run.frame(a.Time) != a.Frame {
			t.Errorf("%s: raised at f%d (time f%d) with dwell %.2fs, started f%d: want dwell >= 8s reached at f%d",
				l.rule, a.Frame, run.frame(a.Time), a.Value, started, started+80)
		}
		if end.Value < a.Value || end.Value > float64(ended-started)/10+0.05 {
			t.Errorf("%s: resolved with dwell %.2fs for a visit of f%d-%d", l.rule, end.Value, started, ended)
		}
		if !strings.Contains(a.Message, "loitering") || !strings.Contains(a.Message, l.zone) {
			t.Errorf("%s: message %q", l.rule, a.Message)
		}
		run.checkSnapshot(t, a, 768, 576)
		run.checkTexts(t, a, fakeMgr1, fakeMgr2)
	}

	// After hours: the clip is all after closing time and someone is in
	// view throughout, so one episode from the first confirmed track
	// (3 of 5 frames) to the end of the clip.
	ah := run.byRule("intrusion")
	if len(ah) != 1 {
		t.Fatalf("%d after-hours alerts, want 1", len(ah))
	}
	a, end := ah[0].raised(), ah[0].resolved()
	t.Logf("after hours: alert %s tracks %d started f%d raised f%d; resolved f%d, %d people ids, %.0f frames (%d steps)",
		a.ID, len(a.TrackIDs), run.frame(a.Started), a.Frame, run.frame(end.Ended), len(end.TrackIDs), end.Value, len(ah[0].Steps))
	if a.Kind != alerts.KindAfterHours || a.Level != alerts.LevelHuman || a.Zone != "" || a.Class != "person" || len(a.TrackIDs) == 0 {
		t.Errorf("after hours raised %+v, want a level 2 after_hours alert of a person", a)
	}
	if s := run.frame(a.Started); s > 10 || a.Frame < s+2 || a.Frame > s+4 || a.Value < 3 {
		t.Errorf("after hours: started f%d, raised f%d with %v confirming frames, want raised within 3 of 5 frames of a start by f10", s, a.Frame, a.Value)
	}
	if e := run.frame(end.Ended); e < 790 || len(end.TrackIDs) <= len(a.TrackIDs) {
		t.Errorf("after hours: resolved ended f%d with %d track ids, want the end of the clip and more people than at first", e, len(end.TrackIDs))
	}
	if !strings.Contains(a.Message, "after hours") {
		t.Errorf("after hours: message %q", a.Message)
	}
	run.checkSnapshot(t, a, 768, 576)
	run.checkTexts(t, a, fakeMgr1, fakeMgr2)

	// Texts: 4 alerts x 2 numbers, nothing else (updated and resolved
	// steps are not texted, tier 1 is an hour away), no retries, no
	// look-ups, and each alert its own reply reference.
	if len(run.posts) != 8 || run.gets != 0 {
		t.Errorf("%d texts and %d list requests at Twilio, want 8 texts (4 alerts x 2 numbers) and no list", len(run.posts), run.gets)
	}
	refs := map[string]bool{}
	for _, p := range run.posts {
		if m := ackRef.FindStringSubmatch(p.Form.Get("Body")); m != nil {
			refs[m[1]] = true
		}
	}
	if len(refs) != 4 {
		t.Errorf("reply refs %v, want 4 different", refs)
	}
	sms := run.sum.Alerts.SMS
	if sms == nil || sms.Sent != 8 || sms.Failed != 0 || sms.Retries != 0 || sms.DryRun != 0 ||
		sms.Suppressed.Cooldown+sms.Suppressed.Quiet+sms.Suppressed.Rate != 0 {
		t.Errorf("sms stats %+v, want 8 sent, none failed, retried or suppressed", sms)
	}
	if len(run.sum.Alerts.Active) != 0 {
		t.Errorf("%d alerts still active after the end of the clip", len(run.sum.Alerts.Active))
	}
	run.checkJournal(t)
	run.checkSecrets(t)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
