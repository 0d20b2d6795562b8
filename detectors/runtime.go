package detectors

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// EnvORTLib names the environment variable holding the path of
// libonnxruntime.so.
const EnvORTLib = "STORESIGHT_ORT_LIB"

var runtimeMu sync.Mutex

// DefaultLibPath is where InitRuntime looks when given no path:
// $STORESIGHT_ORT_LIB, else .deps/lib/libonnxruntime.so under the repository
// root (the nearest ancestor of the working directory with a go.mod), which
// is where scripts/deps.sh puts it.
func DefaultLibPath() string {
	if p := os.Getenv(EnvORTLib); p != "" {
		return p
	}
	rel := filepath.Join(".deps", "lib", "libonnxruntime.so")
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return rel
		}
		dir = parent
	}
}

// InitRuntime loads the ONNX Runtime shared library and creates the
// process-wide environment. libPath "" means DefaultLibPath. It is safe to
// call more than once: once a runtime is loaded, later calls with an
// existing path return nil (the library cannot be swapped in a running
// process); after a failure a later call may try again with another path.
func InitRuntime(libPath string) error {
	runtimeMu.Lock()
	defer runtimeMu.Unlock()
	if libPath == "" {
		libPath = DefaultLibPath()
	}
	// A wrong path is reported even when a runtime is already loaded: the
	// caller's configuration is broken either way.
	if _, err := os.Stat(libPath); err != nil {
		return fmt.Errorf("onnxruntime library not found at %s (set %s or run scripts/deps.sh): %w", libPath, EnvORTLib, err)
	}
	if ort.IsInitialized() {
		return nil
	}
	ort.SetSharedLibraryPath(libPath)
	// ERROR level: some exports (NanoDet) make ORT warn about every
	// initializer listed as a graph input, which is harmless noise.
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("initialise onnxruntime from %s: %w", libPath, err)
	}
	return nil
}
