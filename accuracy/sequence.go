package accuracy

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/video"
)

// Files of a sequence directory.
const (
	SeqInfoFile   = "seqinfo.ini"
	GTFile        = "gt/gt.txt"
	SequenceFile  = "sequence.yml"
	CrossingsFile = "crossings.csv"
)

// DefaultTolerance is the crossing tolerance, in frames, of a sequence.yml
// that does not set crossing_tolerance: a hand-labelled crossing frame and
// the first far-side observation of a track can honestly differ by a
// frame or two at walking speed.
const DefaultTolerance = 3

// Where a sequence's counting truth came from.
const (
	CrossingsFromFile = "crossings.csv"
	CrossingsFromGT   = "derived from gt"
)

// Sequence is a directory in MOTChallenge layout plus storesight's
// sequence.yml:
//
//	DIR/seqinfo.ini, DIR/gt/gt.txt, DIR/sequence.yml, optional DIR/crossings.csv
//
// sequence.yml says which frames of which video the ground truth labels and
// where the counting lines are:
//
//	video: /usr/share/doc/opencv-doc/examples/data/vtest.avi  # absolute or relative to DIR
//	start_frame: 260         # 0-based decode index of gt frame 1
//	crossing_tolerance: 3    # frames (default 3)
//	lines:                   # the keys of a camera's lines in storesight.example.yml
//	  - {name: west, points: [[300,150],[300,340]], forward: leftward, backward: rightward}
//
// Without crossings.csv the counting truth is derived from the gt tracks by
// GTCrossings, under the same rules production counts by.
type Sequence struct {
	Dir, Name  string
	Info       SeqInfo
	Video      string // absolute or relative to the working directory
	StartFrame int
	Lines      []counting.Line
	Tolerance  int
	GT         []Row
	Crossings  []Event
	// CrossingsSource is CrossingsFromFile or CrossingsFromGT.
	CrossingsSource string
}

// sequenceFile is sequence.yml as written.
type sequenceFile struct {
	Video             string        `yaml:"video"`
	StartFrame        int           `yaml:"start_frame"`
	CrossingTolerance int           `yaml:"crossing_tolerance"`
	Lines             []config.Line `yaml:"lines"`
}

// LoadSequence reads and checks a sequence directory: every file present
// and well-formed, the lines inside the image, the labelled frames inside
// the video, every gt frame within 1..seqLength. It opens the video to
// check it, so a sequence that loads can be evaluated. Every problem found
// is reported, each naming its file (and line, for sequence.yml).
func LoadSequence(dir string) (*Sequence, error) {
	var missing []error
	for _, f := range []string{SeqInfoFile, GTFile, SequenceFile} {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, fmt.Errorf("sequence %s: no %s", dir, f))
		} else if err != nil {
			missing = append(missing, fmt.Errorf("sequence %s: %w", dir, err))
		}
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	seqinfo := filepath.Join(dir, SeqInfoFile)
	info, err := ReadSeqInfo(seqinfo)
	if err != nil {
		return nil, err
	}
	if info.SeqLength < 1 {
		return nil, fmt.Errorf("%s: seqLength must be >= 1, got %d", seqinfo, info.SeqLength)
	}
	// The name becomes TrackEval's folder and file names.
	if err := checkName("sequence", info.Name); err != nil {
		return nil, fmt.Errorf("%s: %w", seqinfo, err)
	}
	s := &Sequence{Dir: dir, Name: info.Name, Info: info}
	var errs []error
	if err := s.loadSpec(filepath.Join(dir, SequenceFile)); err != nil {
		errs = append(errs, err)
	}
	if err := s.loadGT(filepath.Join(dir, GTFile)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := s.loadCrossings(filepath.Join(dir, CrossingsFile)); err != nil {
		return nil, err
	}
	return s, nil
}

