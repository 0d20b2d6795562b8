// Command propose writes detector+tracker box proposals for a MOT sample,
// to speed up drawing keyframe boxes by hand. Its output is not ground
// truth: every keyframe box taken from it was checked on the image.
//
//	go run ./testdata/mot/tools/propose -start 260 -n 150 -out /tmp/mot
//
// writes OUT/img1/000001.jpg.. (the decoded frames), OUT/dets.txt (raw
// person detections, MOT results format with id -1) and OUT/tracks.txt
// (ByteTrack ids, MOT results format).
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
	"github.com/storesight/storesight/tracker"
	"gocv.io/x/gocv"
)

func main() {
	video := flag.String("video", "/usr/share/doc/opencv-doc/examples/data/vtest.avi", "input video")
	start := flag.Int("start", 260, "0-based decode index of sample frame 1")
	n := flag.Int("n", 150, "frames")
	out := flag.String("out", "/tmp/mot", "output directory")
	model := flag.String("model", "yolov8n_640_coco_int8_AGPL", "manifest name")
	thresh := flag.Float64("thresh", 0.2, "score threshold")
	flag.Parse()
	if err := run(*video, *start, *n, *out, *model, float32(*thresh)); err != nil {
		slog.Error("propose", "err", err)
		os.Exit(1)
	}
}

func run(video string, start, n int, out, model string, thresh float32) error {
	m, err := models.Lookup(model)
	if err != nil {
		return err
	}
	det, err := detectors.NewONNX(m, filepath.Join(models.DefaultDir(), m.File), detectors.Options{Threads: 1, Classes: []int{0}, ScoreThreshold: thresh})
	if err != nil {
		return fmt.Errorf("open model %s: %w", model, err)
	}
	defer det.Close()
	if err := os.MkdirAll(filepath.Join(out, "img1"), 0o755); err != nil {
		return err
	}
	dets, err := os.Create(filepath.Join(out, "dets.txt"))
	if err != nil {
		return err
	}
	defer dets.Close()
	tracks, err := os.Create(filepath.Join(out, "tracks.txt"))
	if err != nil {
		return err
	}
	defer tracks.Close()
	vc, err := gocv.VideoCaptureFile(video)
	if err != nil {
		return fmt.Errorf("open %s: %w", video, err)
	}
	defer vc.Close()
	cfg := tracker.DefaultConfig()
	// Every detection-backed track gets an id from its first frame: the
	// proposals are for drawing, a late confirmation would only hide boxes.
	cfg.MinHits = 1
	tr := tracker.New(cfg)
	img := gocv.NewMat()
	defer img.Close()
	for i := 0; i < start+n; i++ {
		if !vc.Read(&img) {
			return fmt.Errorf("%s: no frame %d", video, i)
		}
		if i < start {
			continue
		}
		f := i - start + 1
		if !gocv.IMWrite(filepath.Join(out, "img1", fmt.Sprintf("%06d.jpg", f)), img) {
			return fmt.Errorf("write frame %d", f)
		}
		ds, err := det.Detect(img)
		if err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		for _, d := range ds {
			b := d.Box
			fmt.Fprintf(dets, "%d,-1,%.1f,%.1f,%.1f,%.1f,%.3f,-1,-1,-1\n", f, b.X1, b.Y1, b.W(), b.H(), d.Score)
		}
		for _, t := range tr.Update(ds) {
			if t.State != tracker.Confirmed {
				continue
			}
			b := t.Box
			fmt.Fprintf(tracks, "%d,%d,%.1f,%.1f,%.1f,%.1f,%.3f,-1,-1,-1\n", f, t.ID, b.X1, b.Y1, b.W(), b.H(), t.Score)
		}
	}
	return nil
}
