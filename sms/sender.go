package sms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// clockSkew widens the window in which a message found at Twilio is taken
// as ours: Twilio's clock and ours differ.
const clockSkew = 2 * time.Minute

// job is one attempt at one message, handed from the owner to a sender.
type job struct {
	alert string
	idx   int
	to    string
	body  string
	// check: an earlier attempt may have created the message; look for it
	// before creating it again.
	check bool
	since time.Time // the first attempt, minus clockSkew
}

type outcomeKind int

const (
	outSent      outcomeKind = iota // created now
	outFound                        // an earlier attempt had created it
	outRetry                        // failed, try again
	outPermanent                    // failed, trying again cannot help
)

// outcome is a sender's answer to a job.
type outcome struct {
	alert string
	idx   int
	kind  outcomeKind
	sid   string
	// ambiguous: after this attempt Twilio may hold the message although
	// we did not see it created.
	ambiguous bool
	wait      time.Duration // Retry-After, if Twilio gave one
	// err is redacted (redactErr): no phone number, no secret.
	err error
}

// sender makes the HTTP calls of one worker through twilio-go. Each worker
// has its own, so the transport's last response is that worker's.
type sender struct {
	api   *openapi.ApiService
	tr    *transport
	from  string
	token string // cut out of errors, should one ever quote it
}

func newSender(ctx context.Context, cfg Config) *sender {
	base := cfg.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	tr := &transport{base: base, ctx: ctx, timeout: cfg.RequestTimeout}
	hc := *cfg.HTTPClient
	hc.Transport = tr
	hc.Timeout = 0 // the transport times each request out
	if hc.CheckRedirect == nil {
		// As twilio-go's own client: a redirect is an answer, not a hop.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	c := &client.Client{
		Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken),
		HTTPClient:  &hc,
	}
	c.SetAccountSid(cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	return &sender{api: rc.Api, tr: tr, from: cfg.From, token: cfg.AuthToken}
}

func (s *sender) run(ctx context.Context, jobs <-chan job, results chan<- outcome) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			// results has room for every job in flight: never blocks.
			results <- s.do(j)
		}
	}
}

func (s *sender) do(j job) outcome {
	o := outcome{alert: j.alert, idx: j.idx}
	if j.check {
		sid, found, err := s.find(j)
		if err != nil {
			// Whatever made an earlier attempt ambiguous still stands.
			_, ra := s.tr.last()
			o.kind, o.ambiguous, o.wait = outRetry, true, ra
			o.err = fmt.Errorf("look for an earlier attempt at Twilio: %w", redactErr(err, s.token))
			return o
		}
		if found {
			o.kind, o.sid = outFound, sid
			return o
		}
	}
	s.tr.reset()
	params := &openapi.CreateMessageParams{}
	params.SetTo(j.to).SetFrom(s.from).SetBody(j.body)
	m, err := s.api.CreateMessage(params)
	status, ra := s.tr.last()
	if err == nil && m != nil && m.Sid != nil && *m.Sid != "" {
		o.kind, o.sid = outSent, *m.Sid
		return o
	}
	if err == nil {
		err = fmt.Errorf("twilio answered %d without a message sid", status)
	}
	// The error is logged and journaled: Twilio's text and a failed
	// request's URL quote the recipient's number.
	o.kind, o.ambiguous, o.wait = classify(err, status, ra)
	o.err = fmt.Errorf("create message: %w", redactErr(err, s.token))
	return o
}

// classify decides what a failed create means. Only answers that prove
// Twilio did not create the message are unambiguous: a 4xx (429 included)
// and a failure to connect at all. Everything else (5xx, timeouts, a
// connection lost after the request went out, an unreadable 2xx) may hide
// a created message.
func classify(err error, status int, retryAfter time.Duration) (kind outcomeKind, ambiguous bool, wait time.Duration) {
	switch {
	case status == http.StatusTooManyRequests:
		return outRetry, false, retryAfter
	case status >= 500:
		return outRetry, true, retryAfter
	case status >= 400:
		return outPermanent, false, 0
	case status != 0:
		return outRetry, true, 0
	}
	var tre *client.TwilioRestError
	if errors.As(err, &tre) {
		// No response, yet a Twilio error: the client refused to send
		// (e.g. credentials it will never accept).
		return outPermanent, false, 0
	}
	var op *net.OpError
	var dns *net.DNSError
	if (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns) {
		return outRetry, false, 0
	}
	return outRetry, true, 0
}

// find looks at Twilio for a message to j.to from us with j.body created
// since the first attempt. It asks first by DateSent (the filter Twilio
// offers), then, because a message still queued has no date_sent yet, the
// newest page without the filter, matched on date_created.
func (s *sender) find(j job) (sid string, found bool, err error) {
	s.tr.reset()
	p := &openapi.ListMessageParams{}
	p.SetTo(j.to).SetFrom(s.from).SetDateSentAfter(j.since.UTC().Truncate(time.Second)).SetLimit(50)
	msgs, err := s.api.ListMessage(p)
	if err != nil {
		return "", false, fmt.Errorf("list messages sent: %w", err)
	}
	for _, m := range msgs {
		if same(m, j) {
			return *m.Sid, true, nil
		}
	}
	s.tr.reset()
	q := &openapi.ListMessageParams{}
	q.SetTo(j.to).SetFrom(s.from).SetPageSize(20)
	page, err := s.api.PageMessage(q, "", "")
	if err != nil {
		return "", false, fmt.Errorf("list newest messages: %w", err)
	}
	for _, m := range page.Messages {
		if !same(m, j) || m.DateCreated == nil {
			continue
		}
		created, err := parseTwilioTime(*m.DateCreated)
		if err == nil && !created.Before(j.since) {
			return *m.Sid, true, nil
		}
	}
	return "", false, nil
}

func same(m openapi.ApiV2010Message, j job) bool {
	return m.Sid != nil && *m.Sid != "" && m.Body != nil && *m.Body == j.body &&
		m.To != nil && *m.To == j.to
}

// parseTwilioTime reads Twilio's RFC 2822 timestamps.
func parseTwilioTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable twilio time %q", s)
}
