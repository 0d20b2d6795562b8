package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdAnalyze(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: storesight analyze VIDEO [flags]\n\nAnalyses a video file as fast as the machine allows.\n\n")
		fs.PrintDefaults()
	}
	var lines, zones multiFlag
	cfgPath := fs.String("config", "", "take model, tracker, lines and zones from this configuration file")
	camera := fs.String("camera", "", "with -config: the camera whose lines and zones apply (default: the first)")
	fs.Var(&lines, "line", "counting line `name=x1,y1,x2,y2[,forward,backward]` (repeatable; replaces the config's lines)")
	fs.Var(&zones, "zone", "zone `name=x1,y1,x2,y2,x3,y3[,...]` (repeatable; replaces the config's zones)")
	model := fs.String("model", "", "model manifest name (default: the config's, else yolox_nano_416_coco)")
	fps := fs.Float64("fps", -1, "analysis frames per second (0 = every frame; default: the config's, else 0)")
	threads := fs.Int("threads", 0, "ONNX Runtime threads (default: the config's, else 2)")
	eventsFile := fs.String("events", "", "write crossing events as JSON lines to this file")
	tracksFile := fs.String("tracks", "", "write tracks in MOTChallenge format to this file")
	progress := fs.Bool("progress", true, "show a progress bar on stderr")
	// Go's flag package stops at the first positional argument; accept the
	// video before or after the flags.
	var video string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		video, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if video == "" && fs.NArg() > 0 {
		video = fs.Arg(0)
	}
	if video == "" || fs.NArg() > 1 || (fs.NArg() == 1 && video != fs.Arg(0)) {
		fs.Usage()
		return exitError{2}
	}

	cfg := config.Default()
	cfg.Store.ID = "local"
	cam := config.DefaultCamera()
	cam.ID = cameraID(video)
	if *cfgPath != "" {
		c, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		cfg = c
		cam = c.Cameras[0]
		if *camera != "" {
			found := false
			for _, cc := range c.Cameras {
				if cc.ID == *camera {
					cam, found = cc, true
				}
			}
			if !found {
				return fmt.Errorf("-camera %q: no such camera in %s", *camera, *cfgPath)
			}
		}
	}
	cam.Source = video
	cam.Loop, cam.StartTime = false, ""
	if len(lines) > 0 {
		cam.Lines = nil
		for _, l := range lines {
			pl, err := parseLineFlag(l)
			if err != nil {
				return err
			}
			cam.Lines = append(cam.Lines, pl)
		}
	}
	if len(zones) > 0 {
		cam.Zones = nil
		for _, z := range zones {
			pz, err := parseZoneFlag(z)
			if err != nil {
				return err
			}
			cam.Zones = append(cam.Zones, pz)
		}
	}
	if *model != "" {
		cfg.Model.Name = *model
	}
	if *fps >= 0 {
		cam.FPS = *fps
	}
	if *threads > 0 {
		cfg.Model.Threads = *threads
	}
	cfg.Cameras = []config.Camera{cam}
	cfg.Outputs = config.Outputs{Stdout: false, EventsFile: *eventsFile, TracksFile: *tracksFile}
	if err := cfg.Validate(); err != nil {
		return err
	}

	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, app.Options{Log: log, Offline: true})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	progressDone := make(chan struct{})
	if *progress {
		go func() {
			defer close(progressDone)
			showProgress(stderr, a, done)
		}()
	} else {
		close(progressDone)
	}
	sum, err := a.Run(ctx)
	close(done)
	<-progressDone
	printTotals(stdout, sum)
	if sum != nil {
		for _, c := range sum.Cameras {
			fmt.Fprintf(stdout, "analysed %d frames in %s (%.1f frames/s)\n", c.Stats.Analysed,
				sum.AnalysisDuration.Round(time.Millisecond), float64(c.Stats.Analysed)/sum.AnalysisDuration.Seconds())
		}
	}
	return err
}

// showProgress draws a one-line progress bar until done is closed.
func showProgress(w io.Writer, a *app.App, done <-chan struct{}) {
	cam, info := a.Cameras()[0], a.Infos()[0]
	start := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	draw := func() {
		n := cam.Stats.Decoded.Load()
		el := time.Since(start).Seconds()
		rate := float64(cam.Stats.Analysed.Load()) / el
		if info.Frames > 0 {
			frac := min(float64(n)/float64(info.Frames), 1)
			const width = 30
			bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
			fmt.Fprintf(w, "\r[%s] %3.0f%% %d/%d frames %.1f fps ", bar, frac*100, n, info.Frames, rate)
		} else {
			fmt.Fprintf(w, "\r%d frames %.1f fps ", n, rate)
		}
	}
	for {
		select {
		case <-done:
			draw()
			fmt.Fprintln(w)
			return
		case <-tick.C:
			draw()
		}
	}
}

var idUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// cameraID derives a valid camera id from a video's file name.
func cameraID(video string) string {
	base := strings.TrimSuffix(filepath.Base(video), filepath.Ext(video))
	id := strings.Trim(idUnsafe.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if id == "" {
		return "video"
	}
	return id
}

func parseLineFlag(v string) (config.Line, error) {
	name, rest, ok := strings.Cut(v, "=")
	parts := strings.Split(rest, ",")
	if !ok || name == "" || (len(parts) != 4 && len(parts) != 6) {
		return config.Line{}, fmt.Errorf("-line %q: want name=x1,y1,x2,y2[,forward,backward]", v)
	}
	nums, err := parseNums(parts[:4])
	if err != nil {
		return config.Line{}, fmt.Errorf("-line %q: %w", v, err)
	}
	l := config.DefaultLine()
	l.Name = name
	l.Points = []config.Point{{nums[0], nums[1]}, {nums[2], nums[3]}}
	if len(parts) == 6 {
		l.Forward, l.Backward = parts[4], parts[5]
	}
	return l, nil
}

func parseZoneFlag(v string) (config.Zone, error) {
	name, rest, ok := strings.Cut(v, "=")
	parts := strings.Split(rest, ",")
	if !ok || name == "" || len(parts) < 6 || len(parts)%2 != 0 {
		return config.Zone{}, fmt.Errorf("-zone %q: want name=x1,y1,x2,y2,x3,y3[,...]", v)
	}
	nums, err := parseNums(parts)
	if err != nil {
		return config.Zone{}, fmt.Errorf("-zone %q: %w", v, err)
	}
	z := config.Zone{Name: name}
	for i := 0; i < len(nums); i += 2 {
		z.Polygon = append(z.Polygon, config.Point{nums[i], nums[i+1]})
	}
	return z, nil
}

func parseNums(parts []string) ([]float64, error) {
	out := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		out[i] = f
	}
	return out, nil
}
