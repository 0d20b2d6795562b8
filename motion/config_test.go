package motion

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{Width: 160, Threshold: 25, MinArea: 0.002, StillRefresh: time.Second}
	if c != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", c, want)
	}
}

func TestValidateNamesField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"narrow", func(c *Config) { c.Width = 15 }, "Width = 15"},
		{"wide", func(c *Config) { c.Width = 1921 }, "Width = 1921"},
		{"threshold zero", func(c *Config) { c.Threshold = 0 }, "Threshold = 0"},
		{"threshold above 255", func(c *Config) { c.Threshold = 256 }, "Threshold = 256"},
		{"area zero", func(c *Config) { c.MinArea = 0 }, "MinArea = 0"},
		{"area above 1", func(c *Config) { c.MinArea = 1.5 }, "MinArea = 1.5"},
		{"area NaN", func(c *Config) { c.MinArea = math.NaN() }, "MinArea = NaN"},
		{"refresh zero", func(c *Config) { c.StillRefresh = 0 }, "StillRefresh = 0s"},
		{"refresh negative", func(c *Config) { c.StillRefresh = -time.Second }, "StillRefresh = -1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want an error naming %q", c, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error %q does not name %q", err, tc.field)
			}
			if g, err := New(c); err == nil || g != nil {
				t.Fatalf("New(%+v) = %v, %v; want nil and an error", c, g, err)
			}
		})
	}
	// Edges that are valid.
	for _, c := range []Config{
		{Width: 16, Threshold: 1, MinArea: 1, StillRefresh: time.Nanosecond},
		{Width: 1920, Threshold: 255, MinArea: 1e-9, StillRefresh: time.Hour},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
}

func TestValidateReportsAllFields(t *testing.T) {
	err := Config{}.Validate()
	if err == nil {
		t.Fatal("zero Config validated")
	}
	for _, f := range []string{"Width", "Threshold", "MinArea", "StillRefresh"} {
		if !strings.Contains(err.Error(), f+" = ") {
			t.Errorf("error %q does not name %s", err, f)
		}
	}
	if !strings.HasPrefix(err.Error(), "motion config: ") {
		t.Errorf("error %q lacks its context", err)
	}
}