// loadSpec reads sequence.yml and checks it against seqinfo.ini and the
// video.
func (s *Sequence) loadSpec(path string) error {
	spec := sequenceFile{CrossingTolerance: DefaultTolerance}
	f, err := config.DecodeFile(path, &spec)
	if err != nil {
		return err
	}
	var errs []error
	if spec.Video == "" {
		errs = append(errs, f.Errorf("video", "required (the video file the gt labels)"))
	}
	if !f.Has("start_frame") {
		errs = append(errs, f.Errorf("start_frame", "required (the 0-based decode index of gt frame 1)"))
	} else if spec.StartFrame < 0 {
		errs = append(errs, f.Errorf("start_frame", "must be >= 0, got %d", spec.StartFrame))
	}
	if spec.CrossingTolerance < 0 {
		errs = append(errs, f.Errorf("crossing_tolerance", "must be >= 0 frames, got %d", spec.CrossingTolerance))
	}
	if err := f.ValidateLines("lines", spec.Lines); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.StartFrame, s.Tolerance = spec.StartFrame, spec.CrossingTolerance
	s.Lines = countingLines(spec.Lines)
	seqinfo := filepath.Join(s.Dir, SeqInfoFile)
	for i, l := range s.Lines {
		if err := counting.ValidateInFrame([]counting.Line{l}, nil, s.Info.Width, s.Info.Height); err != nil {
			errs = append(errs, f.Errorf(fmt.Sprintf("lines[%d].points", i), "%v (imWidth x imHeight in %s)", err, seqinfo))
		}
	}
	s.Video = spec.Video
	if !filepath.IsAbs(s.Video) {
		s.Video = filepath.Join(s.Dir, s.Video)
	}
	if err := s.checkVideo(f, seqinfo); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkVideo opens the video to check that it is the one seqinfo.ini
// describes and that it holds every labelled frame.
func (s *Sequence) checkVideo(f *config.File, seqinfo string) error {
	if st, err := os.Stat(s.Video); err != nil {
		return f.Errorf("video", "%v", err)
	} else if st.IsDir() {
		return f.Errorf("video", "%s is a directory", s.Video)
	}
	src, err := video.OpenFile(video.Spec{Camera: s.Name, URL: s.Video})
	if err != nil {
		return f.Errorf("video", "%v", err)
	}
	vi := src.Info()
	src.Close()
	var errs []error
	if vi.Width != s.Info.Width || vi.Height != s.Info.Height {
		errs = append(errs, fmt.Errorf("%s: imWidth x imHeight is %dx%d but %s is %dx%d",
			seqinfo, s.Info.Width, s.Info.Height, s.Video, vi.Width, vi.Height))
	}
	// The tracker's motion model is per frame, so a sequence labelled at
	// another rate than the video plays at means the wrong frames.
	if vi.FPS > 0 && math.Abs(vi.FPS-s.Info.FrameRate) > 0.01*vi.FPS {
		errs = append(errs, fmt.Errorf("%s: frameRate is %v but %s plays at %v fps", seqinfo, s.Info.FrameRate, s.Video, vi.FPS))
	}
	if end := int64(s.StartFrame) + int64(s.Info.SeqLength); vi.Frames > 0 && end > vi.Frames {
		errs = append(errs, f.Errorf("start_frame", "start_frame %d + seqLength %d (%s) = %d, but %s has %d frames",
			s.StartFrame, s.Info.SeqLength, seqinfo, end, s.Video, vi.Frames))
	}
	return errors.Join(errs...)
}

// loadGT reads gt.txt and checks that every row lies in the sequence.
func (s *Sequence) loadGT(path string) error {
	rows, err := ReadMOT(path, GT)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s: no rows", path)
	}
	var errs []error
	for _, r := range rows {
		if r.Frame < 1 || r.Frame > s.Info.SeqLength {
			errs = append(errs, fmt.Errorf("%s: frame %d (id %d) is outside 1..%d (seqLength in %s)",
				path, r.Frame, r.ID, s.Info.SeqLength, filepath.Join(s.Dir, SeqInfoFile)))
			if len(errs) == 10 {
				errs = append(errs, fmt.Errorf("%s: more frames outside the sequence not shown", path))
				break
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Score the gt as WriteTrackEval writes it (two decimals), so a gt.txt
	// with more precision gives the same numbers here and in TrackEval.
	if s.GT, err = AsWritten(rows, GT); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// loadCrossings takes the explicit counting truth when there is one, else
// derives it from the gt tracks.
func (s *Sequence) loadCrossings(path string) error {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.CrossingsSource = CrossingsFromGT
		if len(s.Lines) == 0 {
			return nil
		}
		s.Crossings, err = GTCrossings(s.GT, s.Lines)
		if err != nil {
			return fmt.Errorf("sequence %s: crossings from %s: %w", s.Dir, GTFile, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("sequence %s: %w", s.Dir, err)
	}
	evs, err := ReadCrossingsCSV(path)
	if err != nil {
		return err
	}
	dirs := map[string]map[string]bool{}
	for _, l := range s.Lines {
		fw, bw := l.Forward, l.Backward
		dirs[l.Name] = map[string]bool{fw: true, bw: true}
	}
	var errs []error
	for _, e := range evs {
		switch {
		case dirs[e.Line] == nil:
			errs = append(errs, fmt.Errorf("%s: line %q (frame %d) is not in %s", path, e.Line, e.Frame, SequenceFile))
		case !dirs[e.Line][e.Direction]:
			errs = append(errs, fmt.Errorf("%s: line %s has no direction %q (frame %d) in %s", path, e.Line, e.Direction, e.Frame, SequenceFile))
		case e.Frame < 1 || e.Frame > s.Info.SeqLength:
			errs = append(errs, fmt.Errorf("%s: frame %d (%s %s) is outside 1..%d (seqLength)", path, e.Frame, e.Line, e.Direction, s.Info.SeqLength))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.Crossings, s.CrossingsSource = evs, CrossingsFromFile
	return nil
}

// countingLines converts configuration lines as the app does for a camera
// (app.countingGeometry): the decoder already gave every line the
// configuration's band and confirm_frames defaults.
func countingLines(ls []config.Line) []counting.Line {
	pt := func(p config.Point) geom.Point { return geom.Point{X: p[0], Y: p[1]} }
	var out []counting.Line
	for _, l := range ls {
		out = append(out, counting.Line{
			Name: l.Name, Seg: geom.Segment{A: pt(l.Points[0]), B: pt(l.Points[1])},
			Forward: l.Forward, Backward: l.Backward, Band: l.Band, ConfirmFrames: l.ConfirmFrames, Entrance: l.Entrance,
		})
	}
	return out
}
