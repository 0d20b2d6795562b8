package sms

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/storesight/storesight/alerts"
)

// segment is what one GSM-7 SMS holds. The snapshot URL is left out of
// the budget: it cannot be shortened, and the rest is what is read first.
const segment = 160

// sentence is the one-line description of an alert: the engine's Message
// when it has one (it knows its rule best), else one built from the
// fields. The camera is added when the sentence does not name it, so a
// manager knows where to look.
func sentence(a alerts.Alert) string {
	s := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(a.Message), "."))
	if s == "" {
		s = describe(a)
	}
	if a.Camera != "" && !strings.Contains(s, a.Camera) {
		s += ", cam " + a.Camera
	}
	return s
}

func describe(a alerts.Alert) string {
	in := ""
	if a.Zone != "" {
		in = " in zone " + a.Zone
	}
	switch a.Kind {
	case alerts.KindLoitering:
		return fmt.Sprintf("Person loitering %.0fs%s", a.Value, in)
	case alerts.KindWeapon:
		what := a.Class
		if what == "" {
			what = "weapon"
		}
		return upperFirst(what) + " next to a person" + in
	case alerts.KindAfterHours:
		return "Person present after hours" + in
	case alerts.KindOccupancy:
		return fmt.Sprintf("%.0f people%s", a.Value, in)
	}
	s := string(a.Kind)
	if s == "" {
		s = a.Rule
	}
	return upperFirst(s) + in
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// body words one text. E.g. "storesight Main St: Person loitering 75s in
// zone door, cam entrance, 14:03. http://.../x.jpg Reply ACK 4821 or FALSE
// 4821". Escalations and level rises say so up front, as that changes
// what the reader does.
func body(store string, r *alertRec, reason string, tier Tier, loc *time.Location) string {
	head := "storesight"
	if store != "" {
		head += " " + store
	}
	switch reason {
	case reasonEscalate:
		head += " ESCALATED, no reply in " + shortDuration(tier.After)
	case reasonLevel:
		head += " now " + r.Level.String()
	}
	head += ": "
	when := ", " + r.At.In(loc).Format("15:04") + "."
	tail := " Reply ACK " + r.Ref + " or FALSE " + r.Ref
	text := r.Text
	if room := segment - len(head) - len(when) - len(tail); len(text) > room {
		text = truncate(text, room-2) + ".."
	}
	link := ""
	if r.Snapshot != "" {
		link = " " + r.Snapshot
	}
	return head + text + when + link + tail
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// shortDuration prints 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
