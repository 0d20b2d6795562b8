package sms

import (
	"strings"
	"testing"
	"time"
)

func TestValidateE164(t *testing.T) {
	for _, c := range []struct {
		in, err string // err: "" valid, else a fragment of the message
	}{
		{"+15551234567", ""},
		{"+4930123456", ""},
		{"+12345678", ""},        // 8 digits
		{"+123456789012345", ""}, // 15 digits
		{"", "empty"},
		{"15551234567", "must start with '+'"},
		{"+1234567", "8 to 15"},
		{"+1234567890123456", "at most 15"},
		{"+05551234567", "starts with 0"},
		{"+1 555 123 4567", "only digits"},
		{"+1-555-123-4567", "only digits"},
		{"+1555123456a", "only digits"},
		{"++15551234567", "only digits"},
	} {
		err := ValidateE164(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one about %q", c.in, err, c.err)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567": "+*******4567",
		"+4930123456":  "+******3456",
		"123":          "***",
	} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := func() Config {
		return Config{
			AccountSID: testSID, AuthToken: testToken, From: testFrom, StateDir: t.TempDir(),
			Chain: threeTiers(5*time.Minute, 10*time.Minute),
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, c := range map[string]struct {
		edit func(*Config)
		err  string
	}{
		"token without sid":   {func(c *Config) { c.AccountSID = "" }, "both"},
		"bad sid":             {func(c *Config) { c.AccountSID = "AC123" }, "32 hex"},
		"no from":             {func(c *Config) { c.From = "" }, "From"},
		"bad number":          {func(c *Config) { c.Chain[1].Numbers = []string{"555-0100"} }, "tier 1 (region) number 1"},
		"empty tier":          {func(c *Config) { c.Chain[2].Numbers = nil }, "no numbers"},
		"tier 0 delayed":      {func(c *Config) { c.Chain[0].After = time.Minute }, "After must be 0"},
		"after not rising":    {func(c *Config) { c.Chain[2].After = 5 * time.Minute }, "must be later"},
		"no chain":            {func(c *Config) { c.Chain = nil }, "at least one tier"},
		"no state dir":        {func(c *Config) { c.StateDir = "" }, "StateDir"},
		"relative webhook":    {func(c *Config) { c.WebhookURL = "/sms" }, "WebhookURL"},
		"backoff upside down": {func(c *Config) { c.BackoffMin = time.Minute; c.BackoffMax = time.Second }, "BackoffMax"},
	} {
		cfg := good()
		c.edit(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want one about %q", name, err, c.err)
		}
	}
	// Without credentials From may be empty: a dry run.
	dry := good()
	dry.AccountSID, dry.AuthToken, dry.From = "", "", ""
	if _, err := New(dry); err != nil {
		t.Errorf("dry run config: %v", err)
	}
}

// The text stays one segment before the link, however long the
// description.
func TestBodyFitsOneSegmentBesidesLink(t *testing.T) {
	r := &alertRec{
		Text: strings.Repeat("Person loitering a long time ", 20), At: alertTime,
		Snapshot: "http://10.0.0.5:9100/snapshots/x.jpg", Ref: "4821",
	}
	b := body("Main St", r, reasonEscalate, Tier{After: 5 * time.Minute}, time.UTC)
	if n := len(strings.Replace(b, " "+r.Snapshot, "", 1)); n > segment {
		t.Errorf("%d characters besides the link: %q", n, b)
	}
	if !strings.HasSuffix(b, "Reply ACK 4821 or FALSE 4821") || !strings.Contains(b, "no reply in 5m:") {
		t.Errorf("body %q", b)
	}
}
