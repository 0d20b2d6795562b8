package pos

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	good := []struct {
		in   string
		want Money
	}{
		{"0", 0}, {"49.90", 49900}, {"49.9", 49900}, {"0.001", 1}, {"1234.567", 1234567},
		{"-0.5", -500}, {"007.50", 7500}, {"9223372036854775.807", math.MaxInt64}, {"-9223372036854775.807", -math.MaxInt64},
	}
	for _, c := range good {
		got, err := ParseMoney(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	bad := []string{"", "-", ".5", "5.", "1.2345", "1e3", "1E3", "+1", " 1", "1 ", "1,5", "NaN", "Inf",
		"0x10", "1.2.3", "--1", "9223372036854775.808", "9223372036854776", "99999999999999999999"}
	for _, in := range bad {
		if got, err := ParseMoney(in); err == nil {
			t.Errorf("ParseMoney(%q) = %d, want an error", in, got)
		}
	}
}

func TestMoneyString(t *testing.T) {
	for m, want := range map[Money]string{0: "0", 49900: "49.9", 49990: "49.99", 1234567: "1234.567", 1: "0.001",
		-500: "-0.5", 100000: "100", math.MinInt64: "-9223372036854775.808", math.MaxInt64: "9223372036854775.807"} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(m), got, want)
		}
	}
}

func TestMoneyJSONRoundTrip(t *testing.T) {
	for _, m := range []Money{0, 1, 10, 49900, 1234567, -250, math.MaxInt64 / 1000 * 1000} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != '"' {
			t.Errorf("Money %d encodes as %s, want a JSON string", int64(m), b)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("round trip of %d via %s = %d, %v", int64(m), b, back, err)
		}
	}
	var v struct {
		A, B, C Money
	}
	if err := json.Unmarshal([]byte(`{"A": 49.90, "B": "0.1", "C": 12}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 49900 || v.B != 100 || v.C != 12000 {
		t.Errorf("decoded %+v", v)
	}
	out, _ := json.Marshal(map[string]Money{"amount": 12500})
	if string(out) != `{"amount":"12.5"}` {
		t.Errorf("encoded %s", out)
	}
	m := Money(7)
	if err := json.Unmarshal([]byte(`null`), &m); err != nil || m != 7 {
		t.Errorf("null: %d, %v; want unchanged", m, err)
	}
	for _, in := range []string{`1.2345`, `1e3`, `"1e3"`, `"NaN"`, `true`, `{}`, `[1]`, `"12,50"`, `"1.2345"`} {
		var m Money
		if err := json.Unmarshal([]byte(in), &m); err == nil {
			t.Errorf("Unmarshal(%s) = %d, want an error", in, m)
		} else if !strings.HasPrefix(err.Error(), "pos: money") {
			t.Errorf("Unmarshal(%s) error %q lacks context", in, err)
		}
	}
}
