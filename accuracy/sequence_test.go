package accuracy

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/geom"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// fixtureLen is the fixture's length: 40 frames from decode frame 260, in
// which testdata/vtest/crossings.csv has W07 crossing west leftward (decode
// frame 270).
const fixtureLen = 40

// crossingGT is one made-up person walking leftward over the west line
// (x = 300) between gt frames 1 and 10, feet at y = 260.
func crossingGT() string {
	var b strings.Builder
	for f := 1; f <= 10; f++ {
		cx := 330.0 - 6*float64(f)
		fmt.Fprintf(&b, "%d,1,%.2f,150.00,40.00,110.00,1,1,1.00\n", f, cx-20)
	}
	return b.String()
}

// fixture is a valid sequence directory's files, for tests to break.
func fixture() map[string]string {
	return map[string]string{
		SeqInfoFile: "[Sequence]\nname=fx\nimDir=img1\nframeRate=10\nseqLength=40\nimWidth=768\nimHeight=576\nimExt=.jpg\n",
		GTFile:      crossingGT(),
		SequenceFile: "video: " + vtest + "\n" +
			"start_frame: 260\n" +
			"lines:\n" +
			"  - {name: west, points: [[300, 150], [300, 340]], forward: leftward, backward: rightward}\n" +
			"  - {name: east, points: [[560, 120], [560, 440]], forward: leftward, backward: rightward, band: 5, confirm_frames: 3}\n",
	}
}

