package pos

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/storesight/storesight/evidence"
	"github.com/storesight/storesight/geom"
	"github.com/storesight/storesight/pipeline"
	"github.com/storesight/storesight/tracker"
)

// Defaults for PresenceConfig.
const (
	DefaultHistory       = 10 * time.Minute
	DefaultSnapshotEvery = time.Second
)

const (
	// minSampleSpacing caps a camera's frame history at History divided by
	// it (200 frames a second of history), so a camera analysed faster
	// than that, or with a broken clock, cannot grow it without bound: the
	// oldest frames go first.
	minSampleSpacing = 5 * time.Millisecond
	// minSamples is the least capacity of that cap, for a short History.
	minSamples = 1024
	// maxJPEGBytes caps one camera's stored pictures; beyond it the oldest
	// go, whatever History says (a 4K camera at the default rate would
	// otherwise hold hundreds of megabytes).
	maxJPEGBytes = 64 << 20
	// jpegQuality is good enough to recognise a person at a counter and
	// keeps a 720p picture near 60 KB.
	jpegQuality = 75
	// minSnapshotReach is the least distance from the asked time at which
	// Snapshot still returns a picture.
	minSnapshotReach = 2 * time.Second
)

// PresenceConfig configures a Presence.
type PresenceConfig struct {
	// Registers are the registers to watch; at least one.
	Registers []Register
	// PersonClass is the detector class of people; tracks of other
	// classes are ignored.
	PersonClass int
	// History is how much event time is kept per camera; 0 means
	// DefaultHistory. It bounds how late a transaction may arrive and
	// still be checked against the video.
	History time.Duration
	// SnapshotEvery is the least event time between two stored pictures
	// of a register camera; 0 means DefaultSnapshotEvery.
	SnapshotEvery time.Duration
	// Log receives picture encoding failures; nil means slog.Default.
	Log *slog.Logger
}

// Presence remembers, for every camera that sees a register, who stood in
// the registers' customer and staff zones in each analysed frame, over the
// last History of event time, plus a JPEG of the frame every
// SnapshotEvery. Transactions are checked against it after the fact: the
// POS message may arrive seconds or minutes after the video went by.
//
// It is a pipeline.Output: Result is called from the camera workers
// (concurrently for different cameras), Window, Latest and Snapshot from
// the correlator. Each camera has its own mutex, held for a few
// microseconds per frame; frame samples live in a ring whose slots are
// reused, so a frame costs no allocation once the ring is warm, and only
// one frame per SnapshotEvery is JPEG-encoded (outside the lock).
type Presence struct {
	person     int
	history    int64 // ns
	snapEvery  int64 // ns
	maxSamples int
	log        *slog.Logger
	// cams and regs are built by NewPresence and never change, so lookups
	// need no lock.
	cams map[string]*camHistory
	regs map[string]regRef
}

// regRef locates a register's data.
type regRef struct {
	reg Register
	cam *camHistory
	idx int32 // index in cam.regs
}

// zoneBits says which of a register's zones a person is in.
type zoneBits uint8

const (
	inCustomer zoneBits = 1 << iota
	inStaff
)

// zonePerson is one person in one register's zones in one frame.
type zonePerson struct {
	box  geom.Box
	id   uint64
	reg  int32 // index in camHistory.regs
	zone zoneBits
}

// sample is one analysed frame. Times are Unix nanoseconds: no location
// pointer for the garbage collector to follow in a ring of thousands.
type sample struct {
	t, frame int64
	people   []zonePerson
}

// picture is one stored JPEG with the zone people of its frame.
type picture struct {
	t, frame int64
	jpeg     []byte // never modified once stored, so readers may use it unlocked
	people   []zonePerson
}

// camHistory is one camera's history.
type camHistory struct {
	regs []Register

	mu        sync.Mutex
	samples   sampleRing
	pics      []picture // oldest first
	picBytes  int
	lastPic   int64 // time of the last picture taken (or reserved)
	havePic   bool
	latest    int64
	haveFrame bool
	ended     bool
}

