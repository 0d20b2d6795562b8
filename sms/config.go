package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/storesight/storesight/alerts"
)

// Tier is one step of the escalation chain: who is texted and how long
// after the alert's first text, if nobody has answered by then.
type Tier struct {
	Name    string
	Numbers []string      // E.164
	After   time.Duration // delay after the alert's first text; 0 for tier 0
}

// Config configures a Notifier for one store. The zero values of the
// tuning fields mean their documented defaults.
type Config struct {
	// AccountSID and AuthToken are the Twilio credentials; both empty
	// means dry run.
	AccountSID, AuthToken string
	// DryRun forces a dry run even with credentials (commissioning).
	DryRun bool
	// From is the E.164 sender number; required unless dry run.
	From string
	// Chain is the escalation chain, tier 0 first.
	Chain []Tier
	// Cooldown: a new alert within Cooldown of the last text for the same
	// (camera, rule, zone) is not sent, unless its level is higher than
	// that text's or it is a threat to life (never held back). Default 10m.
	Cooldown time.Duration
	// Quiet reports quiet hours (e.g. a *schedule.Schedule whose Open means
	// "quiet now"); nil means none.
	Quiet interface{ Open(time.Time) bool }
	// QuietMinLevel: during quiet hours only alerts at or above it are
	// sent. Default (and the zero value) LevelLife: a zero meaning "send
	// everything" would be the same as no quiet hours.
	QuietMinLevel alerts.Level
	// RatePerHour caps the texts of this store in any rolling hour;
	// threats to life are sent regardless. Default 30.
	RatePerHour int
	// MaxAttempts per message, default 6.
	MaxAttempts int
	// BackoffMin and BackoffMax bound the exponential backoff between
	// attempts, default 1s and 1m. A 429's Retry-After is honoured.
	BackoffMin, BackoffMax time.Duration
	// RequestTimeout bounds each HTTP request to Twilio, default 10s.
	RequestTimeout time.Duration
	// StateDir holds the outbox journal and the MessageSids of replies
	// already handled (required).
	StateDir string
	// WebhookURL is the public URL Twilio posts replies to; the signature
	// covers it, so it must be exactly what is configured at Twilio. Empty
	// means replies cannot be verified and the webhook refuses them.
	WebhookURL string
	// StoreName opens each text; Location is the zone of the times in it
	// (default time.Local).
	StoreName string
	Location  *time.Location
	// HTTPClient carries the requests to Twilio: its Transport (nil:
	// http.DefaultTransport), Jar and CheckRedirect are used; RequestTimeout
	// replaces its Timeout.
	HTTPClient *http.Client
	// Ack is called for a valid reply, with a 10 s deadline; by is the
	// masked sender. alerts.ErrClosed or alerts.ErrUnknownAlert (answered
	// elsewhere, or forgotten by a restarted manager) stops the alert's
	// escalation here as well.
	Ack func(ctx context.Context, alertID, by string, falseAlarm bool) error
	// Now is the clock, default time.Now.
	Now func() time.Time
	// Log receives what is sent, suppressed and failed; nil means
	// slog.Default.
	Log *slog.Logger
}

const (
	defaultCooldown       = 10 * time.Minute
	defaultRatePerHour    = 30
	defaultMaxAttempts    = 6
	defaultBackoffMin     = time.Second
	defaultBackoffMax     = time.Minute
	defaultRequestTimeout = 10 * time.Second
)

// Twilio refuses credentials with anything but letters and digits before
// sending; an account SID is "AC" and 32 hex digits.
var (
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	authTokenRe  = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
)

// normalize checks cfg and fills in defaults; the result is what the
// Notifier runs with.
func normalize(cfg Config) (Config, error) {
	c := cfg
	if (c.AccountSID == "") != (c.AuthToken == "") {
		return c, errors.New("sms: set both AccountSID and AuthToken, or neither for a dry run")
	}
	if c.AccountSID == "" {
		c.DryRun = true
	} else {
		if !accountSIDRe.MatchString(c.AccountSID) {
			return c, errors.New(`sms: AccountSID must be "AC" followed by 32 hex digits`)
		}
		if !authTokenRe.MatchString(c.AuthToken) {
			return c, errors.New("sms: AuthToken must be letters and digits only")
		}
	}
	if c.From != "" || !c.DryRun {
		if err := ValidateE164(c.From); err != nil {
			return c, fmt.Errorf("sms: From: %w", err)
		}
	}
	if len(c.Chain) == 0 {
		return c, errors.New("sms: the escalation chain needs at least one tier")
	}
	for i, t := range c.Chain {
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		if len(t.Numbers) == 0 {
			return c, fmt.Errorf("sms: tier %d (%s) has no numbers", i, name)
		}
		for j, num := range t.Numbers {
			if err := ValidateE164(num); err != nil {
				return c, fmt.Errorf("sms: tier %d (%s) number %d: %w", i, name, j+1, err)
			}
		}
		switch {
		case i == 0 && t.After != 0:
			return c, fmt.Errorf("sms: tier 0 (%s) is texted at once; After must be 0, not %v", name, t.After)
		case i > 0 && t.After <= c.Chain[i-1].After:
			return c, fmt.Errorf("sms: tier %d (%s) After %v must be later than tier %d's %v", i, name, t.After, i-1, c.Chain[i-1].After)
		}
	}
	if c.StateDir == "" {
		return c, errors.New("sms: StateDir is required (outbox journal)")
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("sms: WebhookURL %q is not an absolute http(s) URL", c.WebhookURL)
		}
	}
	if !c.QuietMinLevel.Valid() {
		return c, fmt.Errorf("sms: QuietMinLevel %d is not a level", int(c.QuietMinLevel))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Cooldown", c.Cooldown}, {"BackoffMin", c.BackoffMin}, {"BackoffMax", c.BackoffMax}, {"RequestTimeout", c.RequestTimeout}} {
		if d.v < 0 {
			return c, fmt.Errorf("sms: %s must not be negative, got %v", d.name, d.v)
		}
	}
	if c.RatePerHour < 0 || c.MaxAttempts < 0 {
		return c, errors.New("sms: RatePerHour and MaxAttempts must not be negative")
	}
	if c.Cooldown == 0 {
		c.Cooldown = defaultCooldown
	}
	if c.QuietMinLevel == alerts.LevelUnverified {
		c.QuietMinLevel = alerts.LevelLife
	}
	if c.RatePerHour == 0 {
		c.RatePerHour = defaultRatePerHour
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = defaultBackoffMin
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = defaultBackoffMax
	}
	if c.BackoffMax < c.BackoffMin {
		return c, fmt.Errorf("sms: BackoffMax %v is below BackoffMin %v", c.BackoffMax, c.BackoffMin)
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return c, nil
}
