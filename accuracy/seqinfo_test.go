package accuracy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSeqInfoRoundTrip(t *testing.T) {
	in := SeqInfo{Name: "vtest-s01", FrameRate: 10, SeqLength: 150, Width: 768, Height: 576, ImDir: "img1", ImExt: ".jpg"}
	var buf bytes.Buffer
	if err := in.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := "[Sequence]\nname=vtest-s01\nimDir=img1\nframeRate=10\nseqLength=150\nimWidth=768\nimHeight=576\nimExt=.jpg\n"
	if buf.String() != want {
		t.Errorf("written:\n%s\nwant:\n%s", buf.String(), want)
	}
	path := filepath.Join(t.TempDir(), "seqinfo.ini")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSeqInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != in {
		t.Errorf("read back %+v, want %+v", got, in)
	}
}

// TestParseSeqInfoMOTChallenge reads an ini as MOTChallenge ships them
// (MOT17-02), with the looser syntax configparser accepts.
func TestParseSeqInfoMOTChallenge(t *testing.T) {
	text := "; comment\n[Sequence]\nname=MOT17-02-FRCNN\nimDir=img1\nframeRate=30\nseqLength=600\nimWidth=1920\nimHeight=1080\nimExt=.jpg\n\n[Other]\nname=x\n"
	got, err := ParseSeqInfo(strings.NewReader(text), "seqinfo.ini")
	if err != nil {
		t.Fatal(err)
	}
	want := SeqInfo{Name: "MOT17-02-FRCNN", FrameRate: 30, SeqLength: 600, Width: 1920, Height: 1080, ImDir: "img1", ImExt: ".jpg"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = ParseSeqInfo(strings.NewReader("[Sequence]\nNAME : a\nSeqLength: 12\nframerate = 12.5\n"), "x.ini")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "a" || got.SeqLength != 12 || got.FrameRate != 12.5 {
		t.Errorf("case-insensitive keys: %+v", got)
	}
}

func TestParseSeqInfoErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"name=a\n", "x.ini:1: \"name=a\" before any section header"},
		{"[Sequence]\nname=a\n", "x.ini: [Sequence] has no seqLength"},
		{"[Sequence]\nseqLength=3\n", "x.ini: [Sequence] has no name"},
		{"[Sequence]\nname=a\nseqLength=0\n", "x.ini:3: seqlength \"0\" must be an integer >= 1"},
		{"[Sequence]\nname=a\nseqLength=ten\n", "x.ini:3: seqlength \"ten\""},
		{"[Sequence]\nname=a\nseqLength=3\nframeRate=-1\n", "x.ini:4: frameRate \"-1\""},
		{"[Sequence]\nname=a\nseqLength=3\nseqlength=4\n", "x.ini:4: seqlength given again (first on line 3)"},
		{"[Sequence]\nname=a\nbroken\n", "x.ini:3: \"broken\" is not key=value"},
		{"[Sequence\n", "x.ini:1: unterminated section header"},
		{"[Other]\nname=a\n", "x.ini: no [Sequence] section"},
	}
	for _, c := range cases {
		_, err := ParseSeqInfo(strings.NewReader(c.text), "x.ini")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	if _, err := ReadSeqInfo(filepath.Join(t.TempDir(), "none.ini")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestSeqInfoWriteRefusesUnreadable(t *testing.T) {
	for _, s := range []SeqInfo{
		{SeqLength: 3},
		{Name: "a"},
		{Name: "a\nseqLength=9", SeqLength: 3},
		{Name: "a", SeqLength: 3, Width: -1},
	} {
		if err := s.Write(&bytes.Buffer{}); err == nil {
			t.Errorf("%+v written", s)
		}
	}
}
