package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// EnvModelDir names the environment variable that overrides DefaultDir.
const EnvModelDir = "STORESIGHT_MODEL_DIR"

// DefaultDir is where Install copies model files from when no directory is
// given: $STORESIGHT_MODEL_DIR, else ../shared/models next to the repository
// root (found by walking up from the working directory to go.mod), else
// ../shared/models relative to the working directory.
func DefaultDir() string {
	if d := os.Getenv(EnvModelDir); d != "" {
		return d
	}
	if root, ok := repoRoot(); ok {
		return filepath.Join(root, "..", "shared", "models")
	}
	return filepath.Join("..", "shared", "models")
}

// repoRoot finds the nearest ancestor of the working directory holding a
// go.mod, so tests (run from a package directory) and the binary (run from
// the repository) resolve the same relative defaults.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Verify checks that the file at path is the model m describes: it exists,
// and its size and sha256 match the manifest.
func Verify(m Manifest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("model file %s not found: %w", path, err)
		}
		return fmt.Errorf("open model file %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read model file %s: %w", path, err)
	}
	return checkSum(m, path, n, h.Sum(nil))
}

func checkSum(m Manifest, path string, size int64, sum []byte) error {
	got := hex.EncodeToString(sum)
	if !strings.EqualFold(got, m.SHA256) {
		return fmt.Errorf("model %s: sha256 mismatch for %s: expected %s, got %s (size %d, expected %d)",
			m.Name, path, strings.ToLower(m.SHA256), got, size, m.Size)
	}
	if m.Size > 0 && size != m.Size {
		return fmt.Errorf("model %s: size mismatch for %s: expected %d bytes, got %d", m.Name, path, m.Size, size)
	}
	return nil
}

// Install puts the model file into toDir and returns its path. It copies
// from fromDir (DefaultDir when empty); when the file is not there it
// downloads m.SourceURL with http.DefaultClient. Every byte written is
// checked against the manifest's sha256 before it becomes visible.
func Install(m Manifest, fromDir, toDir string) (string, error) {
	return InstallWith(context.Background(), http.DefaultClient, m, fromDir, toDir)
}

// InstallWith is Install with a context and HTTP client; a nil client turns
// the download fallback off.
func InstallWith(ctx context.Context, client *http.Client, m Manifest, fromDir, toDir string) (string, error) {
	if fromDir == "" {
		fromDir = DefaultDir()
	}
	dst := filepath.Join(toDir, m.File)
	if Verify(m, dst) == nil {
		return dst, nil
	}
	src := filepath.Join(fromDir, m.File)
	f, err := os.Open(src)
	switch {
	case err == nil:
		defer f.Close()
		if err := writeVerified(m, f, toDir); err != nil {
			return "", fmt.Errorf("install model %s from %s: %w", m.Name, src, err)
		}
		return dst, nil
	case errors.Is(err, fs.ErrNotExist) && client != nil && m.SourceURL != "":
		slog.Info("model not in local directory, downloading", "model", m.Name, "dir", fromDir, "url", m.SourceURL)
		return InstallFromURL(ctx, client, m, "", toDir)
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("model file %s not found: %w", src, err)
	default:
		return "", fmt.Errorf("open model file %s: %w", src, err)
	}
}

// InstallFromURL downloads the model from url (m.SourceURL when empty) into
// toDir, verifying its sha256, and returns the installed path.
func InstallFromURL(ctx context.Context, client *http.Client, m Manifest, url, toDir string) (string, error) {
	if url == "" {
		url = m.SourceURL
	}
	if url == "" {
		return "", fmt.Errorf("model %s: no source URL to download from", m.Name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("model %s: build request for %s: %w", m.Name, url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("model %s: download %s: %w", m.Name, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("model %s: download %s: HTTP %s", m.Name, url, resp.Status)
	}
	var body io.Reader = resp.Body
	if m.Size > 0 {
		// One byte over the expected size is enough to detect a wrong file
		// without reading an unbounded body.
		body = io.LimitReader(resp.Body, m.Size+1)
	}
	if err := writeVerified(m, body, toDir); err != nil {
		return "", fmt.Errorf("install model %s from %s: %w", m.Name, url, err)
	}
	return filepath.Join(toDir, m.File), nil
}

// writeVerified streams r into a temporary file in toDir and renames it to
// m.File only when size and sha256 match, so a crash or a bad source never
// leaves a half-written or wrong model under the real name.
func writeVerified(m Manifest, r io.Reader, toDir string) (err error) {
	if err := os.MkdirAll(toDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", toDir, err)
	}
	tmp, err := os.CreateTemp(toDir, "."+m.File+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", toDir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if err := checkSum(m, tmp.Name(), n, h.Sum(nil)); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	dst := filepath.Join(toDir, m.File)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("rename to %s: %w", dst, err)
	}
	return nil
}
