package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllManifestsMatchSharedFiles(t *testing.T) {
	all := All()
	if len(all) != 8 {
		t.Fatalf("want 8 manifests, got %d", len(all))
	}
	dir := DefaultDir()
	onDisk, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(all) {
		t.Fatalf("%s holds %d .onnx files, manifests describe %d", dir, len(onDisk), len(all))
	}
	for _, m := range all {
		if err := Verify(m, filepath.Join(dir, m.File)); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if !strings.HasPrefix(m.SourceURL, "https://raw.githubusercontent.com/") || !strings.Contains(m.SourceURL, "/") {
			t.Errorf("%s: source URL %q is not a raw GitHub URL", m.Name, m.SourceURL)
		}
		wantClasses := 80
		if m.Name == "person_lite_yolox_192" {
			wantClasses = 1
		}
		if len(m.Classes) != wantClasses || m.Classes[0] != "person" {
			t.Errorf("%s: %d classes, first %q", m.Name, len(m.Classes), m.Classes[0])
		}
		if wantClasses == 80 && (m.Classes[43] != "knife" || m.Classes[79] != "toothbrush") {
			t.Errorf("%s: COCO list out of order", m.Name)
		}
		if strings.Contains(m.Name, "AGPL") != (m.License == "AGPL-3.0") {
			t.Errorf("%s: license %q does not match the _AGPL name marker", m.Name, m.License)
		}
	}
}

func TestLookup(t *testing.T) {
	m, err := Lookup("yolox_nano_416_coco")
	if err != nil {
		t.Fatal(err)
	}
	if m.Family != FamilyYOLOX || m.Input.Size != 416 || m.Input.ChannelOrder != "bgr" ||
		m.Input.Letterbox != LetterboxTopLeft || m.Input.PadValue != 114 || m.Input.Scale != 1 {
		t.Errorf("unexpected yolox manifest: %+v", m.Input)
	}
	u, err := Lookup("yolo11n_320_coco_int8_AGPL")
	if err != nil {
		t.Fatal(err)
	}
	if u.Family != FamilyUltralytics || u.Input.Size != 0 || u.Input.ChannelOrder != "rgb" || u.Input.Letterbox != LetterboxCenter {
		t.Errorf("unexpected ultralytics manifest: %+v", u.Input)
	}
	n, _ := Lookup("nanodet_m_320_coco")
	if n.Input.Mean != [3]float32{103.53, 116.28, 123.675} || n.Input.Std != [3]float32{57.375, 57.12, 58.395} {
		t.Errorf("nanodet normalisation wrong: %+v", n.Input)
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "yolox_nano_416_coco") {
		t.Errorf("unknown model error should list known models, got %v", err)
	}
	// Callers must not be able to change the registry through the copy.
	m.Classes[0] = "mutated"
	again, _ := Lookup("yolox_nano_416_coco")
	if again.Classes[0] != "person" {
		t.Error("Lookup returned a shared Classes slice")
	}
	if m.ClassIndex("mutated") != 0 || again.ClassIndex("knife") != 43 || again.ClassIndex("gun") != -1 {
		t.Error("ClassIndex wrong")
	}
}

func TestValidateRejectsBrokenManifest(t *testing.T) {
	m, _ := Lookup("yolox_nano_416_coco")
	m.Family = "ssd"
	m.Input.Letterbox = "fit"
	m.SHA256 = "abc"
	err := m.Validate()
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"unknown family \"ssd\"", "letterbox \"fit\"", "sha256"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDefaultDirEnv(t *testing.T) {
	t.Setenv(EnvModelDir, "/somewhere/else")
	if got := DefaultDir(); got != "/somewhere/else" {
		t.Errorf("DefaultDir = %q", got)
	}
	t.Setenv(EnvModelDir, "")
	if _, err := os.Stat(filepath.Join(DefaultDir(), "PROVENANCE.md")); err != nil {
		t.Errorf("default dir %s does not hold the shared models: %v", DefaultDir(), err)
	}
}

func TestClassIndices(t *testing.T) {
	m, err := Lookup("yolox_nano_416_coco")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.ClassIndices([]string{"knife", "person", "scissors"})
	if err != nil || len(got) != 3 || got[0] != 43 || got[1] != 0 || got[2] != 76 {
		t.Errorf("got %v, %v; want [43 0 76]", got, err)
	}
	if _, err := m.ClassIndices([]string{"person", "gun"}); err == nil || err.Error() != `model yolox_nano_416_coco has no class "gun"` {
		t.Errorf("unknown class: got %v", err)
	}
}
