package detectors

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesight/storesight/models"
)

const providerModel = "yolox_nano_416_coco"

// openWith opens the shared yolox-nano file with opts, logging to the
// returned buffer. The detector, when there is one, is closed at cleanup.
func openWith(t *testing.T, opts Options) (*ONNXDetector, *bytes.Buffer, error) {
	t.Helper()
	requireRuntime(t)
	m, err := models.Lookup(providerModel)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	opts.Log = slog.New(slog.NewTextHandler(&buf, nil))
	d, err := NewONNX(m, filepath.Join(models.DefaultDir(), m.File), opts)
	if d != nil {
		t.Cleanup(func() {
			if err := d.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	return d, &buf, err
}

// requireNoGPU skips on a machine with an NVIDIA GPU, where auto would
// rightly not end on the CPU.
func requireNoGPU(t *testing.T) {
	t.Helper()
	if probeGPU() == nil {
		t.Skip("this machine has an NVIDIA GPU; the test is about machines without one")
	}
}

// requireNoProviderLibs skips where the GPU provider libraries are
// installed: the tests using it are about ONNX Runtime not finding them.
func requireNoProviderLibs(t *testing.T) {
	t.Helper()
	requireRuntime(t)
	if fileExists(filepath.Join(ortLibDir(), "libonnxruntime_providers_shared.so")) {
		t.Skip("the ONNX Runtime GPU provider libraries are installed")
	}
}

// pretendGPU makes the probes report a GPU and its libraries as present, so
// that ONNX Runtime itself is asked for the provider and refuses it.
func pretendGPU(t *testing.T) {
	requireNoProviderLibs(t)
	saved := probes
	probes.gpu = func() error { return nil }
	probes.libs = func(string) error { return nil }
	t.Cleanup(func() { probes = saved })
}

// logLines returns the non-empty lines of a log buffer.
func logLines(buf *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

func TestProviderAutoChoosesCPUWithoutGPU(t *testing.T) {
	requireNoGPU(t)
	for _, p := range []string{"", ProviderAuto} {
		t.Run("provider="+p, func(t *testing.T) {
			d, buf, err := openWith(t, Options{Threads: 2, Provider: p})
			if err != nil {
				t.Fatal(err)
			}
			if d.Provider() != ProviderCPU {
				t.Errorf("Provider() = %q, want cpu", d.Provider())
			}
			lines := logLines(buf)
			if len(lines) != 1 {
				t.Fatalf("want exactly one log line, got %d:\n%s", len(lines), buf)
			}
			t.Log(lines[0])
			mustContain(t, "log line", lines[0], "level=INFO", `msg="execution provider chosen"`, "provider=cpu",
				"requested=auto", "model="+providerModel, "threads=2",
				`skipped="tensorrt: no NVIDIA GPU (no /dev/nvidia[0-9]* device`, "; cuda: no NVIDIA GPU")
			// The session it fell back to is a working one.
			dets, err := d.Detect(frame(t, 0))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(match(boxes(dets), vtestPeople[0], 0.5)); got != 3 {
				t.Errorf("found %d of the 3 people in frame 0", got)
			}
		})
	}
}

func TestProviderCPU(t *testing.T) {
	d, buf, err := openWith(t, Options{Threads: 1, Provider: ProviderCPU})
	if err != nil {
		t.Fatal(err)
	}
	if d.Provider() != ProviderCPU {
		t.Errorf("Provider() = %q, want cpu", d.Provider())
	}
	lines := logLines(buf)
	if len(lines) != 1 {
		t.Fatalf("want exactly one log line, got %d:\n%s", len(lines), buf)
	}
	mustContain(t, "log line", lines[0], "provider=cpu", "requested=cpu", "threads=1")
	if strings.Contains(lines[0], "skipped") {
		t.Errorf("an explicit cpu skipped nothing: %s", lines[0])
	}
}

func TestProviderExplicitGPUWithoutGPUFails(t *testing.T) {
	requireNoGPU(t)
	for _, p := range []string{ProviderCUDA, ProviderTensorRT} {
		t.Run(p, func(t *testing.T) {
			d, buf, err := openWith(t, Options{Threads: 1, Provider: p})
			if err == nil {
				t.Fatalf("opened on %s without a GPU", d.Provider())
			}
			t.Log(err)
			mustContain(t, "error", err.Error(), "model "+providerModel, "execution provider "+p+" unavailable",
				"no NVIDIA GPU", "model.provider: cpu")
			if buf.Len() != 0 {
				t.Errorf("a failed open logged:\n%s", buf)
			}
		})
	}
}

func TestProviderExplicitGPUNamesMissingLibrary(t *testing.T) {
	// A GPU but not the provider libraries: the real library probe names
	// them and the directory ONNX Runtime loads them from.
	requireNoProviderLibs(t)
	saved := probes
	probes.gpu = func() error { return nil }
	t.Cleanup(func() { probes = saved })
	dir := filepath.Dir(DefaultLibPath())
	for p, lib := range map[string]string{ProviderCUDA: "libonnxruntime_providers_cuda.so", ProviderTensorRT: "libonnxruntime_providers_tensorrt.so"} {
		t.Run(p, func(t *testing.T) {
			_, _, err := openWith(t, Options{Provider: p})
			if err == nil {
				t.Fatalf("opened on %s without its libraries", p)
			}
			t.Log(err)
			mustContain(t, "error", err.Error(), "libonnxruntime_providers_shared.so, "+lib+" not in "+dir, "model.provider: cpu")
		})
	}
}

func TestProviderAutoFallsBackWhenRuntimeRefusesGPU(t *testing.T) {
	pretendGPU(t)
	d, buf, err := openWith(t, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.Provider() != ProviderCPU {
		t.Errorf("Provider() = %q, want cpu", d.Provider())
	}
	lines := logLines(buf)
	if len(lines) != 1 {
		t.Fatalf("want exactly one log line, got %d:\n%s", len(lines), buf)
	}
	// ONNX Runtime looks for its provider bridge where ortLibDir says.
	t.Log(lines[0])
	shared := filepath.Join(ortLibDir(), "libonnxruntime_providers_shared.so")
	mustContain(t, "log line", lines[0], "provider=cpu", "skipped=",
		"tensorrt: tensorrt options (device_id 0): ", "cuda: cuda options (device_id 0): ",
		"Failed to load library "+shared)
	if _, err := d.Detect(frame(t, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestProviderExplicitCUDAReportsRuntimeError(t *testing.T) {
	pretendGPU(t)
	_, _, err := openWith(t, Options{Provider: ProviderCUDA, DeviceID: 1})
	if err == nil {
		t.Fatal("opened on cuda without its libraries")
	}
	mustContain(t, "error", err.Error(), "execution provider cuda unavailable: cuda options (device_id 1): ",
		"libonnxruntime_providers_shared.so", "model.provider: cpu")
}

func TestProviderRejectsBadOptions(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Provider: "gpu"}, `unknown execution provider "gpu" (want auto, cpu, cuda or tensorrt)`},
		{Options{Provider: "CPU"}, `unknown execution provider "CPU"`},
		{Options{Provider: ProviderCUDA, DeviceID: -1}, "device id -1 is negative"},
	} {
		_, _, err := openWith(t, c.opts)
		if err == nil {
			t.Errorf("%+v: no error", c.opts)
			continue
		}
		mustContain(t, "error", err.Error(), "model "+providerModel+": "+c.want)
	}
}

func TestLoaderViewResolvesRuntimeDependencies(t *testing.T) {
	requireRuntime(t)
	lib, err := filepath.EvalSymlinks(DefaultLibPath())
	if err != nil {
		t.Fatal(err)
	}
	needed, runpath, err := dynamicInfo(lib)
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) == 0 {
		t.Fatalf("%s: no DT_NEEDED entries read", lib)
	}
	l := newLoaderView()
	// Without the loaded set and LD_LIBRARY_PATH, so that the run path, the
	// cache and the default directories are what find.
	l.loaded, l.env = nil, nil
	for _, n := range needed {
		if !l.find(n, runpath, filepath.Dir(lib)) {
			t.Errorf("%s (needed by %s) not found, yet the runtime loaded", n, lib)
		}
	}
	base := filepath.Base(lib)
	if !l.find(base, []string{"$ORIGIN"}, filepath.Dir(lib)) {
		t.Errorf("%s not found through $ORIGIN", base)
	}
	if l.find(base, nil, "/nonexistent") {
		t.Errorf("%s found without a run path leading to it", base)
	}
	if l.find("libstoresight_absent.so.1", nil, filepath.Dir(lib)) {
		t.Error("found a library that does not exist")
	}
}
