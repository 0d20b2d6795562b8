package config

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// e164 is an international number: "+", country code, up to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

var (
	rangePattern = regexp.MustCompile(`^([0-2][0-9]):([0-5][0-9])-([0-2][0-9]):([0-5][0-9])$`)
	datePattern  = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// ruleKeys are the keys each kind uses besides name, kind, cameras, level.
var ruleKeys = map[string][]string{
	"loitering":   {"zone", "dwell", "clear"},
	"weapon":      {"zone", "classes", "min_score", "frames", "window", "near", "clear"},
	"after_hours": {"zone", "frames", "window", "clear"},
	"occupancy":   {"zone", "max", "for", "clear"},
}

var ruleOptionKeys = []string{"zone", "dwell", "max", "for", "classes", "min_score", "frames", "window", "near", "clear"}

func (v *validator) hours() {
	h := v.c.Store.Hours
	for _, d := range []struct {
		key string
		rs  []string
	}{{"mon", h.Mon}, {"tue", h.Tue}, {"wed", h.Wed}, {"thu", h.Thu}, {"fri", h.Fri}, {"sat", h.Sat}, {"sun", h.Sun}} {
		for i, r := range d.rs {
			v.timeRange(joinIndex("store.hours."+d.key, i), r)
		}
	}
	for i, d := range v.c.Store.Holidays {
		_, err := time.Parse("2006-01-02", d)
		v.check(datePattern.MatchString(d) && err == nil, joinIndex("store.holidays", i), "want a date YYYY-MM-DD, got %q", d)
	}
}

// timeRange checks "HH:MM-HH:MM" (24:00 allowed as an end, equal ends
// refused: never or always?).
func (v *validator) timeRange(path, s string) {
	m := rangePattern.FindStringSubmatch(s)
	ok := m != nil
	if ok {
		from := atoi(m[1])*60 + atoi(m[2])
		to := atoi(m[3])*60 + atoi(m[4])
		ok = from < 24*60 && to <= 24*60 && from != to
	}
	v.check(ok, path, "want a time range HH:MM-HH:MM such as 09:00-18:00 (22:00-06:00 runs past midnight), got %q", s)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// HasHours reports whether any opening hours are configured.
func (h Hours) HasHours() bool {
	return len(h.Mon)+len(h.Tue)+len(h.Wed)+len(h.Thu)+len(h.Fri)+len(h.Sat)+len(h.Sun) > 0
}

func (v *validator) dwell() {
	d := v.c.Dwell
	v.check(d.Gap.D() >= 0, "dwell.gap", "must be >= 0, got %s", d.Gap)
	v.check(d.Rejoin >= 0 && !math.IsInf(d.Rejoin, 1), "dwell.rejoin", "must be >= 0 (box heights), got %v", d.Rejoin)
}

func (v *validator) alerts() {
	a := v.c.Alerts
	v.check(a.NotifyLevel >= 0 && a.NotifyLevel <= 4, "alerts.notify_level", "must be in [0, 4], got %d", a.NotifyLevel)
	if a.PublicURL != "" {
		u, err := url.Parse(a.PublicURL)
		v.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "",
			"alerts.public_url", "want an http(s)://host[:port][/path] URL, got %q", a.PublicURL)
	}
	v.check(a.UpdateEvery.D() >= 0, "alerts.update_every", "must be >= 0, got %s", a.UpdateEvery)
	s := a.Snapshots
	v.required("alerts.snapshots.dir", s.Dir)
	v.check(s.MaxAge.D() > 0, "alerts.snapshots.max_age", "must be > 0, got %s", s.MaxAge)
	v.check(s.MaxMB >= 1, "alerts.snapshots.max_mb", "must be >= 1, got %d", s.MaxMB)
	v.check(s.Quality >= 1 && s.Quality <= 100, "alerts.snapshots.quality", "must be in [1, 100], got %d", s.Quality)
	names := map[string]string{}
	for i, r := range a.Rules {
		p := joinIndex("alerts.rules", i)
		if v.check(r.Name != "", p+".name", "required") {
			if first, dup := names[r.Name]; dup {
				v.check(false, p+".name", "duplicate rule name %q (first used %s)", r.Name, v.where(first))
			} else {
				names[r.Name] = p + ".name"
				v.check(idPattern.MatchString(r.Name), p+".name", "must match [a-z0-9._-]+, got %q", r.Name)
			}
		}
		v.rule(p, r)
	}
}

func (v *validator) rule(p string, r Rule) {
	keys, ok := ruleKeys[r.Kind]
	if !v.check(ok, p+".kind", "want loitering, weapon, after_hours or occupancy, got %q", r.Kind) {
		return
	}
	for _, k := range ruleOptionKeys {
		if _, written := v.c.keyLines[p+"."+k]; written && !slices.Contains(keys, k) {
			v.check(false, p+"."+k, "not used by %s rules (they take %s)", r.Kind, strings.Join(keys, ", "))
		}
	}
	v.check(r.Level >= 0 && r.Level <= 4, p+".level", "must be in [0, 4] (0 = the kind's default), got %d", r.Level)
	v.check(r.Clear.D() > 0, p+".clear", "must be > 0, got %s", r.Clear)
	cams := map[string]Camera{}
	for _, c := range v.c.Cameras {
		cams[c.ID] = c
	}
	watched := r.Cameras
	for i, id := range r.Cameras {
		_, known := cams[id]
		v.check(known, joinIndex(p+".cameras", i), "no camera with id %q", id)
	}
	if len(watched) == 0 {
		for _, c := range v.c.Cameras {
			watched = append(watched, c.ID)
		}
	}
	if r.Kind == "loitering" || r.Kind == "occupancy" {
		v.check(r.Zone != "", p+".zone", "required for %s rules", r.Kind)
	}
	if r.Zone != "" {
		for _, id := range watched {
			c, known := cams[id]
			if !known {
				continue
			}
			has := slices.ContainsFunc(c.Zones, func(z Zone) bool { return z.Name == r.Zone })
			v.check(has, p+".zone", "camera %q has no zone %q", id, r.Zone)
		}
	}
	switch r.Kind {
	case "loitering":
		v.check(r.Dwell.D() > 0, p+".dwell", "must be > 0, got %s", r.Dwell)
	case "occupancy":
		v.check(r.Max >= 0, p+".max", "must be >= 0, got %d", r.Max)
		v.check(r.For.D() >= 0, p+".for", "must be >= 0, got %s", r.For)
	case "weapon":
		if v.check(len(r.Classes) > 0, p+".classes", "at least one class is required") {
			for i, c := range r.Classes {
				v.check(slices.Contains(v.c.Model.Classes, c), joinIndex(p+".classes", i),
					"%q is not in model.classes %v: the detector would never report it", c, v.c.Model.Classes)
			}
		}
		v.check(r.MinScore > 0 && r.MinScore < 1, p+".min_score", "must be in (0, 1), got %v", r.MinScore)
		v.check(r.Near >= 0 && !math.IsInf(r.Near, 1), p+".near", "must be >= 0 (person heights), got %v", r.Near)
		if !slices.Contains(v.c.Model.Classes, "person") {
			v.check(false, p+".kind", "weapon rules need \"person\" in model.classes")
		}
	case "after_hours":
		v.check(v.c.Store.Hours.HasHours(), p+".kind", "after_hours rules need store.hours (when the store is open)")
	}
	if r.Kind == "weapon" || r.Kind == "after_hours" {
		v.check(r.Window >= 1 && r.Window <= 1000, p+".window", "must be in [1, 1000] frames, got %d", r.Window)
		v.check(r.Frames >= 1 && r.Frames <= r.Window, p+".frames", "must be in [1, window (%d)], got %d", r.Window, r.Frames)
	}
}

func (v *validator) sms() {
	s := v.c.SMS
	if s.From != "" {
		v.phone("sms.from", s.From)
	}
	if len(s.Escalation) > 0 {
		v.check(s.From != "", "sms.from", "required when sms.escalation is set (the sending number, E.164)")
	}
	seen := map[string]string{}
	var prev time.Duration
	for i, t := range s.Escalation {
		p := joinIndex("sms.escalation", i)
		v.required(p+".name", t.Name)
		v.check(len(t.Numbers) > 0, p+".numbers", "at least one number is required")
		for j, n := range t.Numbers {
			np := joinIndex(p+".numbers", j)
			if v.phone(np, n) {
				if first, dup := seen[n]; dup {
					v.check(false, np, "number listed twice (first %s)", v.where(first))
				}
				seen[n] = np
			}
		}
		if i == 0 {
			v.check(t.After.D() == 0, p+".after", "the first tier is texted at once: want 0s, got %s", t.After)
		} else {
			v.check(t.After.D() > prev, p+".after", "must be later than the previous tier's (%s), got %s", prev, t.After)
		}
		prev = t.After.D()
	}
	v.check(s.Cooldown.D() > 0, "sms.cooldown", "must be > 0 (1ms texts every alert), got %s", s.Cooldown)
	for i, r := range s.QuietHours {
		v.timeRange(joinIndex("sms.quiet_hours", i), r)
	}
	v.check(s.QuietMinLevel >= 0 && s.QuietMinLevel <= 4, "sms.quiet_min_level", "must be in [0, 4], got %d", s.QuietMinLevel)
	v.check(s.RatePerHour >= 1, "sms.rate_per_hour", "must be >= 1, got %d", s.RatePerHour)
	v.check(s.MaxAttempts >= 1 && s.MaxAttempts <= 100, "sms.max_attempts", "must be in [1, 100], got %d", s.MaxAttempts)
	v.check(s.BackoffMin.D() > 0, "sms.backoff_min", "must be > 0, got %s", s.BackoffMin)
	v.check(s.BackoffMax.D() >= s.BackoffMin.D(), "sms.backoff_max", "must be >= backoff_min (%s), got %s", s.BackoffMin, s.BackoffMax)
	v.check(s.RequestTimeout.D() > 0, "sms.request_timeout", "must be > 0, got %s", s.RequestTimeout)
	v.required("sms.state_dir", s.StateDir)
	if s.AccountSID != "" {
		v.check(regexp.MustCompile(`^AC[0-9a-f]{32}$`).MatchString(s.AccountSID), "sms.account_sid", "want AC followed by 32 hex digits")
	}
	if s.WebhookURL != "" {
		u, err := url.Parse(s.WebhookURL)
		v.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.HasPrefix(u.Path, "/") && len(u.Path) > 1,
			"sms.webhook_url", "want the full public URL Twilio posts to, e.g. https://shop.example.com/twilio/sms, got %q", s.WebhookURL)
		v.check(v.c.Metrics.Listen != "", "sms.webhook_url", "needs metrics.listen (the webhook is served there)")
	}
}

// phone checks an E.164 number; the message never echoes more than the
// last digits of a number that may be real.
func (v *validator) phone(path, n string) bool {
	return v.check(e164.MatchString(n), path, "want an E.164 number such as +15551234567 (+, country code, 8 to 15 digits, no spaces), got %s", fmt.Sprintf("%q", n))
}
