package sms

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// seenKeep is how long a reply's MessageSid is remembered. Twilio retries
// a webhook within minutes; a replay weeks later is refused by the alert
// being long closed, so the file need not grow forever.
const seenKeep = 90 * 24 * time.Hour

// seenStore remembers the MessageSids of replies already handled, on disk,
// so a replayed request has no effect even after a restart. It is shared
// by the webhook's request goroutines.
type seenStore struct {
	path string
	mu   sync.Mutex
	sids map[string]time.Time
}

type seenLine struct {
	SID string    `json:"sid"`
	T   time.Time `json:"t"`
}

func openSeen(path string, now time.Time) (*seenStore, error) {
	s := &seenStore{path: path, sids: make(map[string]time.Time)}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read inbound ids: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	dropped := false
	for sc.Scan() {
		var l seenLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.SID == "" {
			dropped = true // a torn last line
			continue
		}
		if now.Sub(l.T) > seenKeep {
			dropped = true
			continue
		}
		s.sids[l.SID] = l.T
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan inbound ids: %w", err)
	}
	if dropped {
		var buf bytes.Buffer
		for sid, t := range s.sids {
			b, _ := json.Marshal(seenLine{SID: sid, T: t})
			buf.Write(b)
			buf.WriteByte('\n')
		}
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return nil, fmt.Errorf("rewrite inbound ids: %w", err)
		}
	}
	return s, nil
}

// claim records sid as handled and reports whether it was new. It is on
// disk before the reply takes effect, so no crash lets it count twice.
func (s *seenStore) claim(sid string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sids[sid]; ok {
		return false, nil
	}
	b, err := json.Marshal(seenLine{SID: sid, T: now})
	if err != nil {
		return false, fmt.Errorf("encode inbound id: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return false, fmt.Errorf("open inbound ids: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return false, fmt.Errorf("record inbound id: %w", werr)
	}
	s.sids[sid] = now
	return true, nil
}
