package models

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func testManifest(t *testing.T) Manifest {
	t.Helper()
	m, err := Lookup("person_lite_yolox_192")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInstallCopiesAndSkipsWhenPresent(t *testing.T) {
	m := testManifest(t)
	to := t.TempDir()
	p, err := InstallWith(context.Background(), nil, m, DefaultDir(), to)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(to, m.File) {
		t.Errorf("path %s", p)
	}
	if err := Verify(m, p); err != nil {
		t.Fatal(err)
	}
	// A second install must not rewrite a correct file: its mtime stays.
	st1, _ := os.Stat(p)
	old := st1.ModTime().Add(-3600e9)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallWith(context.Background(), nil, m, "/nonexistent", to); err != nil {
		t.Fatalf("second install with the file already present: %v", err)
	}
	st2, _ := os.Stat(p)
	if !st2.ModTime().Equal(old) {
		t.Error("installed file was rewritten although its sha256 was right")
	}
	entries, _ := os.ReadDir(to)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestInstallReplacesCorruptDestination(t *testing.T) {
	m := testManifest(t)
	to := t.TempDir()
	if err := os.WriteFile(filepath.Join(to, m.File), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Install(m, DefaultDir(), to)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m, p); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyMissingFile(t *testing.T) {
	m := testManifest(t)
	err := Verify(m, "/nonexistent/x.onnx")
	if err == nil || !strings.Contains(err.Error(), "model file /nonexistent/x.onnx not found") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestInstallMissingFileWithoutDownload(t *testing.T) {
	m := testManifest(t)
	from := t.TempDir()
	_, err := InstallWith(context.Background(), nil, m, from, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "model file "+filepath.Join(from, m.File)+" not found") {
		t.Fatalf("got %v", err)
	}
}

func TestShaMismatch(t *testing.T) {
	m := testManifest(t)
	from := t.TempDir()
	// Right name, wrong bytes: another real model.
	other, _ := Lookup("yolox_nano_416_coco")
	b, err := os.ReadFile(filepath.Join(DefaultDir(), other.File))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(from, m.File), b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = Verify(m, filepath.Join(from, m.File))
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") ||
		!strings.Contains(err.Error(), "expected "+m.SHA256) || !strings.Contains(err.Error(), "got "+other.SHA256) {
		t.Fatalf("Verify: %v", err)
	}
	to := t.TempDir()
	_, err = InstallWith(context.Background(), nil, m, from, to)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("Install: %v", err)
	}
	if entries, _ := os.ReadDir(to); len(entries) != 0 {
		t.Errorf("a rejected file was left in the destination: %v", entries)
	}
}

// modelServer serves the real model bytes (or other bytes) like
// raw.githubusercontent.com would.
func modelServer(t *testing.T, body []byte, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/model.onnx" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInstallFallsBackToDownload(t *testing.T) {
	m := testManifest(t)
	real, err := os.ReadFile(filepath.Join(DefaultDir(), m.File))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := modelServer(t, real, &hits)
	m.SourceURL = srv.URL + "/model.onnx"
	to := t.TempDir()
	p, err := InstallWith(context.Background(), srv.Client(), m, t.TempDir(), to)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m, p); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("server hit %d times", hits.Load())
	}
}

func TestInstallFromURLErrors(t *testing.T) {
	m := testManifest(t)
	var hits atomic.Int32
	srv := modelServer(t, []byte("not a model"), &hits)
	to := t.TempDir()

	_, err := InstallFromURL(context.Background(), srv.Client(), m, srv.URL+"/model.onnx", to)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("wrong bytes: %v", err)
	}
	_, err = InstallFromURL(context.Background(), srv.Client(), m, srv.URL+"/missing.onnx", to)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if entries, _ := os.ReadDir(to); len(entries) != 0 {
		t.Errorf("failed downloads left files: %v", entries)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := InstallFromURL(ctx, srv.Client(), m, srv.URL+"/model.onnx", to); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
