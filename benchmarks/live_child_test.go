package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// runLiveChild measures one row in a new process of this test binary and
// returns its result. The child's log (warnings) goes to stderr as it runs;
// its benchmark output is shown only when it fails.
func runLiveChild(b *testing.B, row liveRow, window time.Duration) *liveResult {
	b.Helper()
	out := filepath.Join(b.TempDir(), "result.json")
	ctx, cancel := context.WithTimeout(context.Background(), window+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0],
		"-test.run=^$", "-test.bench=^BenchmarkLive$", "-test.benchtime=1x", "-test.timeout=10m")
	cmd.Env = append(os.Environ(),
		envLive+"=1",
		envRows+"="+row.spec(),
		envSeconds+"="+strconv.FormatFloat(window.Seconds(), 'f', -1, 64),
		envChildOut+"="+out)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("row %s: %v\n%s", row, err, stdout.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatalf("row %s: no result (%v)\n%s", row, err, stdout.String())
	}
	var res liveResult
	if err := json.Unmarshal(data, &res); err != nil {
		b.Fatalf("row %s: result: %v", row, err)
	}
	return &res
}

func writeLiveResult(path string, r *liveResult) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("live result: %w", err)
	}
	return os.WriteFile(path, data, 0o644)
}
