package rtsptest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	helperEnv     = "RTSPTEST_HELPER_URL"
	helperFileEnv = "RTSPTEST_HELPER_FILE"
)

// processGone reports whether pid has exited (a zombie counts: it is dead,
// just not yet reaped by whoever inherited it).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestPublisherStop(t *testing.T) {
	s := startServer(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := Publish(ctx, PublishOptions{File: testMedia(t, "h264"), URL: s.URL("cam")})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := s.WaitPublished(wctx, "cam"); err != nil {
		t.Fatal(err)
	}
	pid := int(p.pid.Load())
	if processGone(pid) {
		t.Fatalf("ffmpeg %d not running while publishing", pid)
	}
	// Cancelling the context is enough to kill ffmpeg and end the goroutine.
	cancel()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("publisher goroutine still running 5 s after cancel")
	}
	if !processGone(pid) {
		t.Fatalf("ffmpeg %d still running after cancel", pid)
	}
	if err := p.Stop(); err != nil { // idempotent after cancel
		t.Fatal(err)
	}
	if p.Restarts() != 0 {
		t.Fatalf("restarts %d without any failure (last error %v)", p.Restarts(), p.LastError())
	}
	if !waitFor(5*time.Second, func() bool { return s.Stats().Publishers == 0 }) {
		t.Fatal("server still has the publisher")
	}
}

func TestPublishErrors(t *testing.T) {
	ctx := context.Background()
	for name, o := range map[string]PublishOptions{
		"no file":       {URL: "rtsp://127.0.0.1:1/x"},
		"missing file":  {File: "/nonexistent.mp4", URL: "rtsp://127.0.0.1:1/x"},
		"bad transport": {File: DefaultSource, URL: "rtsp://127.0.0.1:1/x", Transport: "http"},
	} {
		if p, err := Publish(ctx, o); err == nil {
			p.Stop()
			t.Fatalf("%s: Publish succeeded", name)
		}
	}
}

// TestPublisherRestartsAndRedacts publishes to a port nobody listens on:
// ffmpeg keeps failing and being restarted, LastError says why, and nothing
// the Publisher reports shows the password.
func TestPublisherRestartsAndRedacts(t *testing.T) {
	s := startServer(t, Options{})
	addr := s.Addr()
	s.Close() // a port that was free a moment ago, now refusing
	p, err := Publish(context.Background(), PublishOptions{
		File: testMedia(t, "h264"), URL: "rtsp://cam:hunter2@" + addr + "/cam"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if !waitFor(5*time.Second, func() bool { return p.Restarts() >= 2 }) {
		t.Fatalf("restarts %d after 5 s of refused connections", p.Restarts())
	}
	p.Stop()
	lastErr := p.LastError()
	if lastErr == nil {
		t.Fatal("no LastError after failed runs")
	}
	for _, text := range []string{lastErr.Error(), p.Stderr()} {
		if strings.Contains(text, "hunter2") {
			t.Fatalf("password leaked: %q", text)
		}
	}
	if !strings.Contains(lastErr.Error(), "Connection refused") {
		t.Fatalf("LastError lacks ffmpeg's reason: %v", lastErr)
	}
}

// TestPublisherDiesWithParent kills a process running a Publisher with
// SIGKILL: its ffmpeg must die too instead of publishing forever.
func TestPublisherDiesWithParent(t *testing.T) {
	s := startServer(t, Options{})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+s.URL("cam"), helperFileEnv+"="+testMedia(t, "h264"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ffmpeg ")))
	if err != nil {
		t.Fatalf("helper said %q", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitPublished(ctx, "cam"); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !waitFor(5*time.Second, func() bool { return processGone(pid) }) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("ffmpeg %d outlived its parent", pid)
	}
	if !waitFor(5*time.Second, func() bool { return s.Stats().Publishers == 0 }) {
		t.Fatal("server still has the dead publisher")
	}
}

// runHelperProcess is TestPublisherDiesWithParent's child: publish, print
// ffmpeg's pid, wait to be killed.
func runHelperProcess() int {
	p, err := Publish(context.Background(), PublishOptions{
		File: os.Getenv(helperFileEnv), URL: os.Getenv(helperEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ffmpeg %d\n", p.pid.Load())
	time.Sleep(time.Minute)
	return 1
}

func TestRingBuffer(t *testing.T) {
	r := newRingBuffer(8)
	r.Write([]byte("abc"))
	r.Write([]byte("defgh"))
	if got := r.String(); got != "abcdefgh" {
		t.Fatalf("got %q", got)
	}
	r.Write([]byte("ij"))
	if got := r.String(); got != "cdefghij" {
		t.Fatalf("got %q", got)
	}
	r.Write([]byte("0123456789"))
	if got := r.String(); got != "23456789" {
		t.Fatalf("got %q", got)
	}
	if got := redactText("x rtsp://u:p@h:1/a and RTSPS://only@h/b"); got != "x rtsp://REDACTED@h:1/a and RTSPS://REDACTED@h/b" {
		t.Fatalf("redact: %q", got)
	}
}
