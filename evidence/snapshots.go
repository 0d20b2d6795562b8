package evidence

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/geom"
)

// Defaults for SnapshotConfig.
const (
	DefaultSnapshotMaxAge   = 30 * 24 * time.Hour
	DefaultSnapshotMaxBytes = 1 << 30
	DefaultSnapshotQuality  = 85
)

// maxNameLen keeps Dir/<name>.jpg well within the 255-byte file name limit.
const maxNameLen = 128

// Temporary files are hidden (a leading dot) and never end in .jpg, so
// neither the accounting nor the handler can mistake a half-written
// snapshot for one.
const (
	snapTempPrefix = ".snapshot-"
	snapTempSuffix = ".tmp"
	snapExt        = ".jpg"
)

// Mark is a box drawn on a snapshot with its label.
type Mark struct {
	Box    geom.Box // in the picture's pixels
	Label  string   // drawn on a band above the box; "" draws no band
	Threat bool     // drawn red; other marks are drawn green
}

// SnapshotConfig configures Snapshots.
type SnapshotConfig struct {
	// Dir holds the snapshots as <name>.jpg; it is created if missing. It
	// belongs to one Snapshots: temporary files left in it by a crash are
	// removed at open.
	Dir string
	// MaxAge is how long a snapshot is kept (by file modification time);
	// 0 means DefaultSnapshotMaxAge.
	MaxAge time.Duration
	// MaxBytes caps the total size of the snapshots; 0 means
	// DefaultSnapshotMaxBytes. The oldest go first; the newest snapshot is
	// always kept, so a link just sent out works even when MaxBytes is set
	// below the size of one snapshot.
	MaxBytes int64
	// Quality is the JPEG quality, 1-100; 0 means DefaultSnapshotQuality.
	Quality int
	// Log receives failed removals; nil means slog.Default.
	Log *slog.Logger
}

// SnapshotStats describes what a Snapshots holds and did. Saved, Removed
// and Errors count since open and only grow.
type SnapshotStats struct {
	Files   int   // snapshots held
	Bytes   int64 // their total size
	Saved   int64 // snapshots written by Save
	Removed int64 // snapshots deleted for MaxAge or MaxBytes
	Errors  int64 // failed saves and removals
}

// Snapshots is a directory of annotated JPEG snapshots, the pictures that
// alerts link to, bounded by age and total size. Its methods are safe for
// concurrent use.
type Snapshots struct {
	cfg SnapshotConfig
	log *slog.Logger

	// mu guards the accounting and serialises every change of the files it
	// describes (rename into place, removal), so the two always agree.
	// Drawing, encoding and writing the temporary file happen outside it.
	mu    sync.Mutex
	files map[string]snapFile // by name (without .jpg)
	bytes int64
	stats SnapshotStats
}

type snapFile struct {
	size int64
	mod  time.Time
}

// OpenSnapshots creates cfg.Dir (0o750) if needed, removes temporary files
// left by an interrupted Save and accounts for the snapshots already there,
// so MaxAge and MaxBytes hold across restarts. Files that are not
// <name>.jpg with a valid name are left alone and not counted.
func OpenSnapshots(cfg SnapshotConfig) (*Snapshots, error) {
	if cfg.Dir == "" {
		return nil, errors.New("snapshots: no directory given")
	}
	switch {
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("snapshots: MaxAge %v is negative", cfg.MaxAge)
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("snapshots: MaxBytes %d is negative", cfg.MaxBytes)
	case cfg.Quality < 0 || cfg.Quality > 100:
		return nil, fmt.Errorf("snapshots: JPEG quality %d is not within 1-100", cfg.Quality)
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultSnapshotMaxAge
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultSnapshotMaxBytes
	}
	if cfg.Quality == 0 {
		cfg.Quality = DefaultSnapshotQuality
	}
	s := &Snapshots{cfg: cfg, log: cfg.Log, files: make(map[string]snapFile)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("snapshots: create directory: %w", err)
	}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("snapshots: scan directory: %w", err)
	}
	for _, e := range entries {
		fn := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(fn, snapTempPrefix) && strings.HasSuffix(fn, snapTempSuffix) {
			if err := os.Remove(filepath.Join(cfg.Dir, fn)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("snapshots: remove stale temporary file", "file", fn, "err", err)
			}
			continue
		}
		name, ok := strings.CutSuffix(fn, snapExt)
		if !ok || validName(name) != nil {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("snapshots: scan directory: %w", err)
		}
		s.files[name] = snapFile{size: fi.Size(), mod: fi.ModTime()}
		s.bytes += fi.Size()
	}
	return s, nil
}

// Save draws marks and caption on a copy of img (a BGR picture, which is
// neither modified nor closed), encodes it as JPEG and writes it atomically
// as Dir/<name>.jpg, replacing a snapshot of that name. It returns the
// file's path. name must match [a-zA-Z0-9_-]+. Once written, the oldest
// snapshots are removed until the total is within MaxBytes; failing to
// remove them is logged and counted, not returned, as the snapshot itself
// was saved.
func (s *Snapshots) Save(name string, img gocv.Mat, marks []Mark, caption string) (string, error) {
	path, err := s.save(name, img, marks, caption)
	if err != nil {
		s.mu.Lock()
		s.stats.Errors++
		s.mu.Unlock()
		return "", fmt.Errorf("save snapshot %q: %w", name, err)
	}
	return path, nil
}

