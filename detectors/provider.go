package detectors

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/storesight/storesight/models"
	ort "github.com/yalue/onnxruntime_go"
)

// Execution providers: where ONNX Runtime runs a model.
const (
	ProviderAuto     = "auto"
	ProviderCPU      = "cpu"
	ProviderCUDA     = "cuda"
	ProviderTensorRT = "tensorrt"
)

// autoOrder is what auto tries, fastest first; the CPU always works, so it
// ends the list.
var autoOrder = []string{ProviderTensorRT, ProviderCUDA, ProviderCPU}

// providerLibs are the libraries ONNX Runtime loads from its own directory
// (the directory of libonnxruntime.so as it was opened) when a GPU provider
// is appended. They are not in the onnxruntime-node package that
// scripts/deps.sh unpacks; they come with the GPU build of the same ONNX
// Runtime version.
var providerLibs = map[string][]string{
	ProviderCUDA:     {"libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"},
	ProviderTensorRT: {"libonnxruntime_providers_shared.so", "libonnxruntime_providers_tensorrt.so"},
}

// probes are the cheap checks made before a GPU provider is handed to ONNX
// Runtime, which on a machine without one would only fail later with a
// less helpful message. A variable so that a test can pretend a GPU is
// there and reach ONNX Runtime's own failure path.
var probes = struct {
	// gpu returns nil when an NVIDIA GPU is visible to this process.
	gpu func() error
	// libs returns nil when everything the provider's library needs can be
	// loaded.
	libs func(provider string) error
}{gpu: probeGPU, libs: probeLibs}

// checkProvider rejects an unknown provider or device before any work.
func checkProvider(opts Options) error {
	switch opts.Provider {
	case "", ProviderAuto, ProviderCPU, ProviderCUDA, ProviderTensorRT:
	default:
		return fmt.Errorf("unknown execution provider %q (want %s, %s, %s or %s)",
			opts.Provider, ProviderAuto, ProviderCPU, ProviderCUDA, ProviderTensorRT)
	}
	if opts.DeviceID < 0 {
		return fmt.Errorf("device id %d is negative", opts.DeviceID)
	}
	return nil
}

// Provider returns the execution provider the model runs on: ProviderCPU,
// ProviderCUDA or ProviderTensorRT.
func (d *ONNXDetector) Provider() string { return d.provider }

// openSession creates the model's session on the provider opts asks for
// and returns the provider used. With auto each GPU provider whose probe or
// session creation fails is skipped for the next; the choice and the
// reasons for skipping are logged once.
func openSession(m models.Manifest, path string, inputs, outputs []string, opts Options) (*ort.DynamicAdvancedSession, string, error) {
	want := opts.Provider
	if want == "" {
		want = ProviderAuto
	}
	candidates := []string{want}
	if want == ProviderAuto {
		candidates = autoOrder
	}
	var skipped []string
	for _, p := range candidates {
		s, err := tryProvider(p, path, inputs, outputs, opts)
		if err != nil {
			if p == ProviderCPU {
				return nil, "", fmt.Errorf("create session: %w", err)
			}
			if want != ProviderAuto {
				return nil, "", fmt.Errorf("execution provider %s unavailable: %w; set model.provider: cpu, or auto to fall back to the CPU when it is missing", p, err)
			}
			skipped = append(skipped, p+": "+err.Error())
			continue
		}
		log := opts.Log
		if log == nil {
			log = slog.Default()
		}
		attrs := []any{"provider", p, "requested", want, "model", m.Name}
		if p == ProviderCPU {
			attrs = append(attrs, "threads", opts.Threads)
		} else {
			attrs = append(attrs, "device_id", opts.DeviceID)
		}
		if len(skipped) > 0 {
			attrs = append(attrs, "skipped", strings.Join(skipped, "; "))
		}
		log.Info("execution provider chosen", attrs...)
		return s, p, nil
	}
	// Unreachable: the CPU ends autoOrder and every other list has one
	// entry that returned above.
	return nil, "", fmt.Errorf("no execution provider for %q", want)
}

// tryProvider probes provider p and, when that passes, creates the session
// on it. Fresh session options per attempt: a failed append may leave them
// half-configured.
func tryProvider(p, path string, inputs, outputs []string, opts Options) (*ort.DynamicAdvancedSession, error) {
	if p != ProviderCPU {
		if err := probes.gpu(); err != nil {
			return nil, err
		}
		if err := probes.libs(p); err != nil {
			return nil, err
		}
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer so.Destroy()
	if err := sessionOptions(so, opts.Threads); err != nil {
		return nil, err
	}
	switch p {
	case ProviderCUDA:
		if err := appendCUDA(so, opts.DeviceID); err != nil {
			return nil, err
		}
	case ProviderTensorRT:
		if err := appendTensorRT(so, opts.DeviceID); err != nil {
			return nil, err
		}
		// ONNX Runtime gives the nodes TensorRT rejects to the next
		// provider appended; CUDA keeps them on the GPU when it is there.
		if probes.libs(ProviderCUDA) == nil {
			if err := appendCUDA(so, opts.DeviceID); err != nil {
				return nil, err
			}
		}
	}
	s, err := ort.NewDynamicAdvancedSession(path, inputs, outputs, so)
	if err != nil {
		return nil, fmt.Errorf("create %s session: %w", p, err)
	}
	return s, nil
}

func appendCUDA(so *ort.SessionOptions, device int) error {
	o, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("cuda options: %w", err)
	}
	defer o.Destroy()
	// Update loads the provider library, so a missing one fails here.
	if err := o.Update(map[string]string{"device_id": strconv.Itoa(device)}); err != nil {
		return fmt.Errorf("cuda options (device_id %d): %w", device, err)
	}
	if err := so.AppendExecutionProviderCUDA(o); err != nil {
		return fmt.Errorf("append cuda provider: %w", err)
	}
	return nil
}

