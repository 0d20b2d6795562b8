package sms

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesight/storesight/alerts"
)

// A spool Run cannot read is retried on a timer, not only when the next
// alert step is notified: the steps in it are handled although nothing
// else is notified.
func TestUnreadableSpoolIsRetried(t *testing.T) {
	log, buf := testLog(t)
	cfg := baseConfig(t, nil, log)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The spool is a link; while it points at a directory, reading it
	// fails. Renaming a new link over it swaps in a readable spool at once.
	spool := filepath.Join(cfg.StateDir, spoolFile)
	if err := os.Symlink(t.TempDir(), spool); err != nil {
		t.Fatal(err)
	}
	line, err := json.Marshal(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
	if err != nil {
		t.Fatal(err)
	}
	steps := filepath.Join(t.TempDir(), "steps.jsonl")
	if err := os.WriteFile(steps, append(line, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}

	r := run(t, n)
	eventually(t, "a failed read", func() bool {
		return strings.Contains(buf.String(), "reading spooled alert steps; will retry")
	})
	if err := os.Symlink(steps, spool+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(spool+".new", spool); err != nil {
		t.Fatal(err)
	}
	eventually(t, "spooled step handled", func() bool { return r.Stats().DryRun == 1 })
	if rec := r.record(t, "a1"); len(rec.Msgs) != 1 || rec.Msgs[0].State != msgDryRun {
		t.Errorf("record %+v", rec)
	}
	if _, err := os.Lstat(spool); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("spool still there after it was read: %v", err)
	}
}
