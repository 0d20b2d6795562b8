package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Set by TestMain for the CLI tests.
var (
	// binPath is the storesight binary built from this checkout.
	binPath string
	// repoRoot is the repository's absolute path: the binary runs there,
	// where it finds .deps/lib/libonnxruntime.so and .deps/models the way
	// `make run` does.
	repoRoot string
)

// TestMain builds the storesight binary once into a temporary directory, so
// the CLI tests run what users run, and removes it afterwards.
func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: repository root: %v\n", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "storesight-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "storesight")
	build := exec.Command("go", "build", "-o", binPath, "./cmd/storesight")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/storesight: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
