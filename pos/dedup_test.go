package pos

import (
	"fmt"
	"testing"
	"time"
)

func TestDedupSeen(t *testing.T) {
	t0 := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	d := NewDedup(time.Hour, 100)
	if d.Seen("a", t0) {
		t.Fatal("first a seen")
	}
	if !d.Seen("a", t0) || !d.Seen("a", t0.Add(time.Minute)) {
		t.Fatal("repeat of a not seen")
	}
	if d.Seen("b", t0.Add(30*time.Minute)) {
		t.Fatal("first b seen")
	}
	// Event time moves past a's window: a is forgotten, b (30 min later) not yet.
	if d.Seen("c", t0.Add(61*time.Minute)) {
		t.Fatal("first c seen")
	}
	if d.Len() != 2 {
		t.Errorf("Len %d, want 2 (b, c)", d.Len())
	}
	if !d.Seen("b", t0.Add(61*time.Minute)) {
		t.Error("b forgotten inside its window")
	}
	if d.Seen("a", t0.Add(61*time.Minute)) {
		t.Error("a remembered beyond the window")
	}
	// A key older than the window is not recorded (it would be forgotten at once).
	if d.Seen("old", t0) || d.Seen("old", t0) {
		t.Error("key older than the window recorded")
	}
}

// Beyond max keys the oldest by event time goes first, not the first
// inserted: late transactions arrive out of order.
func TestDedupMaxEvictsOldestEventTime(t *testing.T) {
	t0 := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	d := NewDedup(24*time.Hour, 3)
	d.Seen("10:00", t0.Add(60*time.Minute))
	d.Seen("09:05", t0.Add(5*time.Minute)) // late
	d.Seen("10:30", t0.Add(90*time.Minute))
	d.Seen("11:00", t0.Add(120*time.Minute)) // 4th: evicts 09:05
	if d.Len() != 3 {
		t.Fatalf("Len %d, want 3", d.Len())
	}
	for _, k := range []string{"10:00", "10:30", "11:00"} {
		if !d.Seen(k, t0) {
			t.Errorf("%s evicted", k)
		}
	}
	if d.Seen("09:05", t0.Add(5*time.Minute)) {
		t.Error("09:05, the oldest, still remembered")
	}
}

func TestDedupBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	d := NewDedup(0, 1000)
	for i := 0; i < 10000; i++ {
		d.Seen(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
	}
	if d.Len() != 1000 {
		t.Errorf("Len %d, want 1000", d.Len())
	}
	if !d.Seen("9999", t0) || d.Seen("0", t0) {
		t.Error("kept the wrong keys")
	}
}
