package sms

import (
	"errors"
	"fmt"
	"strings"
)

// ValidateE164 checks that s is a phone number in E.164 form: "+", then
// 8 to 15 digits, the first not 0 (no country code starts with 0). Spaces,
// dashes and brackets are refused rather than stripped so that the
// configured number is exactly what Twilio sends from and to and what a
// reply's From is compared with.
func ValidateE164(s string) error {
	if s == "" {
		return errors.New("phone number is empty; want E.164 like +15551234567")
	}
	if s[0] != '+' {
		return fmt.Errorf("phone number %q must start with '+' and the country code (E.164, like +15551234567)", mask(s))
	}
	digits := s[1:]
	for i, r := range digits {
		if r < '0' || r > '9' {
			return fmt.Errorf("phone number %q has %q at position %d; E.164 allows only digits after '+'", mask(s), r, i+2)
		}
	}
	switch {
	case len(digits) < 8:
		return fmt.Errorf("phone number %q has %d digits; E.164 needs 8 to 15", mask(s), len(digits))
	case len(digits) > 15:
		return fmt.Errorf("phone number %q has %d digits; E.164 allows at most 15", mask(s), len(digits))
	case digits[0] == '0':
		return fmt.Errorf("phone number %q starts with 0 after '+'; E.164 starts with the country code", mask(s))
	}
	return nil
}

// mask hides all but the last four characters of a phone number
// ("+*******1234") so that logs and acknowledgements identify who without
// leaking a personal number.
func mask(s string) string {
	const keep = 4
	if len(s) <= keep {
		return strings.Repeat("*", len(s))
	}
	var b strings.Builder
	for i := 0; i < len(s)-keep; i++ {
		if i == 0 && s[0] == '+' {
			b.WriteByte('+')
			continue
		}
		b.WriteByte('*')
	}
	b.WriteString(s[len(s)-keep:])
	return b.String()
}
