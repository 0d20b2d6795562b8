package config

import (
	"errors"
	"testing"
)

func TestModelProviderDefaultsToAuto(t *testing.T) {
	c, err := Parse([]byte(valid), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Provider != "auto" || c.Model.DeviceID != 0 {
		t.Errorf("provider %q device_id %d, want auto 0", c.Model.Provider, c.Model.DeviceID)
	}
	// A null keeps the default, as for the other model keys.
	c, err = Parse([]byte(valid+"model:\n  provider: ~\n"), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Provider != "auto" {
		t.Errorf("provider: ~ gave %q, want auto", c.Model.Provider)
	}
}

func TestModelProviderAcceptsEachProvider(t *testing.T) {
	for _, p := range []string{"auto", "cpu", "cuda", "tensorrt"} {
		c, err := Parse([]byte(valid+"model:\n  provider: "+p+"\n  device_id: 3\n"), "f.yml")
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if c.Model.Provider != p || c.Model.DeviceID != 3 {
			t.Errorf("%s: got provider %q device_id %d", p, c.Model.Provider, c.Model.DeviceID)
		}
	}
}

func TestModelProviderErrorsCiteFileAndLine(t *testing.T) {
	// valid's own lines are 1-5, so model: is line 6.
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"unknown provider", "model:\n  provider: gpu\n",
			[]string{`f.yml:7: model.provider: want auto, cpu, cuda or tensorrt, got "gpu"`}},
		{"provider is case sensitive", "model:\n  threads: 1\n  provider: CUDA\n",
			[]string{`f.yml:8: model.provider: want auto, cpu, cuda or tensorrt, got "CUDA"`}},
		{"empty provider", "model:\n  provider: \"\"\n",
			[]string{`f.yml:7: model.provider: want auto, cpu, cuda or tensorrt, got ""`}},
		{"negative device", "model:\n  provider: cuda\n  device_id: -1\n",
			[]string{"f.yml:8: model.device_id: must be >= 0, got -1"}},
		{"device not an integer", "model:\n  device_id: first\n",
			[]string{`f.yml:7: model.device_id: expected an integer, got "first"`}},
		{"both", "model:\n  provider: rocm\n  device_id: -2\n",
			[]string{`f.yml:7: model.provider: want auto, cpu, cuda or tensorrt, got "rocm"`,
				"f.yml:8: model.device_id: must be >= 0, got -2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(valid+c.doc), "f.yml")
			if err == nil {
				t.Fatal("no error")
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("want a joined error, got %T: %v", err, err)
			}
			errs := joined.Unwrap()
			if len(errs) != len(c.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(c.want), err)
			}
			for i, e := range errs {
				var ce *Error
				if !errors.As(e, &ce) {
					t.Errorf("error %d is a %T, not a *config.Error", i, e)
				}
				if e.Error() != c.want[i] {
					t.Errorf("error %d:\n got %s\nwant %s", i, e.Error(), c.want[i])
				}
			}
		})
	}
}