// NewPresence checks cfg and applies the defaults.
func NewPresence(cfg PresenceConfig) (*Presence, error) {
	if err := validateRegisters(cfg.Registers); err != nil {
		return nil, fmt.Errorf("pos: new presence: %w", err)
	}
	switch {
	case cfg.PersonClass < 0:
		return nil, fmt.Errorf("pos: new presence: person class %d is negative", cfg.PersonClass)
	case cfg.History < 0:
		return nil, fmt.Errorf("pos: new presence: history %s is negative", cfg.History)
	case cfg.SnapshotEvery < 0:
		return nil, fmt.Errorf("pos: new presence: snapshot interval %s is negative", cfg.SnapshotEvery)
	}
	if cfg.History == 0 {
		cfg.History = DefaultHistory
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = DefaultSnapshotEvery
	}
	p := &Presence{
		person:     cfg.PersonClass,
		history:    int64(cfg.History),
		snapEvery:  int64(cfg.SnapshotEvery),
		maxSamples: max(minSamples, int(cfg.History/minSampleSpacing)),
		log:        cfg.Log,
		cams:       make(map[string]*camHistory),
		regs:       make(map[string]regRef, len(cfg.Registers)),
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	for _, r := range cfg.Registers {
		r.CustomerZone = append(geom.Polygon(nil), r.CustomerZone...)
		r.StaffZone = append(geom.Polygon(nil), r.StaffZone...)
		c := p.cams[r.Camera]
		if c == nil {
			c = &camHistory{samples: sampleRing{max: p.maxSamples}}
			p.cams[r.Camera] = c
		}
		p.regs[r.ID] = regRef{reg: r, cam: c, idx: int32(len(c.regs))}
		c.regs = append(c.regs, r)
	}
	return p, nil
}

// register returns the register with that id as the Presence knows it.
func (p *Presence) register(id string) (Register, bool) {
	ref, ok := p.regs[id]
	return ref.reg, ok
}

// Result records one analysed frame of a register camera; results of
// other cameras are ignored. The Final result marks the camera ended until
// its next frame. A frame older than the newest one recorded (the stream's
// clock went back) drops the newer history, so the history stays in time
// order and follows the camera's current clock.
func (p *Presence) Result(r *pipeline.Result) {
	c := p.cams[r.Camera]
	if c == nil {
		return
	}
	if r.Final {
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
		return
	}
	if r.Time.IsZero() {
		return
	}
	t := r.Time.UnixNano()

	c.mu.Lock()
	if c.haveFrame && t < c.latest {
		c.rewind(t)
	}
	s := c.samples.push()
	s.t, s.frame = t, r.Frame
	for i := range r.Tracks {
		tr := &r.Tracks[i]
		if tr.Class != p.person || tr.State != tracker.Confirmed {
			continue
		}
		pt := tr.Box.BottomCenter()
		if !finite(pt) {
			continue
		}
		for k := range c.regs {
			reg := &c.regs[k]
			var z zoneBits
			if reg.CustomerZone.Contains(pt) {
				z |= inCustomer
			}
			if len(reg.StaffZone) > 0 && reg.StaffZone.Contains(pt) {
				z |= inStaff
			}
			if z != 0 && !hasPerson(s.people, int32(k), tr.ID) {
				s.people = append(s.people, zonePerson{box: tr.Box, id: tr.ID, reg: int32(k), zone: z})
			}
		}
	}
	c.latest, c.haveFrame, c.ended = t, true, false
	for c.samples.n > 1 && c.samples.at(0).t < t-p.history {
		c.samples.popFront()
	}
	takePic := r.Image.Ptr() != nil && !r.Image.Empty() && (!c.havePic || t-c.lastPic >= p.snapEvery)
	var people []zonePerson
	if takePic {
		c.lastPic, c.havePic = t, true
		people = append([]zonePerson(nil), s.people...)
	}
	c.mu.Unlock()

	if !takePic {
		return
	}
	jpeg, err := encodeJPEG(r.Image)
	if err != nil {
		p.log.Warn("pos: presence: encode register picture", "camera", r.Camera, "frame", r.Frame, "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.pics); n > 0 && c.pics[n-1].t > t {
		return // the clock went back while encoding; this picture is stale
	}
	c.pics = append(c.pics, picture{t: t, frame: r.Frame, jpeg: jpeg, people: people})
	c.picBytes += len(jpeg)
	drop := 0
	for drop < len(c.pics)-1 && (c.pics[drop].t < c.latest-p.history || c.picBytes > maxJPEGBytes) {
		c.picBytes -= len(c.pics[drop].jpeg)
		drop++
	}
	if drop > 0 {
		clear(c.pics[:drop])
		c.pics = c.pics[drop:]
	}
}

// rewind forgets every frame and picture after t. Called with mu held.
func (c *camHistory) rewind(t int64) {
	c.samples.truncate(c.samples.search(t + 1))
	keep := sort.Search(len(c.pics), func(i int) bool { return c.pics[i].t > t })
	for _, pic := range c.pics[keep:] {
		c.picBytes -= len(pic.jpeg)
	}
	clear(c.pics[keep:])
	c.pics = c.pics[:keep]
	c.havePic = keep > 0
	if c.havePic {
		c.lastPic = c.pics[keep-1].t
	}
}

func hasPerson(ps []zonePerson, reg int32, id uint64) bool {
	for i := range ps {
		if ps[i].reg == reg && ps[i].id == id {
			return true
		}
	}
	return false
}

func finite(p geom.Point) bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}

// encodeJPEG encodes img; the bytes are copied out of OpenCV's buffer.
func encodeJPEG(img gocv.Mat) ([]byte, error) {
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, jpegQuality})
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes()), nil
}

