package sms

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	"github.com/storesight/storesight/alerts"
)

// inboxSize bounds the alert steps held in memory between Notify and the
// owner goroutine; beyond it steps go to the spool file.
const inboxSize = 256

// inbox carries alert steps from Notify (any goroutine) to Run without
// blocking the caller and without losing a step: when the channel is full,
// or no Run is draining it, steps are appended to a spool file. Once a
// step has been spooled, later ones are spooled too until Run has taken the
// file, so that steps stay in order.
type inbox struct {
	ch     chan alerts.Alert
	signal chan struct{} // the spool has steps
	path   string
	log    *slog.Logger

	mu       sync.Mutex
	spooling bool
	stopped  bool
}

func newInbox(path string, log *slog.Logger) *inbox {
	return &inbox{
		ch:     make(chan alerts.Alert, inboxSize),
		signal: make(chan struct{}, 1),
		path:   path,
		log:    log,
	}
}

func (q *inbox) put(a alerts.Alert) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.spooling && !q.stopped {
		select {
		case q.ch <- a:
			return
		default:
		}
	}
	q.spooling = true
	if err := q.spool(a); err != nil {
		q.log.Error("sms: alert step lost, spool failed", "alert", a.ID, "state", a.State, "err", err)
	}
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *inbox) spool(a alerts.Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	f, err := os.OpenFile(q.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync spool: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

// take returns every waiting step, oldest first: the channel's (which
// precede any spooled ones), then the spool's. stop says whether Run is
// stopping, after which Notify spools everything for the next Run.
func (q *inbox) take(stop bool) ([]alerts.Alert, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []alerts.Alert
	for {
		select {
		case a := <-q.ch:
			out = append(out, a)
			continue
		default:
		}
		break
	}
	spooled, err := q.readSpool()
	if err == nil {
		if rerr := os.Remove(q.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("remove spool: %w", rerr)
		}
	}
	if err != nil {
		// Leave the file for the next take and keep spooling, so its
		// steps are neither lost, repeated nor overtaken.
		return out, err
	}
	out = append(out, spooled...)
	q.spooling = false
	q.stopped = stop
	return out, nil
}

// start lets Notify use the channel again and has Run read what was
// spooled while it was not running.
func (q *inbox) start() {
	q.mu.Lock()
	q.stopped = false
	q.spooling = true // until the spool is taken
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *inbox) readSpool() ([]alerts.Alert, error) {
	f, err := os.Open(q.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	defer f.Close()
	var out []alerts.Alert
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var a alerts.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			// A torn last line: the step was never acknowledged as spooled.
			q.log.Warn("sms: skipping unreadable spooled alert step", "err", err)
			continue
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read spool: %w", err)
	}
	return out, nil
}
