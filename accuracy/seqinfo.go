package accuracy

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// SeqInfo is a MOTChallenge seqinfo.ini. TrackEval reads only seqLength
// (the number of frames; tracker rows beyond it are an error there).
type SeqInfo struct {
	Name      string
	FrameRate float64
	SeqLength int
	Width     int
	Height    int
	ImDir     string
	ImExt     string
}

// ReadSeqInfo reads a seqinfo.ini (see ParseSeqInfo).
func ReadSeqInfo(path string) (SeqInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return SeqInfo{}, fmt.Errorf("read seqinfo: %w", err)
	}
	defer f.Close()
	return ParseSeqInfo(f, path)
}

// ParseSeqInfo parses the [Sequence] section of a seqinfo.ini; errors read
// "name:line: ...". Keys are matched case-insensitively, as Python's
// configparser (which TrackEval uses) does; "key=value" and "key: value"
// are both accepted, ';' and '#' start comment lines. name and seqLength
// are required; a key given twice is an error (configparser rejects it
// too). Other sections are ignored.
func ParseSeqInfo(r io.Reader, name string) (SeqInfo, error) {
	var info SeqInfo
	section := ""
	found := false
	seen := make(map[string]int)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == ';' || text[0] == '#' {
			continue
		}
		if text[0] == '[' {
			if !strings.HasSuffix(text, "]") {
				return SeqInfo{}, fmt.Errorf("%s:%d: unterminated section header %q", name, line, text)
			}
			section = strings.TrimSpace(text[1 : len(text)-1])
			if section == "Sequence" {
				if found {
					return SeqInfo{}, fmt.Errorf("%s:%d: second [Sequence] section", name, line)
				}
				found = true
			}
			continue
		}
		if section == "" {
			return SeqInfo{}, fmt.Errorf("%s:%d: %q before any section header", name, line, text)
		}
		if section != "Sequence" {
			continue
		}
		i := strings.IndexAny(text, "=:")
		if i < 0 {
			return SeqInfo{}, fmt.Errorf("%s:%d: %q is not key=value", name, line, text)
		}
		key := strings.ToLower(strings.TrimSpace(text[:i]))
		val := strings.TrimSpace(text[i+1:])
		if first, dup := seen[key]; dup {
			return SeqInfo{}, fmt.Errorf("%s:%d: %s given again (first on line %d)", name, line, key, first)
		}
		seen[key] = line
		if err := info.set(key, val); err != nil {
			return SeqInfo{}, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return SeqInfo{}, fmt.Errorf("%s: %w", name, err)
	}
	if !found {
		return SeqInfo{}, fmt.Errorf("%s: no [Sequence] section", name)
	}
	if _, ok := seen["name"]; !ok || info.Name == "" {
		return SeqInfo{}, fmt.Errorf("%s: [Sequence] has no name", name)
	}
	if _, ok := seen["seqlength"]; !ok {
		return SeqInfo{}, fmt.Errorf("%s: [Sequence] has no seqLength", name)
	}
	return info, nil
}

func (s *SeqInfo) set(key, val string) error {
	atoi := func(min int) (int, error) {
		v, err := strconv.Atoi(val)
		if err != nil || v < min {
			return 0, fmt.Errorf("%s %q must be an integer >= %d", key, val, min)
		}
		return v, nil
	}
	var err error
	switch key {
	case "name":
		s.Name = val
	case "imdir":
		s.ImDir = val
	case "imext":
		s.ImExt = val
	case "framerate":
		v, perr := strconv.ParseFloat(val, 64)
		if perr != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("frameRate %q must be a positive number", val)
		}
		s.FrameRate = v
	case "seqlength":
		s.SeqLength, err = atoi(1)
	case "imwidth":
		s.Width, err = atoi(1)
	case "imheight":
		s.Height, err = atoi(1)
	}
	// Unknown keys are kept out of SeqInfo but tolerated: some datasets
	// add their own.
	return err
}

// Write writes the seqinfo.ini with MOTChallenge's key spelling. Zero
// numeric fields and empty strings other than name are left out. A file
// ReadSeqInfo (or TrackEval) could not read back is refused: no name, a
// seqLength below 1, a negative or non-finite number, a line break in a value.
func (s SeqInfo) Write(w io.Writer) error {
	if s.Name == "" || s.SeqLength < 1 {
		return fmt.Errorf("write seqinfo: name %q and seqLength %d are required (seqLength >= 1)", s.Name, s.SeqLength)
	}
	if s.FrameRate < 0 || math.IsNaN(s.FrameRate) || math.IsInf(s.FrameRate, 0) || s.Width < 0 || s.Height < 0 {
		return fmt.Errorf("write seqinfo %s: frameRate %g, imWidth %d, imHeight %d must not be negative", s.Name, s.FrameRate, s.Width, s.Height)
	}
	for _, v := range []string{s.Name, s.ImDir, s.ImExt} {
		if strings.ContainsAny(v, "\r\n") || v != strings.TrimSpace(v) {
			return fmt.Errorf("write seqinfo %s: value %q has a line break or surrounding spaces", s.Name, v)
		}
	}
	var b strings.Builder
	b.WriteString("[Sequence]\n")
	fmt.Fprintf(&b, "name=%s\n", s.Name)
	if s.ImDir != "" {
		fmt.Fprintf(&b, "imDir=%s\n", s.ImDir)
	}
	if s.FrameRate != 0 {
		fmt.Fprintf(&b, "frameRate=%s\n", strconv.FormatFloat(s.FrameRate, 'g', -1, 64))
	}
	fmt.Fprintf(&b, "seqLength=%d\n", s.SeqLength)
	if s.Width != 0 {
		fmt.Fprintf(&b, "imWidth=%d\n", s.Width)
	}
	if s.Height != 0 {
		fmt.Fprintf(&b, "imHeight=%d\n", s.Height)
	}
	if s.ImExt != "" {
		fmt.Fprintf(&b, "imExt=%s\n", s.ImExt)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write seqinfo %s: %w", s.Name, err)
	}
	return nil
}
