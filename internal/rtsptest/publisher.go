package rtsptest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A Publisher starts ffmpeg again restartDelay after it exits, like an IP
// camera retrying its connection. While runs keep failing within
// quickFailure (server down: each costs ffmpeg ~50 ms of CPU to open its
// input), the delay doubles up to maxRestartDelay so eight publishers
// waiting for a dead server do not eat a core.
const (
	restartDelay    = 200 * time.Millisecond
	maxRestartDelay = time.Second
	quickFailure    = time.Second
)

// stderrKeep bounds the ffmpeg stderr a Publisher keeps.
const stderrKeep = 16 << 10

// PublishOptions configures a Publisher.
type PublishOptions struct {
	File string // media file to publish, e.g. from MakeMedia
	URL  string // rtsp://host:port/path to ANNOUNCE/RECORD on
	// Transport is ffmpeg's -rtsp_transport: "tcp" (default) or "udp".
	Transport string
	// Loop is accepted for readability: a Publisher loops the file
	// (-stream_loop -1) unless NoLoop is set, because a bool cannot default
	// to true.
	Loop bool
	// NoLoop plays the file once per ffmpeg run; at its end ffmpeg exits and
	// is restarted like after any other exit, so the stream restarts with a
	// reconnect.
	NoLoop bool
	Log    *slog.Logger // nil discards
}

// Publisher runs ffmpeg publishing a file to an RTSP server by stream copy
// (no re-encoding, so many are cheap), restarting it whenever it exits until
// Stop or the context passed to Publish ends.
type Publisher struct {
	opts     PublishOptions
	log      *slog.Logger
	stderr   *ringBuffer
	cancel   context.CancelFunc
	done     chan struct{}
	restarts atomic.Int64
	pid      atomic.Int64 // of the current or last ffmpeg

	mu      sync.Mutex
	lastErr error
}

// Publish validates the options, starts ffmpeg and returns once it is
// running. It does not wait for the server to accept the stream: use
// Server.WaitPublished for that.
func Publish(ctx context.Context, opts PublishOptions) (*Publisher, error) {
	if opts.File == "" || opts.URL == "" {
		return nil, errors.New("rtsptest: publish: File and URL are required")
	}
	if _, err := os.Stat(opts.File); err != nil {
		return nil, fmt.Errorf("rtsptest: publish: %w", err)
	}
	switch opts.Transport {
	case "":
		opts.Transport = "tcp"
	case "tcp", "udp":
	default:
		return nil, fmt.Errorf("rtsptest: publish: transport %q is not tcp or udp", opts.Transport)
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fmt.Errorf("rtsptest: publish: %w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Publisher{
		opts:   opts,
		log:    log.With("publish", redactText(opts.URL)),
		stderr: newRingBuffer(stderrKeep),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	started := make(chan error, 1)
	go p.run(ctx, ffmpeg, started)
	if err := <-started; err != nil {
		cancel()
		<-p.done
		return nil, err
	}
	return p, nil
}

// args is the ffmpeg command line: read at native rate (-re) like a camera,
// copy the coded stream as is, RECORD it over RTSP.
func (p *Publisher) args() []string {
	a := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-re"}
	if !p.opts.NoLoop {
		a = append(a, "-stream_loop", "-1")
	}
	return append(a, "-i", p.opts.File, "-c", "copy",
		"-f", "rtsp", "-rtsp_transport", p.opts.Transport, p.opts.URL)
}

// run owns ffmpeg for the Publisher's whole life.
func (p *Publisher) run(ctx context.Context, ffmpeg string, started chan<- error) {
	defer close(p.done)
	// Pdeathsig fires when the thread that forked the child exits, not the
	// process. Pinning this goroutine to its thread for its whole life means
	// that thread outlives every ffmpeg it starts; the thread ends with the
	// goroutine, after ffmpeg has been killed and reaped.
	runtime.LockOSThread()

	cmd, err := p.start(ctx, ffmpeg)
	started <- err
	if err != nil {
		return
	}
	delay := restartDelay
	for {
		t0 := time.Now()
		werr := cmd.Wait()
		if ctx.Err() != nil {
			return
		}
		ran := time.Since(t0)
		err := fmt.Errorf("rtsptest: ffmpeg exited after %s: %w: %s",
			ran.Round(time.Millisecond), werr, p.stderr.Tail(512))
		if werr == nil {
			err = fmt.Errorf("rtsptest: ffmpeg exited after %s (end of input)", ran.Round(time.Millisecond))
		}
		p.setErr(err)
		if ran >= quickFailure {
			delay = restartDelay
		}
		p.log.Warn("ffmpeg exited, restarting", "err", err, "delay", delay)
		for {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			delay = min(2*delay, maxRestartDelay)
			cmd, err = p.start(ctx, ffmpeg)
			p.restarts.Add(1)
			if err == nil {
				break
			}
			p.setErr(err)
			p.log.Warn("ffmpeg did not start", "err", err)
		}
	}
}

// start launches one ffmpeg run, killed when ctx ends or the test process
// dies.
func (p *Publisher) start(ctx context.Context, ffmpeg string) (*exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, ffmpeg, p.args()...)
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rtsptest: start ffmpeg: %w", err)
	}
	p.pid.Store(int64(cmd.Process.Pid))
	p.log.Debug("ffmpeg started", "pid", cmd.Process.Pid)
	return cmd, nil
}

func (p *Publisher) setErr(err error) {
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// Stop kills ffmpeg and waits for it and the Publisher's goroutine to end.
// It is idempotent. It returns nil: a killed ffmpeg is the expected outcome,
// and why earlier runs ended is in LastError.
func (p *Publisher) Stop() error {
	p.cancel()
	<-p.done
	return nil
}

// Restarts counts how many times ffmpeg was started again after exiting.
func (p *Publisher) Restarts() int64 { return p.restarts.Load() }

// LastError is why ffmpeg last exited or failed to start (with the tail of
// its stderr, credentials redacted), or nil if it never did.
func (p *Publisher) LastError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// Stderr returns the last ffmpeg stderr output kept (16 KiB at most, across
// restarts), credentials redacted.
func (p *Publisher) Stderr() string { return p.stderr.String() }