func appendTensorRT(so *ort.SessionOptions, device int) error {
	o, err := ort.NewTensorRTProviderOptions()
	if err != nil {
		return fmt.Errorf("tensorrt options: %w", err)
	}
	defer o.Destroy()
	if err := o.Update(map[string]string{"device_id": strconv.Itoa(device)}); err != nil {
		return fmt.Errorf("tensorrt options (device_id %d): %w", device, err)
	}
	if err := so.AppendExecutionProviderTensorRT(o); err != nil {
		return fmt.Errorf("append tensorrt provider: %w", err)
	}
	return nil
}

// probeGPU looks for the NVIDIA driver's device nodes or its per-GPU
// entries. Any device counts: in a container the one GPU given may be
// /dev/nvidia1 and still be CUDA device 0, and a wrong device id is
// reported by the session itself.
func probeGPU() error {
	if devs, _ := filepath.Glob("/dev/nvidia[0-9]*"); len(devs) > 0 {
		return nil
	}
	if gpus, _ := filepath.Glob("/proc/driver/nvidia/gpus/*"); len(gpus) > 0 {
		return nil
	}
	return errors.New("no NVIDIA GPU (no /dev/nvidia[0-9]* device and no /proc/driver/nvidia/gpus/*)")
}

// probeLibs checks that provider's ONNX Runtime libraries sit next to
// libonnxruntime and that the libraries they link against (CUDA, cuBLAS,
// cuDNN, TensorRT, in the versions that build wants) can be found the way
// the dynamic loader would look for them.
func probeLibs(provider string) error {
	dir := ortLibDir()
	var missing, needy []string
	for _, name := range providerLibs[provider] {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, name)
			continue
		}
		needy = append(needy, p)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not in %s (copy them there from the GPU build of the same ONNX Runtime version, %s)",
			strings.Join(missing, ", "), dir, ort.GetVersion())
	}
	l := newLoaderView()
	var unresolved []string
	for _, p := range needy {
		needed, runpath, err := dynamicInfo(p)
		if err != nil {
			return err
		}
		for _, n := range needed {
			// ONNX Runtime loads its own provider libraries itself, by
			// full path, before the one that needs them.
			if strings.HasPrefix(n, "libonnxruntime") && fileExists(filepath.Join(dir, n)) {
				continue
			}
			if !l.find(n, runpath, filepath.Dir(p)) {
				unresolved = append(unresolved, fmt.Sprintf("%s (needed by %s)", n, filepath.Base(p)))
			}
		}
	}
	if len(unresolved) > 0 {
		return fmt.Errorf("the dynamic loader cannot find %s (install them or add their directory to LD_LIBRARY_PATH)",
			strings.Join(unresolved, ", "))
	}
	return nil
}

// ortLibDir is where ONNX Runtime looks for provider libraries: the
// directory of libonnxruntime.so as it was opened. The mapped file is the
// symlink's target, so the configured path wins when it leads there.
func ortLibDir() string {
	configured := DefaultLibPath()
	mapped := mappedORT()
	if mapped == "" {
		return filepath.Dir(configured)
	}
	if real, err := filepath.EvalSymlinks(configured); err == nil && real == mapped {
		return filepath.Dir(configured)
	}
	return filepath.Dir(mapped)
}

// mappedORT returns the path of the libonnxruntime mapped into this
// process, or "".
func mappedORT() string {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		if p := fields[5]; strings.HasPrefix(filepath.Base(p), "libonnxruntime.so") {
			return p
		}
	}
	return ""
}

// dynamicInfo reads a shared library's DT_NEEDED entries and its search
// path (DT_RUNPATH, else DT_RPATH).
func dynamicInfo(path string) (needed, runpath []string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	if needed, err = f.ImportedLibraries(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	rp, _ := f.DynString(elf.DT_RUNPATH)
	if len(rp) == 0 {
		rp, _ = f.DynString(elf.DT_RPATH)
	}
	for _, s := range rp {
		runpath = append(runpath, filepath.SplitList(s)...)
	}
	return needed, runpath, nil
}

// loaderView is an approximation of where ld.so would find a library:
// already loaded, the requester's run path, LD_LIBRARY_PATH, the
// ld.so.cache and the default directories.
type loaderView struct {
	loaded map[string]bool
	cached map[string]string
	env    []string
}

func newLoaderView() *loaderView {
	l := &loaderView{loaded: map[string]bool{}, cached: map[string]string{}}
	if b, err := os.ReadFile("/proc/self/maps"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '/'); i >= 0 {
				l.loaded[filepath.Base(line[i:])] = true
			}
		}
	}
	// The cache's string table holds every library's full path; no need to
	// decode its entry records to ask whether a name is there.
	if b, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
		for _, s := range bytes.Split(b, []byte{0}) {
			if len(s) > 1 && s[0] == '/' {
				l.cached[filepath.Base(string(s))] = string(s)
			}
		}
	}
	l.env = filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
	return l
}

func (l *loaderView) find(name string, runpath []string, origin string) bool {
	if strings.Contains(name, "/") {
		return fileExists(name)
	}
	if l.loaded[name] {
		return true
	}
	var dirs []string
	for _, d := range runpath {
		dirs = append(dirs, strings.NewReplacer("$ORIGIN", origin, "${ORIGIN}", origin).Replace(d))
	}
	dirs = append(dirs, l.env...)
	if p, ok := l.cached[name]; ok {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/lib", "/usr/lib", "/lib64", "/usr/lib64")
	for _, d := range dirs {
		if d != "" && fileExists(filepath.Join(d, name)) {
			return true
		}
	}
	return false
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