func writeSequence(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fx")
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadSequence(t *testing.T) {
	dir := writeSequence(t, fixture())
	s, err := LoadSequence(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "fx" || s.Video != vtest || s.StartFrame != 260 || s.Info.SeqLength != fixtureLen || len(s.GT) != 10 {
		t.Errorf("got name %q video %q start %d length %d, %d gt rows", s.Name, s.Video, s.StartFrame, s.Info.SeqLength, len(s.GT))
	}
	if s.Tolerance != DefaultTolerance {
		t.Errorf("tolerance %d, want the default %d", s.Tolerance, DefaultTolerance)
	}
	// The configuration's line defaults (band 8, confirm_frames 2) apply to
	// lines that do not set them, as for a camera.
	want := []counting.Line{
		{Name: "west", Seg: geom.Segment{A: geom.Point{X: 300, Y: 150}, B: geom.Point{X: 300, Y: 340}},
			Forward: "leftward", Backward: "rightward", Band: 8, ConfirmFrames: 2},
		{Name: "east", Seg: geom.Segment{A: geom.Point{X: 560, Y: 120}, B: geom.Point{X: 560, Y: 440}},
			Forward: "leftward", Backward: "rightward", Band: 5, ConfirmFrames: 3},
	}
	if !reflect.DeepEqual(s.Lines, want) {
		t.Errorf("lines\n got %+v\nwant %+v", s.Lines, want)
	}
	if s.CrossingsSource != CrossingsFromGT || len(s.Crossings) != 1 {
		t.Fatalf("crossings %+v from %q, want the one gt crossing derived from gt", s.Crossings, s.CrossingsSource)
	}
	if c := s.Crossings[0]; c.Line != "west" || c.Direction != "leftward" || c.TrackID != 1 {
		t.Errorf("crossing %+v, want west leftward by id 1", c)
	}
}

// A relative video path is relative to the sequence directory; an explicit
// crossings.csv replaces the crossings derived from gt.
func TestLoadSequenceRelativeVideoAndCrossingsFile(t *testing.T) {
	files := fixture()
	files[SequenceFile] = strings.Replace(files[SequenceFile], "video: "+vtest, "video: ../media/v.avi\ncrossing_tolerance: 0", 1)
	files[CrossingsFile] = "line,direction,frame,note\nwest,leftward,11,made up\neast,rightward,30,\n"
	dir := writeSequence(t, files)
	media := filepath.Join(filepath.Dir(dir), "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(vtest, filepath.Join(media, "v.avi")); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSequence(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Video != filepath.Join(dir, "../media/v.avi") || s.Tolerance != 0 {
		t.Errorf("video %q tolerance %d", s.Video, s.Tolerance)
	}
	want := []Event{{Line: "west", Direction: "leftward", Frame: 11}, {Line: "east", Direction: "rightward", Frame: 30}}
	if s.CrossingsSource != CrossingsFromFile || !reflect.DeepEqual(s.Crossings, want) {
		t.Errorf("crossings %+v from %q, want %+v from the file", s.Crossings, s.CrossingsSource, want)
	}
}

// Every way a sequence can be wrong is reported with the file (and, in
// sequence.yml, the line) to fix.
func TestLoadSequenceErrors(t *testing.T) {
	seqYML := func(old, new string) func(map[string]string) {
		return func(f map[string]string) { f[SequenceFile] = strings.Replace(f[SequenceFile], old, new, 1) }
	}
	for _, c := range []struct {
		name string
		edit func(map[string]string)
		want []string
	}{
		{"missing gt", func(f map[string]string) { delete(f, GTFile) },
			[]string{"fx: no gt/gt.txt"}},
		{"missing sequence.yml", func(f map[string]string) { delete(f, SequenceFile) },
			[]string{"fx: no sequence.yml"}},
		{"gt frame beyond seqLength", func(f map[string]string) { f[GTFile] += "41,2,10,10,20,40,1,1,1\n" },
			[]string{"gt/gt.txt: frame 41 (id 2) is outside 1..40 (seqLength in ", "seqinfo.ini"}},
		{"malformed gt", func(f map[string]string) { f[GTFile] += "12,2,10,10,20\n" },
			[]string{"gt/gt.txt:11:"}},
		{"video too short", seqYML("start_frame: 260", "start_frame: 760"),
			[]string{"sequence.yml:2: start_frame: start_frame 760 + seqLength 40 (", "= 800, but " + vtest + " has 795 frames"}},
		{"line outside the image", seqYML("[560, 440]", "[560, 600]"),
			[]string{"sequence.yml:5: lines[1].points: line \"east\": point B (560,600) is outside the 768x576 frame"}},
		{"unknown key", seqYML("start_frame:", "start_frames:"),
			[]string{"sequence.yml:2: start_frames: unknown key (did you mean \"start_frame\"?)"}},
		{"no start_frame", seqYML("start_frame: 260\n", ""),
			[]string{"sequence.yml", "start_frame: required"}},
		{"bad line", seqYML("band: 5", "band: -1"),
			[]string{"sequence.yml:5: lines[1].band: must be > 0 pixels, got -1"}},
		{"duplicate line", seqYML("name: east", "name: west"),
			[]string{"sequence.yml:5: lines[1].name: duplicate line name \"west\" (first used at line 4)"}},
		{"missing video", seqYML(vtest, "nope.avi"),
			[]string{"sequence.yml:1: video: stat ", "nope.avi: no such file"}},
		{"image size differs", func(f map[string]string) {
			f[SeqInfoFile] = strings.Replace(f[SeqInfoFile], "imWidth=768", "imWidth=640", 1)
		}, []string{"seqinfo.ini: imWidth x imHeight is 640x576 but " + vtest + " is 768x576"}},
		{"frame rate differs", func(f map[string]string) {
			f[SeqInfoFile] = strings.Replace(f[SeqInfoFile], "frameRate=10", "frameRate=25", 1)
		}, []string{"seqinfo.ini: frameRate is 25 but " + vtest + " plays at 10 fps"}},
		{"bad sequence name", func(f map[string]string) {
			f[SeqInfoFile] = strings.Replace(f[SeqInfoFile], "name=fx", "name=a/b", 1)
		}, []string{"seqinfo.ini: sequence name \"a/b\""}},
		{"crossing on an unknown line", func(f map[string]string) { f[CrossingsFile] = "line,direction,frame\nnorth,in,5\n" },
			[]string{"crossings.csv: line \"north\" (frame 5) is not in sequence.yml"}},
		{"crossing outside the sequence", func(f map[string]string) { f[CrossingsFile] = "line,direction,frame\nwest,leftward,41\n" },
			[]string{"crossings.csv: frame 41 (west leftward) is outside 1..40"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := maps.Clone(fixture())
			c.edit(files)
			_, err := LoadSequence(writeSequence(t, files))
			if err == nil {
				t.Fatal("loaded")
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
