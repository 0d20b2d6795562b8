package sms

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// digitRun is what may be a phone number in an error's text: Twilio's
// messages quote the To number (21211 "The 'To' number +1555... is not a
// valid phone number"), and a failed request's URL carries To=... in its
// query. Longer runs are masked too: a leaked part of a number is still a
// leak.
var digitRun = regexp.MustCompile(`\+?\d{7,}`)

// redactErr returns err as it may be logged and journaled: a Twilio error
// keeps its status, code and message, a failed request (*url.Error) its
// operation and cause but not its URL, every remaining run of 7 or more
// digits is masked to its last 4 and the secrets (the auth token) are cut
// out. The result wraps nothing, so nobody can dig the originals out of
// it; classify the original first.
func redactErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	s := safeText(err)
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = digitRun.ReplaceAllStringFunc(s, mask)
	return errors.New(s)
}

// safeText is err's message with the text of every Twilio error and
// failed request in its chain replaced by their safe form; the wrapping
// context ("create message: ...") stays as it was.
func safeText(err error) string {
	switch v := err.(type) {
	case *client.TwilioRestError:
		// Details and MoreInfo are left out: free-form, and no help in a log.
		return fmt.Sprintf("twilio status %d, error %d: %s", v.Status, v.Code, v.Message)
	case *client.RestErrorV1:
		return fmt.Sprintf("twilio status %d, error %d: %s", v.HttpStatusCode, v.Code, v.Message)
	case *url.Error:
		if v.Err == nil {
			return v.Op
		}
		return v.Op + ": " + safeText(v.Err)
	}
	s := err.Error()
	var inner []error
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		inner = []error{u.Unwrap()}
	case interface{ Unwrap() []error }:
		inner = u.Unwrap()
	}
	for _, w := range inner {
		if w == nil {
			continue
		}
		// A wrapper that does not quote its cause keeps its own text; the
		// digit masking still applies to it.
		if orig, safe := w.Error(), safeText(w); orig != safe {
			s = strings.Replace(s, orig, safe, 1)
		}
	}
	return s
}