func (s *Snapshots) save(name string, img gocv.Mat, marks []Mark, caption string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	jpg, err := s.render(img, marks, caption)
	if err != nil {
		return "", err
	}
	tmp, err := writeTemp(s.cfg.Dir, jpg)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	path := filepath.Join(s.cfg.Dir, name+snapExt)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if old, ok := s.files[name]; ok {
		s.bytes -= old.size
	}
	s.files[name] = snapFile{size: fi.Size(), mod: fi.ModTime()}
	s.bytes += fi.Size()
	s.stats.Saved++
	if _, err := s.evictLocked(name); err != nil {
		s.log.Warn("snapshots: enforce size limit", "err", err)
	}
	return path, nil
}

// writeTemp writes data to a new temporary file in dir, synced so that a
// crash after the rename cannot leave an empty snapshot behind.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, snapTempPrefix+"*"+snapTempSuffix)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o640)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

var (
	threatColor = color.RGBA{R: 255, A: 255} // BGR (0,0,255)
	markColor   = color.RGBA{G: 255, A: 255} // BGR (0,255,0)
	black       = color.RGBA{A: 255}
	white       = color.RGBA{R: 255, G: 255, B: 255, A: 255}
)

const snapFont = gocv.FontHersheySimplex

// render draws on a clone and encodes it. Line widths and text scale with
// the picture, so a 4K snapshot is as legible on a phone as a 576p one.
func (s *Snapshots) render(img gocv.Mat, marks []Mark, caption string) ([]byte, error) {
	if img.Empty() {
		return nil, errors.New("empty picture")
	}
	if img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("picture of type %v, want BGR (%v)", img.Type(), gocv.MatTypeCV8UC3)
	}
	pic := img.Clone()
	defer pic.Close()
	w, h := pic.Cols(), pic.Rows()
	k := float64(min(w, h)) / 576
	st := drawStyle{
		line:      max(2, int(math.Round(2*k))),
		fontScale: math.Max(0.4, 0.6*k),
		textLine:  max(1, int(math.Round(k))),
		pad:       max(3, int(math.Round(4*k))),
	}
	cl := st.layoutCaption(caption, w, h)
	for _, m := range marks {
		st.mark(&pic, m, cl.band)
	}
	// The caption goes on last so boxes under its band never hide its text;
	// they stay visible through the band, only darker.
	st.caption(&pic, cl)
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, pic, []int{gocv.IMWriteJpegQuality, s.cfg.Quality})
	if err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}

type drawStyle struct {
	line      int     // box line width
	fontScale float64 // Hershey font scale
	textLine  int     // text stroke width
	pad       int     // padding around text on its band
}

// captionLayout is where a caption goes: a full-width band of height band
// at the top, text with its baseline at y = base.
type captionLayout struct {
	text       string
	band, base int
}

// layoutCaption cuts text wider than the picture with "..."; an empty
// caption has no band.
func (st drawStyle) layoutCaption(text string, w, h int) captionLayout {
	text = st.fit(printable(text), w-2*st.pad)
	if text == "" {
		return captionLayout{}
	}
	sz, base := gocv.GetTextSizeWithBaseline(text, snapFont, st.fontScale, st.textLine)
	return captionLayout{text: text, band: min(h, sz.Y+base+2*st.pad), base: st.pad + sz.Y}
}

// caption darkens the band and writes the text on it in white.
func (st drawStyle) caption(pic *gocv.Mat, c captionLayout) {
	if c.text == "" {
		return
	}
	band := pic.Region(image.Rect(0, 0, pic.Cols(), c.band))
	band.MultiplyFloat(0.3)
	band.Close()
	gocv.PutText(pic, c.text, image.Pt(st.pad, c.base), snapFont, st.fontScale, white, st.textLine)
}

// mark draws a box and its label on a band in the box's colour: above the
// box when there is room below the caption band (top), else inside it.
func (st drawStyle) mark(pic *gocv.Mat, m Mark, top int) {
	w, h := pic.Cols(), pic.Rows()
	b := m.Box.Clip(float64(w-1), float64(h-1))
	r := image.Rect(int(math.Round(b.X1)), int(math.Round(b.Y1)), int(math.Round(b.X2)), int(math.Round(b.Y2)))
	if r.Empty() {
		return
	}
	c, textC := markColor, black
	if m.Threat {
		c, textC = threatColor, white
	}
	gocv.Rectangle(pic, r, c, st.line)
	label := printable(m.Label)
	if label == "" {
		return
	}
	label = st.fit(label, w-2*st.pad)
	sz, base := gocv.GetTextSizeWithBaseline(label, snapFont, st.fontScale, st.textLine)
	lw, lh := sz.X+2*st.pad, sz.Y+base+2*st.pad
	y := r.Min.Y - st.line/2 - lh
	if y < top {
		y = max(r.Min.Y, top)
	}
	x := min(r.Min.X-st.line/2, w-lw)
	lr := image.Rect(x, y, x+lw, y+lh).Intersect(image.Rect(0, 0, w, h))
	gocv.Rectangle(pic, lr, c, -1)
	gocv.PutText(pic, label, image.Pt(lr.Min.X+st.pad, lr.Min.Y+st.pad+sz.Y), snapFont, st.fontScale, textC, st.textLine)
}

