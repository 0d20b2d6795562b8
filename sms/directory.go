package sms

import "sync"

// directory answers the webhook's questions (which alert is ref 4821,
// which alert did this number get last) from the webhook's goroutines,
// while the alert records stay owned by Run, which keeps it up to date.
type directory struct {
	mu     sync.Mutex
	refs   map[string]dirEntry
	latest map[string]string // number -> ref of the latest alert delivered to it
}

type dirEntry struct {
	alertID string
	closed  bool
}

func newDirectory() *directory {
	return &directory{refs: make(map[string]dirEntry), latest: make(map[string]string)}
}

func (d *directory) set(ref, alertID string, closed bool) {
	d.mu.Lock()
	d.refs[ref] = dirEntry{alertID: alertID, closed: closed}
	d.mu.Unlock()
}

func (d *directory) delivered(num, ref string) {
	d.mu.Lock()
	d.latest[num] = ref
	d.mu.Unlock()
}

func (d *directory) remove(ref string) {
	d.mu.Lock()
	delete(d.refs, ref)
	for num, r := range d.latest {
		if r == ref {
			delete(d.latest, num)
		}
	}
	d.mu.Unlock()
}

func (d *directory) used(ref string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.refs[ref]
	return ok
}

// lookup resolves a reply: by ref, or, without one, the latest alert the
// number was texted about.
func (d *directory) lookup(ref, num string) (string, dirEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ref == "" {
		r, ok := d.latest[num]
		if !ok {
			return "", dirEntry{}, false
		}
		ref = r
	}
	e, ok := d.refs[ref]
	return ref, e, ok
}

// markClosed records that ref was answered, ahead of Run hearing of it,
// so that a second reply is told at once.
func (d *directory) markClosed(ref string) {
	d.mu.Lock()
	if e, ok := d.refs[ref]; ok {
		e.closed = true
		d.refs[ref] = e
	}
	d.mu.Unlock()
}