// Window is what the video of one register showed between From and To
// (event time of its camera, both included).
type Window struct {
	From, To time.Time
	// Frames is the number of analysed frames in the window; First and
	// Last are the times of the first and last of them.
	Frames      int
	First, Last time.Time
	// MaxGap is the longest time between two consecutive analysed frames
	// in the window.
	MaxGap time.Duration
	// CustomerMax is the most people seen at once in the customer zone;
	// CustomerFrames the number of frames with at least one.
	CustomerMax, CustomerFrames int
	// CustomerTracks are the track ids seen in the customer zone, sorted.
	CustomerTracks []uint64
	// StaffMax is the most people seen at once in the staff zone.
	StaffMax int
	// Ended says the camera's stream ended (its Final result came) and no
	// frame came since: no more video will come for the window.
	Ended bool
}

// ErrUnknownRegister is returned for a register the Presence does not
// watch.
var ErrUnknownRegister = errors.New("pos: unknown register")

// Window summarises the register's frames from from to to. Frames older
// than History before the camera's newest are forgotten, so a window that
// old has no frames.
func (p *Presence) Window(register string, from, to time.Time) (Window, error) {
	ref, ok := p.regs[register]
	if !ok {
		return Window{}, fmt.Errorf("pos: presence window of %q: %w", register, ErrUnknownRegister)
	}
	w := Window{From: from, To: to}
	f, l := from.UnixNano(), to.UnixNano()
	tracks := map[uint64]struct{}{}
	var first, prev, gap int64
	c := ref.cam
	c.mu.Lock()
	w.Ended = c.ended
	for i := c.samples.search(f); i < c.samples.n; i++ {
		s := c.samples.at(i)
		if s.t > l {
			break
		}
		if w.Frames == 0 {
			first = s.t
		} else {
			gap = max(gap, s.t-prev)
		}
		prev = s.t
		w.Frames++
		customers, staff := 0, 0
		for j := range s.people {
			zp := &s.people[j]
			if zp.reg != ref.idx {
				continue
			}
			if zp.zone&inCustomer != 0 {
				customers++
				tracks[zp.id] = struct{}{}
			}
			if zp.zone&inStaff != 0 {
				staff++
			}
		}
		if customers > 0 {
			w.CustomerFrames++
		}
		w.CustomerMax = max(w.CustomerMax, customers)
		w.StaffMax = max(w.StaffMax, staff)
	}
	c.mu.Unlock()
	if w.Frames > 0 {
		w.First, w.Last, w.MaxGap = unixTime(first), unixTime(prev), time.Duration(gap)
	}
	w.CustomerTracks = make([]uint64, 0, len(tracks))
	for id := range tracks {
		w.CustomerTracks = append(w.CustomerTracks, id)
	}
	sort.Slice(w.CustomerTracks, func(i, j int) bool { return w.CustomerTracks[i] < w.CustomerTracks[j] })
	return w, nil
}

// customerFrames calls fn with the time (Unix ns) of every frame from from
// to to in which someone stood in the register's customer zone. fn runs
// with the camera's lock held: it must be quick and must not call p.
func (p *Presence) customerFrames(register string, from, to time.Time, fn func(t int64)) error {
	ref, ok := p.regs[register]
	if !ok {
		return fmt.Errorf("pos: presence of %q: %w", register, ErrUnknownRegister)
	}
	f, l := from.UnixNano(), to.UnixNano()
	c := ref.cam
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := c.samples.search(f); i < c.samples.n; i++ {
		s := c.samples.at(i)
		if s.t > l {
			break
		}
		for j := range s.people {
			if s.people[j].reg == ref.idx && s.people[j].zone&inCustomer != 0 {
				fn(s.t)
				break
			}
		}
	}
	return nil
}

