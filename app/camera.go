package app

import (
	"context"
	"fmt"
	"time"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/counting"
	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/motion"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
	"github.com/storesight/storesight/video"
)

// openCamera opens the camera's source and builds its analysis chain. Lines
// and zones are checked against the real frame size here, so a line drawn
// for another resolution fails before any frame is analysed.
func (a *App) openCamera(ctx context.Context, cam config.Camera) (*pipeline.Camera, video.Info, error) {
	cfg, offline := a.cfg, a.opts.Offline
	lines, zones := countingGeometry(cam)
	spec := video.Spec{
		Camera: cam.ID, URL: cam.Source, Realtime: cam.Realtime && !offline, Loop: cam.Loop && !offline,
		Transport: cam.Transport, StallTimeout: cam.StallTimeout.D(), StartTimeout: cam.StartTimeout.D(),
		Width: cam.Width, Height: cam.Height, OnStatus: a.status.notify("detect"), Log: a.log,
	}
	if spec.Transport == "auto" {
		spec.Transport = ""
	}
	if cam.SourceKind() == config.SourceFile {
		spec.URL = cam.FilePath()
	}
	if t, ok := cam.FirstFrameTime(); ok {
		spec.Epoch = t
	}
	src, err := video.Open(ctx, spec)
	if err != nil {
		return nil, video.Info{}, err
	}
	info := src.Info()
	fail := func(err error) (*pipeline.Camera, video.Info, error) {
		src.Close()
		return nil, info, err
	}
	if cam.Width > 0 && (cam.Width != info.Width || cam.Height != info.Height) {
		return fail(fmt.Errorf("camera %s: configured size %dx%d but %s is %dx%d",
			cam.ID, cam.Width, cam.Height, cam.RedactedSource(), info.Width, info.Height))
	}
	if err := counting.ValidateInFrame(lines, zones, info.Width, info.Height); err != nil {
		return fail(fmt.Errorf("camera %s (%dx%d): %w", cam.ID, info.Width, info.Height, err))
	}
	counter, err := counting.NewCounter(lines, zones)
	if err != nil {
		return fail(fmt.Errorf("camera %s: %w", cam.ID, err))
	}
	agg, err := counting.NewAggregator(lines, zones, time.Minute)
	if err != nil {
		return fail(fmt.Errorf("camera %s: %w", cam.ID, err))
	}
	var gate func(*video.Frame) bool
	if cam.Motion.Enabled {
		m := cam.Motion
		g, err := motion.New(motion.Config{Width: m.Width, Threshold: m.Threshold, MinArea: m.MinArea, StillRefresh: m.StillRefresh.D()})
		if err != nil {
			return fail(fmt.Errorf("camera %s: motion: %w", cam.ID, err))
		}
		a.closers = append(a.closers, closerFunc(func() error { g.Close(); return nil }))
		gate = func(f *video.Frame) bool { return g.Check(f.Img, f.StreamTime).Run }
	}
	if cam.MainSource != "" && !offline {
		rec := evidence.NewRecorder(video.Spec{
			Camera: cam.ID, URL: cam.MainSource, Transport: spec.Transport,
			StallTimeout: spec.StallTimeout, StartTimeout: spec.StartTimeout,
			OnStatus: a.status.notify("main"), Log: a.log,
		}, evidence.Options{})
		// Start fails only on what retrying cannot fix (bad URL, refused
		// credentials, no H.264/H.265); a camera that is down is recorded
		// once it is back.
		if err := rec.Start(ctx); err != nil {
			return fail(fmt.Errorf("camera %s: main_source: %w", cam.ID, err))
		}
		a.closers = append(a.closers, rec)
		if a.recorders == nil {
			a.recorders = map[string]*evidence.Recorder{}
		}
		a.recorders[cam.ID] = rec
	}
	if ls, ok := src.(video.LiveSource); ok {
		if a.live == nil {
			a.live = map[string]video.LiveSource{}
		}
		a.live[cam.ID] = ls
	}
	tc := tracker.Config{
		HighThresh:     cfg.Tracker.HighThreshold,
		LowThresh:      cfg.Tracker.LowThreshold,
		NewTrackThresh: cfg.Tracker.NewTrackThreshold,
		MatchThresh:    cfg.Tracker.MatchThreshold,
		MinHits:        cfg.Tracker.MinHits,
		LostBuffer:     cfg.Tracker.LostBuffer,
	}
	if err := tc.Validate(); err != nil {
		return fail(fmt.Errorf("tracker: %w", err))
	}
	var dweller *counting.Dweller
	if len(zones) > 0 {
		dweller, err = counting.NewDweller(zones, counting.DwellConfig{Gap: cfg.Dwell.Gap.D(), Rejoin: cfg.Dwell.Rejoin})
		if err != nil {
			return fail(fmt.Errorf("camera %s: dwell: %w", cam.ID, err))
		}
	}
	var counted func(tracker.Track) bool
	if person := a.personClass; person >= 0 {
		counted = func(t tracker.Track) bool { return t.Class == person }
	}
	return &pipeline.Camera{
		Dweller:    dweller,
		Counted:    counted,
		ID:         cam.ID,
		Source:     src,
		FPS:        cam.FPS,
		Queue:      cam.Queue,
		DropOldest: info.Live || spec.Realtime,
		Tracker:    tracker.New(tc),
		Counter:    counter,
		Aggregator: agg,
		Gate:       gate,
	}, info, nil
}

func countingGeometry(cam config.Camera) ([]counting.Line, []counting.Zone) {
	pt := func(p config.Point) geom.Point { return geom.Point{X: p[0], Y: p[1]} }
	var lines []counting.Line
	for _, l := range cam.Lines {
		lines = append(lines, counting.Line{
			Name: l.Name, Seg: geom.Segment{A: pt(l.Points[0]), B: pt(l.Points[1])},
			Forward: l.Forward, Backward: l.Backward, Band: l.Band, ConfirmFrames: l.ConfirmFrames, Entrance: l.Entrance,
		})
	}
	var zones []counting.Zone
	for _, z := range cam.Zones {
		pg := make(geom.Polygon, len(z.Polygon))
		for i, p := range z.Polygon {
			pg[i] = pt(p)
		}
		zones = append(zones, counting.Zone{Name: z.Name, Polygon: pg})
	}
	return lines, zones
}
