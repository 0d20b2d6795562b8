package events

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Spill file names inside Config.SpillDir. One sink per directory.
const (
	spillFileName      = "spill.jsonl"
	deadLetterFileName = "failed.jsonl"
)

// spillFile is the append-only JSON-lines overflow of the sink queue: one
// encoded envelope per line, replayed from the front while new events are
// appended at the back. Replay progress is kept in memory only, so a crash
// during replay re-sends the replayed prefix on restart (at least once,
// consumers de-duplicate by id). Appends are not fsynced one by one (the
// data survives a process crash, not a power cut); Close syncs.
//
// append, pending, commit and rescue are called with the sink's mutex
// held; read is called by the writer goroutine without it, and only reads
// bytes below the size it saw under the lock, which are complete lines.
type spillFile struct {
	dir  string
	path string
	w    *os.File // open for append while the file exists
	size int64    // bytes in the file
	off  int64    // bytes already replayed to Kafka
}

// openSpill prepares dir and picks up a spill file left by an earlier run,
// so its events are replayed first.
func openSpill(dir string) (*spillFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("events: create spill dir: %w", err)
	}
	s := &spillFile{dir: dir, path: filepath.Join(dir, spillFileName)}
	st, err := os.Stat(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("events: stat spill file: %w", err)
	case st.Size() == 0:
		if err := os.Remove(s.path); err != nil {
			return nil, fmt.Errorf("events: remove empty spill file: %w", err)
		}
		return s, nil
	}
	if err := s.openAppend(); err != nil {
		return nil, err
	}
	s.size = st.Size()
	// A crash in the middle of an append leaves a partial last line; end it
	// so replay treats it as one unreadable line instead of waiting forever
	// for the rest of it.
	last := make([]byte, 1)
	r, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("events: open spill file: %w", err)
	}
	defer r.Close()
	if _, err := r.ReadAt(last, s.size-1); err != nil {
		return nil, fmt.Errorf("events: read spill file: %w", err)
	}
	if last[0] != '\n' {
		if err := s.append(nil); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *spillFile) openAppend() error {
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("events: open spill file: %w", err)
	}
	s.w = f
	return nil
}

// pending reports whether events wait in the file; while they do, new
// events must be appended behind them to keep per-camera order.
func (s *spillFile) pending() bool { return s.size > s.off }

// append writes one encoded envelope as a line.
func (s *spillFile) append(line []byte) error {
	if s.w == nil {
		if err := s.openAppend(); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	n, err := s.w.Write(buf)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("events: append to spill file: %w", err)
	}
	return nil
}

// spillLine is one line read back: the envelope, or why it is unreadable.
type spillLine struct {
	env Envelope
	raw []byte
	err error
}

// read returns up to max lines from the replay position, not past limit
// (the size seen under the lock), and the offset after them.
func (s *spillFile) read(from, limit int64, max int) ([]spillLine, int64, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, from, fmt.Errorf("events: open spill file for replay: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(io.NewSectionReader(f, from, limit-from))
	var out []spillLine
	off := from
	for len(out) < max {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break // below limit every line is complete; a tail without '\n' is not ours yet
		}
		if err != nil {
			return out, off, fmt.Errorf("events: read spill file: %w", err)
		}
		off += int64(len(b))
		raw := b[:len(b)-1]
		var l spillLine
		l.raw = raw
		if err := json.Unmarshal(raw, &l.env); err != nil {
			l.err = err
		} else if err := l.env.Validate(); err != nil {
			l.err = err
		}
		out = append(out, l)
	}
	return out, off, nil
}

// commit records that everything before off reached Kafka; once the whole
// file has, it is removed and the sink goes back to its in-memory queue.
func (s *spillFile) commit(off int64) error {
	s.off = off
	if s.pending() {
		return nil
	}
	return s.reset()
}

func (s *spillFile) reset() error {
	var errs []error
	if s.w != nil {
		errs = append(errs, s.w.Close())
		s.w = nil
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	s.size, s.off = 0, 0
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("events: remove replayed spill file: %w", err)
	}
	return nil
}

// rescue keeps events that were taken off the queue but not delivered when
// the sink had to stop: they go in front of what is still waiting in the
// file (they are older), and the replayed prefix is dropped. The new file
// replaces the old one atomically.
func (s *spillFile) rescue(lines [][]byte) error {
	if len(lines) == 0 && !s.pending() {
		return s.close()
	}
	tmp, err := os.CreateTemp(s.dir, spillFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("events: rescue undelivered events: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	bw := bufio.NewWriter(tmp)
	for _, l := range lines {
		bw.Write(l)
		bw.WriteByte('\n')
	}
	if s.pending() {
		f, err := os.Open(s.path)
		if err != nil {
			tmp.Close()
			return fmt.Errorf("events: rescue undelivered events: %w", err)
		}
		_, err = io.Copy(bw, io.NewSectionReader(f, s.off, s.size-s.off))
		f.Close()
		if err != nil {
			tmp.Close()
			return fmt.Errorf("events: rescue undelivered events: %w", err)
		}
	}
	if err := errors.Join(bw.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("events: rescue undelivered events: %w", err)
	}
	if s.w != nil {
		s.w.Close()
		s.w = nil
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("events: rescue undelivered events: %w", err)
	}
	st, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("events: rescue undelivered events: %w", err)
	}
	s.size, s.off = st.Size(), 0
	return nil
}

// close syncs and closes the append handle, leaving unreplayed events in
// place for the next run.
func (s *spillFile) close() error {
	if s.w == nil {
		return nil
	}
	err := errors.Join(s.w.Sync(), s.w.Close())
	s.w = nil
	if err != nil {
		return fmt.Errorf("events: close spill file: %w", err)
	}
	return nil
}

// deadLetter appends events the broker rejected for good (or that cannot
// be decoded) to failed.jsonl, so they are kept for a person to look at
// rather than retried forever or silently lost.
func (s *spillFile) deadLetter(lines [][]byte) error {
	f, err := os.OpenFile(filepath.Join(s.dir, deadLetterFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("events: open dead-letter file: %w", err)
	}
	bw := bufio.NewWriter(f)
	for _, l := range lines {
		bw.Write(l)
		bw.WriteByte('\n')
	}
	if err := errors.Join(bw.Flush(), f.Close()); err != nil {
		return fmt.Errorf("events: write dead-letter file: %w", err)
	}
	return nil
}

// lines counts the events not yet replayed, for reporting.
func (s *spillFile) lines() int {
	f, err := os.Open(s.path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	br := bufio.NewReader(io.NewSectionReader(f, s.off, s.size-s.off))
	for {
		if _, err := br.ReadSlice('\n'); err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return n
		}
		n++
	}
}
