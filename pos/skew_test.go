package pos

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestSkewReport(t *testing.T) {
	s := NewSkew(100)
	if r := s.Report(); r != (SkewReport{}) {
		t.Errorf("empty report %+v", r)
	}
	pos := time.Date(2026, 11, 16, 14, 0, 0, 0, time.FixedZone("", 3600))
	// 1..100 s late, in a scrambled order.
	for i := 0; i < 100; i++ {
		late := time.Duration((i*37)%100+1) * time.Second
		s.Add(pos, pos.Add(late))
	}
	want := SkewReport{Samples: 100, Median: 50 * time.Second, P05: 5 * time.Second, P95: 95 * time.Second,
		Min: time.Second, Max: 100 * time.Second}
	if r := s.Report(); r != want {
		t.Errorf("report %+v, want %+v", r, want)
	}
	// The ring keeps the last 100: 100 samples 2 s early push the others out.
	for i := 0; i < 100; i++ {
		s.Add(pos, pos.Add(-2*time.Second))
	}
	if r := s.Report(); r.Samples != 100 || r.Min != -2*time.Second || r.Max != -2*time.Second {
		t.Errorf("after wrap %+v", r)
	}
	b, err := json.Marshal(SkewReport{Samples: 3, Median: 1500 * time.Millisecond, P05: -time.Second, P95: 2 * time.Second,
		Min: -time.Second, Max: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"samples":3,"median_s":1.5,"p05_s":-1,"p95_s":2,"min_s":-1,"max_s":2}` {
		t.Errorf("JSON %s", b)
	}
}

func TestSkewConcurrent(t *testing.T) {
	s := NewSkew(50)
	now := time.Date(2026, 11, 16, 14, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				s.Add(now, now.Add(time.Second))
				_ = s.Report()
			}
		}()
	}
	wg.Wait()
	if r := s.Report(); r.Samples != 50 || r.Median != time.Second {
		t.Errorf("report %+v", r)
	}
}