// Latest returns the event time of the camera's newest analysed frame
// (zero if none came yet) and whether its stream ended since.
func (p *Presence) Latest(camera string) (t time.Time, ended bool) {
	c := p.cams[camera]
	if c == nil {
		return time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.haveFrame {
		return time.Time{}, c.ended
	}
	return unixTime(c.latest), c.ended
}

// Snapshot returns the register camera's stored picture nearest at,
// decoded (the caller owns img and must Close it), its event time, and a
// mark for each person in the register's customer zone ("customer <id>")
// and staff zone ("staff <id>") in that frame. ok is false when no picture
// lies within max(2·SnapshotEvery, 2 s) of at: a picture from another
// moment would show something else than what was checked.
func (p *Presence) Snapshot(register string, at time.Time) (img gocv.Mat, t time.Time, marks []evidence.Mark, ok bool) {
	img, t, _, marks, ok = p.snapshot(register, at)
	return img, t, marks, ok
}

// snapshot is Snapshot that also returns the picture's frame index.
func (p *Presence) snapshot(register string, at time.Time) (img gocv.Mat, t time.Time, frame int64, marks []evidence.Mark, ok bool) {
	ref, known := p.regs[register]
	if !known {
		return gocv.Mat{}, time.Time{}, 0, nil, false
	}
	a := at.UnixNano()
	reach := max(2*p.snapEvery, int64(minSnapshotReach))
	c := ref.cam
	c.mu.Lock()
	i := sort.Search(len(c.pics), func(i int) bool { return c.pics[i].t >= a })
	best := -1
	for _, j := range []int{i - 1, i} {
		if j < 0 || j >= len(c.pics) {
			continue
		}
		if best < 0 || absDiff(c.pics[j].t, a) < absDiff(c.pics[best].t, a) {
			best = j
		}
	}
	var pic picture
	if best >= 0 && absDiff(c.pics[best].t, a) <= reach {
		pic = c.pics[best]
		ok = true
	}
	c.mu.Unlock()
	if !ok {
		return gocv.Mat{}, time.Time{}, 0, nil, false
	}
	img, err := gocv.IMDecode(pic.jpeg, gocv.IMReadColor)
	if err != nil || img.Empty() {
		if err == nil {
			img.Close()
		}
		p.log.Warn("pos: presence: decode register picture", "register", register, "err", err)
		return gocv.Mat{}, time.Time{}, 0, nil, false
	}
	for _, zp := range pic.people {
		if zp.reg != ref.idx {
			continue
		}
		id := strconv.FormatUint(zp.id, 10)
		if zp.zone&inCustomer != 0 {
			marks = append(marks, evidence.Mark{Box: zp.box, Label: "customer " + id})
		}
		if zp.zone&inStaff != 0 {
			marks = append(marks, evidence.Mark{Box: zp.box, Label: "staff " + id})
		}
	}
	return img, unixTime(pic.t), pic.frame, marks, true
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// sampleRing is a circular buffer of frame samples in time order. It
// grows by doubling up to max, then overwrites its oldest; a slot's people
// slice keeps its capacity when reused.
type sampleRing struct {
	buf     []sample
	head, n int
	max     int
}

func (r *sampleRing) at(i int) *sample { return &r.buf[(r.head+i)%len(r.buf)] }

// push appends an empty sample and returns it for filling.
func (r *sampleRing) push() *sample {
	if r.n == len(r.buf) {
		if len(r.buf) < r.max {
			nb := make([]sample, min(max(2*len(r.buf), 64), r.max))
			for i := 0; i < r.n; i++ {
				nb[i] = *r.at(i)
			}
			r.buf, r.head = nb, 0
		} else {
			r.popFront()
		}
	}
	s := r.at(r.n)
	r.n++
	s.people = s.people[:0]
	return s
}

// popFront forgets the oldest sample.
func (r *sampleRing) popFront() {
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

// truncate keeps the oldest n samples.
func (r *sampleRing) truncate(n int) { r.n = n }

// search returns the index of the first sample at or after t.
func (r *sampleRing) search(t int64) int {
	return sort.Search(r.n, func(i int) bool { return r.at(i).t >= t })
}
