// Command interp fills MOT ground truth between hand-checked keyframes, the
// way CVAT's track mode does: for each id, every frame strictly between two
// consecutive keyframes that both hold that id gets the box and visibility
// interpolated linearly. It is considered only when both keyframes are:
// the frames between a considered and an ignored keyframe are on their way
// out of (or into) the picture, so ignoring them is the safe side.
// An id missing from the next keyframe ends at its last keyframe, so entries,
// exits and occlusion gaps must be keyframes themselves.
//
//	go run ./testdata/mot/tools/interp -keys testdata/mot/vtest-s01/keyframes.txt \
//	    -in testdata/mot/vtest-s01/gt/gt.txt -out testdata/mot/vtest-s01/gt/gt.txt
//
// Rows of -in on non-key frames are ignored, so rerunning on its own output
// is a no-op. keyframes.txt holds one gt frame per line; text after the
// number and lines starting with # are comments.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

type row struct {
	frame, id  int
	l, t, w, h float64
	consider   int
	class      int
	vis        float64
}

func main() {
	keys := flag.String("keys", "", "keyframes.txt")
	in := flag.String("in", "", "gt.txt holding the keyframe boxes")
	out := flag.String("out", "", "gt.txt to write")
	flag.Parse()
	if err := run(*keys, *in, *out); err != nil {
		slog.Error("interp", "err", err)
		os.Exit(1)
	}
}

func readKeys(path string) (map[int]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ks := map[int]bool{}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		n, err := strconv.Atoi(strings.Fields(s)[0])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s:%d: want a positive frame number: %q", path, ln, s)
		}
		ks[n] = true
	}
	return ks, sc.Err()
}

func readGT(path string, keep map[int]bool) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	seen := map[[2]int]bool{}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		p := strings.Split(s, ",")
		if len(p) != 9 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 9", path, ln, len(p))
		}
		v := make([]float64, 9)
		for i := range p {
			if v[i], err = strconv.ParseFloat(strings.TrimSpace(p[i]), 64); err != nil {
				return nil, fmt.Errorf("%s:%d: field %d: %w", path, ln, i+1, err)
			}
		}
		r := row{int(v[0]), int(v[1]), v[2], v[3], v[4], v[5], int(v[6]), int(v[7]), v[8]}
		if r.w <= 0 || r.h <= 0 || r.vis < 0 || r.vis > 1 || (r.consider != 0 && r.consider != 1) {
			return nil, fmt.Errorf("%s:%d: bad row %q", path, ln, s)
		}
		if !keep[r.frame] {
			continue
		}
		k := [2]int{r.frame, r.id}
		if seen[k] {
			return nil, fmt.Errorf("%s:%d: id %d twice in frame %d", path, ln, r.id, r.frame)
		}
		seen[k] = true
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

func lerp(a, b, u float64) float64 { return a + (b-a)*u }

func run(keysPath, in, out string) error {
	keys, err := readKeys(keysPath)
	if err != nil {
		return err
	}
	rows, err := readGT(in, keys)
	if err != nil {
		return err
	}
	var kf []int
	for k := range keys {
		kf = append(kf, k)
	}
	sort.Ints(kf)
	byID := map[int]map[int]row{}
	for _, r := range rows {
		if byID[r.id] == nil {
			byID[r.id] = map[int]row{}
		}
		byID[r.id][r.frame] = r
	}
	all := append([]row(nil), rows...)
	for id, at := range byID {
		for i := 0; i+1 < len(kf); i++ {
			a, okA := at[kf[i]]
			b, okB := at[kf[i+1]]
			if !okA || !okB {
				continue
			}
			for f := kf[i] + 1; f < kf[i+1]; f++ {
				u := float64(f-kf[i]) / float64(kf[i+1]-kf[i])
				all = append(all, row{f, id, lerp(a.l, b.l, u), lerp(a.t, b.t, u), lerp(a.w, b.w, u), lerp(a.h, b.h, u),
					min(a.consider, b.consider), a.class, math.Round(lerp(a.vis, b.vis, u)*100) / 100})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].frame != all[j].frame {
			return all[i].frame < all[j].frame
		}
		return all[i].id < all[j].id
	})
	var buf bytes.Buffer
	for _, r := range all {
		fmt.Fprintf(&buf, "%d,%d,%.2f,%.2f,%.2f,%.2f,%d,%d,%.2f\n", r.frame, r.id, r.l, r.t, r.w, r.h, r.consider, r.class, r.vis)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	slog.Info("interp", "keyframes", len(kf), "ids", len(byID), "rows", len(all), "out", out)
	return nil
}
