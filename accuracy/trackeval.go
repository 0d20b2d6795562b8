package accuracy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The benchmark and split the TrackEval layout is written as: TrackEval's
// MotChallenge2DBox finds files under <BENCHMARK>-<SPLIT> folders.
const (
	TrackEvalBenchmark = "STORESIGHT"
	TrackEvalSplit     = "test"
)

// trackEvalSet is TrackEval's gt_set, the folder under gt and trackers.
func trackEvalSet() string { return TrackEvalBenchmark + "-" + TrackEvalSplit }

// TrackEvalGTDir is the sequence's folder of ground truth under root.
func TrackEvalGTDir(root, seq string) string {
	return filepath.Join(root, "gt", "mot_challenge", trackEvalSet(), seq)
}

// TrackEvalSeqmap is the seqmap file listing the sequences under root.
func TrackEvalSeqmap(root string) string {
	return filepath.Join(root, "gt", "mot_challenge", "seqmaps", trackEvalSet()+".txt")
}

// TrackEvalResults is the tracker's results file for a sequence under root.
func TrackEvalResults(root, tracker, seq string) string {
	return filepath.Join(root, "trackers", "mot_challenge", trackEvalSet(), tracker, "data", seq+".txt")
}

// TrackEvalCommand is the command line that runs TrackEval (from its
// checkout) on what WriteTrackEval wrote under root.
func TrackEvalCommand(root, tracker string) string {
	return fmt.Sprintf("python scripts/run_mot_challenge.py --GT_FOLDER %s --TRACKERS_FOLDER %s --BENCHMARK %s --SPLIT_TO_EVAL %s --TRACKERS_TO_EVAL %s --METRICS CLEAR Identity --USE_PARALLEL False",
		filepath.Join(root, "gt", "mot_challenge"), filepath.Join(root, "trackers", "mot_challenge"),
		TrackEvalBenchmark, TrackEvalSplit, tracker)
}

// WriteTrackEval writes the run in the layout TrackEval's MOTChallenge
// script reads, so its numbers can be checked against TrackEval's:
//
//	root/gt/mot_challenge/STORESIGHT-test/<seq>/gt/gt.txt + seqinfo.ini
//	root/gt/mot_challenge/seqmaps/STORESIGHT-test.txt   (merged with the sequences already listed)
//	root/trackers/mot_challenge/STORESIGHT-test/<tracker>/data/<seq>.txt
//
// Several runs (sequences, trackers) can share one root.
func (r *Run) WriteTrackEval(root, tracker string) error {
	seq := r.Seq.Name
	if err := checkName("tracker", tracker); err != nil {
		return err
	}
	if err := checkName("sequence", seq); err != nil {
		return err
	}
	gtDir := TrackEvalGTDir(root, seq)
	var gt, info, res bytes.Buffer
	if err := WriteGT(&gt, r.Seq.GT); err != nil {
		return fmt.Errorf("sequence %s: %w", seq, err)
	}
	si := r.Seq.Info
	si.Name = seq
	if err := si.Write(&info); err != nil {
		return err
	}
	if err := WriteResults(&res, r.Results); err != nil {
		return fmt.Errorf("sequence %s: %w", seq, err)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{filepath.Join(gtDir, "gt", "gt.txt"), gt.Bytes()},
		{filepath.Join(gtDir, "seqinfo.ini"), info.Bytes()},
		{TrackEvalResults(root, tracker, seq), res.Bytes()},
	} {
		if err := writeFile(f.path, f.data); err != nil {
			return err
		}
	}
	return addToSeqmap(TrackEvalSeqmap(root), seq)
}

// checkName keeps names that become file or folder names to one path
// element.
func checkName(what, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\,`) || strings.TrimSpace(name) != name {
		return fmt.Errorf("%s name %q cannot be a TrackEval folder name", what, name)
	}
	return nil
}

// addToSeqmap lists seq in the seqmap, keeping the sequences already there
// in their order.
func addToSeqmap(path, seq string) error {
	var names []string
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read seqmap: %w", err)
	default:
		sc := bufio.NewScanner(bytes.NewReader(data))
		for first := true; sc.Scan(); first = false {
			name := strings.TrimSpace(sc.Text())
			// TrackEval skips the first row (the "name" header) and
			// empty ones.
			if first || name == "" {
				continue
			}
			names = append(names, name)
		}
	}
	for _, n := range names {
		if n == seq {
			return nil
		}
	}
	var b strings.Builder
	b.WriteString("name\n")
	for _, n := range append(names, seq) {
		b.WriteString(n + "\n")
	}
	return writeFile(path, []byte(b.String()))
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
