package pos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an amount in thousandths of the currency unit (49.90 EUR is
// 49900). Money is never a float: a float cannot hold 0.1 exactly, and
// sums of many small amounts would drift.
//
// In JSON it is read from a number (49.90) or a decimal string ("49.90")
// and written as a decimal string without trailing zeros ("49.9"), so
// consumers never have to parse it through a float either.
type Money int64

// moneyScale is the number of Money units in one currency unit.
const moneyScale = 1000

// ParseMoney reads a decimal amount: an optional minus sign, digits, and
// optionally a point followed by one to three digits ("49.90", "-0.5",
// "1234.567"). Exponents, a leading or trailing point, a plus sign, spaces,
// more than three decimals and amounts beyond the range of Money are errors.
func ParseMoney(s string) (Money, error) {
	m, err := parseMoney(s)
	if err != nil {
		return 0, fmt.Errorf("pos: money %q: %w", s, err)
	}
	return m, nil
}

func parseMoney(s string) (Money, error) {
	neg := false
	rest := s
	if strings.HasPrefix(rest, "-") {
		neg, rest = true, rest[1:]
	}
	whole, frac, hasPoint := strings.Cut(rest, ".")
	if whole == "" || !allDigits(whole) {
		return 0, errors.New("not a decimal number")
	}
	if hasPoint && (frac == "" || !allDigits(frac)) {
		return 0, errors.New("not a decimal number")
	}
	if len(frac) > 3 {
		return 0, errors.New("more than 3 decimals")
	}
	var f int64
	for i := 0; i < 3; i++ {
		f *= 10
		if i < len(frac) {
			f += int64(frac[i] - '0')
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (math.MaxInt64-f)/moneyScale {
		return 0, errors.New("out of range")
	}
	m := Money(w*moneyScale + f)
	if neg {
		m = -m
	}
	return m, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats m as a decimal without trailing zeros: "49.9", "0",
// "1234.567", "-0.5".
func (m Money) String() string {
	u := uint64(m)
	sign := ""
	if m < 0 {
		u, sign = uint64(-m), "-" // -MinInt64 wraps to itself, which as uint64 is its magnitude
	}
	s := sign + strconv.FormatUint(u/moneyScale, 10)
	if f := u % moneyScale; f != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%03d", f), "0")
	}
	return s
}

// MarshalJSON writes m as a JSON string ("49.9").
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + m.String() + `"`), nil
}

// UnmarshalJSON reads a JSON number (49.90) or a decimal string ("49.90")
// with the rules of ParseMoney. The number is read from its text, never
// through a float, so 0.1 stays exactly 100 thousandths. null leaves m
// unchanged, as encoding/json does for other types.
func (m *Money) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var s string
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("pos: money: %w", err)
		}
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		s = string(b)
	default:
		return fmt.Errorf("pos: money: %s is not a number or a decimal string", truncate(string(b), 40))
	}
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