// fit shortens text with "..." until it is at most width pixels wide.
func (st drawStyle) fit(text string, width int) string {
	if gocv.GetTextSize(text, snapFont, st.fontScale, st.textLine).X <= width {
		return text
	}
	r := []rune(text)
	for len(r) > 0 {
		r = r[:len(r)-1]
		t := strings.TrimRight(string(r), " ") + "..."
		if gocv.GetTextSize(t, snapFont, st.fontScale, st.textLine).X <= width {
			return t
		}
	}
	return ""
}

// printable replaces what the Hershey fonts cannot draw (anything but
// printable ASCII) with '?', and trims spaces.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s))
}

// validName accepts [a-zA-Z0-9_-]{1,maxNameLen}: no separators, no dots,
// so a name can never leave Dir or collide with a temporary file.
func validName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("invalid name: want 1-%d characters, got %d", maxNameLen, len(name))
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return errors.New("invalid name: want only letters, digits, '_' and '-'")
		}
	}
	return nil
}

// Sweep removes the snapshots whose modification time is more than MaxAge
// before now, then the oldest until the total is within MaxBytes. It
// returns how many it removed; a failed removal does not stop it and is
// returned (joined with any others) after the rest is done.
func (s *Snapshots) Sweep(now time.Time) (removed int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, f := range s.files {
		if now.Sub(f.mod) <= s.cfg.MaxAge {
			continue
		}
		gone, err := s.removeLocked(name)
		if err != nil {
			errs = append(errs, err)
		} else if gone {
			removed++
		}
	}
	n, err := s.evictLocked("")
	removed += n
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("sweep snapshots: %w", err)
	}
	return removed, nil
}

// evictLocked removes the oldest snapshots, but never the newest one nor
// keep, until the total is within MaxBytes.
func (s *Snapshots) evictLocked(keep string) (removed int, err error) {
	if s.bytes <= s.cfg.MaxBytes || len(s.files) <= 1 {
		return 0, nil
	}
	names := make([]string, 0, len(s.files))
	for name := range s.files {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.files[names[i]], s.files[names[j]]
		if !a.mod.Equal(b.mod) {
			return a.mod.Before(b.mod)
		}
		return names[i] < names[j]
	})
	var errs []error
	for _, name := range names[:len(names)-1] {
		if s.bytes <= s.cfg.MaxBytes {
			break
		}
		if name == keep {
			continue
		}
		gone, err := s.removeLocked(name)
		if err != nil {
			errs = append(errs, err)
		} else if gone {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// removeLocked deletes one snapshot and reports whether it did. One
// already gone (deleted by hand) only leaves the accounting.
func (s *Snapshots) removeLocked(name string) (bool, error) {
	err := os.Remove(filepath.Join(s.cfg.Dir, name+snapExt))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.stats.Errors++
		return false, fmt.Errorf("remove snapshot: %w", err)
	}
	s.bytes -= s.files[name].size
	delete(s.files, name)
	if err != nil {
		return false, nil
	}
	s.stats.Removed++
	return true, nil
}

// Run sweeps at once and then every interval (0 means an hour) until ctx
// is done. Failures are logged; the next sweep tries again.
func (s *Snapshots) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.Sweep(time.Now())
		if err != nil {
			s.log.Warn("snapshots: sweep", "removed", n, "err", err)
		} else if n > 0 {
			s.log.Debug("snapshots: swept", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stats returns the current accounting and counters.
func (s *Snapshots) Stats() SnapshotStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Files = len(s.files)
	st.Bytes = s.bytes
	return st
}

// Handler serves GET and HEAD /<name>.jpg (mount it with http.StripPrefix;
// the leading slash is optional) and nothing else: other paths are 404,
// there is no listing, and a name must be valid, so no request can reach
// outside Dir. Responses are private to the viewer (they show people) and
// revalidated, since a snapshot may be replaced under the same name.
func (s *Snapshots) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		fn := strings.TrimPrefix(r.URL.Path, "/")
		name, ok := strings.CutSuffix(fn, snapExt)
		if !ok || validName(name) != nil {
			http.NotFound(w, r)
			return
		}
		// OpenInRoot also refuses a symlink that points out of Dir.
		f, err := os.OpenInRoot(s.cfg.Dir, fn)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("snapshots: open", "file", fn, "err", err)
			}
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "private, no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, fn, fi.ModTime(), f)
	})
}
