package sms

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// journal is a durable key-value log: each put appends the whole new value
// of a key as one JSON line and syncs it, so the last complete line for a
// key is its state after a crash. Rewriting a file in place could leave
// neither the old nor the new state; appending cannot. The log is
// compacted (rewritten with only live values, then renamed over the old
// one) when opened and when dead lines outnumber live ones.
//
// A journal is used by one goroutine at a time (New, then Run).
type journal struct {
	path  string
	f     *os.File
	live  map[string]json.RawMessage
	lines int // lines in the file, live or superseded
}

type journalLine struct {
	K string          `json:"k"`
	V json.RawMessage `json:"v,omitempty"`
	D bool            `json:"d,omitempty"` // deleted
}

// loadJournal reads path (missing is empty) and returns the live values.
// A torn last line from a crash mid-write is skipped; so is any other
// undecodable line, counted in bad, as the rest is still worth resuming.
func loadJournal(path string) (live map[string]json.RawMessage, bad int, err error) {
	live = make(map[string]json.RawMessage)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return live, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read journal: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.K == "" {
			bad++
			continue
		}
		if l.D {
			delete(live, l.K)
		} else {
			live[l.K] = l.V
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("scan journal: %w", err)
	}
	return live, bad, nil
}

// openJournal compacts the journal at path from live and opens it for
// appending.
func openJournal(path string, live map[string]json.RawMessage) (*journal, error) {
	j := &journal{path: path, live: live}
	if err := j.compact(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *journal) put(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := j.append(journalLine{K: key, V: raw}); err != nil {
		return err
	}
	j.live[key] = raw
	return j.maybeCompact()
}

func (j *journal) del(key string) error {
	if _, ok := j.live[key]; !ok {
		return nil
	}
	if err := j.append(journalLine{K: key, D: true}); err != nil {
		return err
	}
	delete(j.live, key)
	return j.maybeCompact()
}

func (j *journal) append(l journalLine) error {
	if j.f == nil {
		return errors.New("journal is closed")
	}
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode journal line: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("append journal: %w", err)
	}
	// The line must be on disk before the send it announces starts.
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	j.lines++
	return nil
}

func (j *journal) maybeCompact() error {
	if j.lines <= 2*len(j.live)+64 {
		return nil
	}
	return j.compact()
}

func (j *journal) compact() error {
	if j.f != nil {
		if err := j.f.Close(); err != nil {
			return fmt.Errorf("close journal: %w", err)
		}
		j.f = nil
	}
	keys := make([]string, 0, len(j.live))
	for k := range j.live {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	for _, k := range keys {
		b, err := json.Marshal(journalLine{K: k, V: j.live[k]})
		if err != nil {
			return fmt.Errorf("encode journal line: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := writeFileAtomic(j.path, buf.Bytes()); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	j.f = f
	j.lines = len(keys)
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either
// the old or the new file, never a mix.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
