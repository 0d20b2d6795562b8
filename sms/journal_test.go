package sms

import (
	"os"
	"path/filepath"
	"testing"
)

// A crash mid-append leaves a torn last line: loading keeps every complete
// record, and compaction leaves only live values.
func TestJournalSurvivesTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalFile)
	live, _, err := loadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(path, live)
	if err != nil {
		t.Fatal(err)
	}
	for i, state := range []string{msgPending, msgSent} {
		r := &alertRec{ID: "a1", Ref: "4821", Msgs: []msgRec{{To: numStore, State: state, Attempts: i + 1}}}
		if err := j.put(recKey(r.ID), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.put(recKey("gone"), &alertRec{ID: "gone"}); err != nil {
		t.Fatal(err)
	}
	if err := j.del(recKey("gone")); err != nil {
		t.Fatal(err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"k":"a/a1","v":{"id":"a1","msgs":[{"state":"pen`)
	f.Close()

	cfg := Config{From: testFrom, Chain: []Tier{{Numbers: []string{numStore}}}, StateDir: filepath.Dir(path)}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.recs) != 1 || n.recs["a1"].Msgs[0].State != msgSent || n.recs["a1"].Msgs[0].Attempts != 2 {
		t.Fatalf("loaded %+v", n.recs["a1"])
	}
	live, bad, err := loadJournal(path)
	if err != nil || bad != 0 || len(live) != 1 {
		t.Errorf("after compaction: %d live, %d bad, %v", len(live), bad, err)
	}
}
