package video

import (
	"testing"

	"gocv.io/x/gocv"
)

// A frame released after its source closed must not park its Mat in the
// pool, where nothing would ever free it.
func TestMatPoolAfterClose(t *testing.T) {
	p := NewMatPool(4)
	f := Frame{Img: gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC3), pool: p}
	g := Frame{Img: gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC3), pool: p}
	g.Release()
	if len(p.free) != 1 {
		t.Fatalf("open pool keeps released Mats: %d idle, want 1", len(p.free))
	}
	p.Close()
	if len(p.free) != 0 {
		t.Fatalf("Close left %d idle Mats", len(p.free))
	}
	f.Release()
	if len(p.free) != 0 {
		t.Fatalf("closed pool took a released Mat: %d idle", len(p.free))
	}
}
