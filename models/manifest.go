// Package models describes the detector model files storesight can run:
// where each came from, its license and checksum, and how its input must be
// prepared. It also installs and verifies those files.
package models

import (
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Family names a model output format; each has its own decoder in package
// detectors.
type Family string

// Model families known to the detectors package.
const (
	FamilyYOLOX       Family = "yolox"
	FamilyUltralytics Family = "ultralytics"
	FamilyNanoDet     Family = "nanodet"
	FamilyDEIMv2      Family = "deimv2"
)

// Letterbox modes: how a frame is fitted into the square model input.
const (
	LetterboxTopLeft = "topleft" // keep aspect, image at (0,0), pad right/bottom
	LetterboxCenter  = "center"  // keep aspect, image centred, pad both sides
	LetterboxStretch = "stretch" // resize to the input size, aspect not kept
)

// Input says how a BGR frame becomes the model's input tensor.
type Input struct {
	// Size is the square input side in pixels; 0 means read it from the
	// model's input shape.
	Size int `yaml:"size" json:"size"`
	// ChannelOrder is "bgr" or "rgb": the order of the tensor's planes.
	ChannelOrder string `yaml:"channel_order" json:"channel_order"`
	// Scale, Mean and Std normalise a pixel value v of tensor plane c to
	// (v*Scale - Mean[c]) / Std[c]; Mean and Std are in tensor plane order.
	Scale float32    `yaml:"scale" json:"scale"`
	Mean  [3]float32 `yaml:"mean" json:"mean"`
	Std   [3]float32 `yaml:"std" json:"std"`
	// Letterbox is one of the Letterbox* constants.
	Letterbox string `yaml:"letterbox" json:"letterbox"`
	// PadValue is the pixel value (before normalisation) of the padding.
	PadValue uint8 `yaml:"pad_value" json:"pad_value"`
}

// Manifest is everything known about one model file.
type Manifest struct {
	Name    string `yaml:"name" json:"name"`
	File    string `yaml:"file" json:"file"`
	SHA256  string `yaml:"sha256" json:"sha256"`
	Size    int64  `yaml:"size" json:"size"`
	License string `yaml:"license" json:"license"`
	Family  Family `yaml:"family" json:"family"`
	// SourceURL is the raw file at the pinned commit that added or last
	// changed it, so a download always yields the same bytes.
	SourceURL string `yaml:"source_url" json:"source_url"`
	Notes     string `yaml:"notes" json:"notes"`
	Input     Input  `yaml:"input" json:"input"`
	// ScoreThreshold and NMSThreshold are the defaults a detector uses when
	// its options leave them zero. NMSThreshold 0 means the model output is
	// already free of duplicates (DETR-style).
	ScoreThreshold float32  `yaml:"score_threshold" json:"score_threshold"`
	NMSThreshold   float32  `yaml:"nms_threshold" json:"nms_threshold"`
	Classes        []string `yaml:"classes" json:"classes"`
}

// ClassIndex returns the index of a class name, or -1.
func (m Manifest) ClassIndex(name string) int {
	return slices.Index(m.Classes, name)
}

// ClassIndices maps class names to their indices, in the order given. The
// error names the model and the first name it does not have; callers add
// the configuration key it came from.
func (m Manifest) ClassIndices(names []string) ([]int, error) {
	out := make([]int, 0, len(names))
	for _, name := range names {
		i := m.ClassIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("model %s has no class %q", m.Name, name)
		}
		out = append(out, i)
	}
	return out, nil
}

// Validate checks that the manifest is internally consistent.
func (m Manifest) Validate() error {
	var errs []string
	if m.Name == "" {
		errs = append(errs, "name is empty")
	}
	if m.File == "" || path.Base(m.File) != m.File {
		errs = append(errs, fmt.Sprintf("file %q must be a plain file name", m.File))
	}
	// An empty sha256 is allowed for a locally trained model that has no
	// published checksum yet; Verify and NewONNX then skip the check.
	if _, err := hex.DecodeString(m.SHA256); err != nil || (m.SHA256 != "" && len(m.SHA256) != 64) {
		errs = append(errs, fmt.Sprintf("sha256 %q is not 64 hex digits", m.SHA256))
	}
	switch m.Family {
	case FamilyYOLOX, FamilyUltralytics, FamilyNanoDet, FamilyDEIMv2:
	default:
		errs = append(errs, fmt.Sprintf("unknown family %q", m.Family))
	}
	switch m.Input.ChannelOrder {
	case "bgr", "rgb":
	default:
		errs = append(errs, fmt.Sprintf("channel_order %q is not bgr or rgb", m.Input.ChannelOrder))
	}
	switch m.Input.Letterbox {
	case LetterboxTopLeft, LetterboxCenter, LetterboxStretch:
	default:
		errs = append(errs, fmt.Sprintf("letterbox %q is not topleft, center or stretch", m.Input.Letterbox))
	}
	if m.Input.Size < 0 {
		errs = append(errs, "input size is negative")
	}
	if m.Input.Scale <= 0 {
		errs = append(errs, "input scale must be positive")
	}
	for c, s := range m.Input.Std {
		if s <= 0 {
			errs = append(errs, fmt.Sprintf("input std[%d] must be positive", c))
		}
	}
	if len(m.Classes) == 0 {
		errs = append(errs, "no classes")
	}
	if len(errs) > 0 {
		return fmt.Errorf("manifest %q: %s", m.Name, strings.Join(errs, "; "))
	}
	return nil
}

//go:embed manifests/*.yaml
var manifestFS embed.FS

// registry is parsed once at init: the manifests are part of the binary, so
// a broken one is a build defect and must fail loudly.
var registry = mustLoad(manifestFS)

func mustLoad(fsys fs.FS) []Manifest {
	ms, err := load(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

func load(fsys fs.FS) ([]Manifest, error) {
	names, err := fs.Glob(fsys, "manifests/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list manifests: %w", err)
	}
	var ms []Manifest
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", n, err)
		}
		var m Manifest
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("parse manifest %s: %w", n, err)
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", n, err)
		}
		if want := strings.TrimSuffix(path.Base(n), ".yaml"); m.Name != want {
			return nil, fmt.Errorf("manifest %s: name %q does not match file name", n, m.Name)
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b Manifest) int { return strings.Compare(a.Name, b.Name) })
	return ms, nil
}

// All returns every embedded manifest, sorted by name. The slice is a copy.
func All() []Manifest {
	out := make([]Manifest, len(registry))
	for i, m := range registry {
		m.Classes = slices.Clone(m.Classes)
		out[i] = m
	}
	return out
}

// Lookup returns the manifest with the given name.
func Lookup(name string) (Manifest, error) {
	for _, m := range registry {
		if m.Name == name {
			m.Classes = slices.Clone(m.Classes)
			return m, nil
		}
	}
	names := make([]string, len(registry))
	for i, m := range registry {
		names[i] = m.Name
	}
	return Manifest{}, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(names, ", "))
}
