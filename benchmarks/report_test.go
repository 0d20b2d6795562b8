package benchmarks

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReportWritesJSONAndMarkdownOfARealRun(t *testing.T) {
	r := smallRun(t)
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(filepath.Join(dir, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !back.Started.Equal(r.Started) {
		t.Errorf("started %v read back as %v", r.Started, back.Started)
	}
	back.Started = r.Started
	if !reflect.DeepEqual(back, r) {
		t.Errorf("bench.json does not read back to the report:\nwrote %+v\nread  %+v", r, back)
	}
	// The documented field names, spelled out: renaming one breaks readers.
	raw, err := os.ReadFile(filepath.Join(dir, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"latency"`, `"p50_ms"`, `"p99_ms"`, `"fps"`, `"bare_p50_ms"`, `"bare_p99_ms"`, `"overhead"`,
		`"tracker"`, `"us_per_update"`, `"accuracy"`, `"ap50"`, `"idf1"`, `"mota"`, `"count_f1"`, `"e2e_fps"`, `"ort_version"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("bench.json has no %s", key)
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, "bench.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	l, a := r.Latency[0], r.Accuracy[0]
	for _, want := range []string{
		fmt.Sprintf("| %s | yolox | 192x192 | 1 | cpu | %.2f | %.2f | %.1f | %.2f | %.2f | %.3f |",
			smallModel, l.P50Ms, l.P99Ms, l.FPS, l.BareP50Ms, l.BareP99Ms, l.Overhead),
		fmt.Sprintf("| %s | 150 | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %.3f (%d/%d) | %.1f |",
			smallModel, a.DetRecall, a.DetPrecision, a.AP50, a.MOTA, a.IDF1, a.IDSW, a.CountF1, a.CountGT, a.CountPred, a.FPS),
		fmt.Sprintf("%.1f µs per update", r.Tracker.MicrosPerUpdate),
		r.Machine.CPU, "ONNX Runtime " + r.Machine.ORTVersion,
		"![latency_vs_ap50](latency_vs_ap50.png)", "![latency_vs_idf1](latency_vs_idf1.png)",
		"sizes are not swept",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("bench.md lacks %q:\n%s", want, md)
		}
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	ds := make([]time.Duration, 60)
	for i := range ds {
		ds[i] = time.Duration(60-i) * time.Millisecond // 60..1 ms, unsorted
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 30 * time.Millisecond}, {99, 60 * time.Millisecond}, {1, time.Millisecond}, {100, 60 * time.Millisecond}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("p%v of 1..60 ms = %v, want %v", c.p, got, c.want)
		}
	}
	if ds[0] != 60*time.Millisecond {
		t.Error("percentile sorted its argument")
	}
	if got := nth(60); got != "slowest" {
		t.Errorf("nth(60) = %q", got)
	}
	if got := nth(1000); got != "11th slowest" {
		t.Errorf("nth(1000) = %q", got)
	}
	if got := nth(200); got != "3rd slowest" {
		t.Errorf("nth(200) = %q, want the third slowest", got)
	}
}
