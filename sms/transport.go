package sms

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// maxResponse bounds a Twilio response held in memory (a page of 50
// messages is tens of KiB).
const maxResponse = 4 << 20

// transport sits under twilio-go's client, which neither takes a context
// nor returns the response of a failed call. It binds each request to the
// notifier's context with a per-request timeout, so Run's cancellation
// stops requests in flight, and it remembers the status and Retry-After of
// the latest response, which the error twilio-go returns lacks. It reads
// each body whole before returning, so the timeout can be released and
// twilio-go, which does not close error bodies, leaks nothing.
type transport struct {
	base    http.RoundTripper
	ctx     context.Context
	timeout time.Duration

	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	resp, err := t.base.RoundTrip(req.Clone(ctx))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read twilio response (status %d): %w", resp.StatusCode, err)
	}
	t.mu.Lock()
	t.status = resp.StatusCode
	t.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	t.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	return resp, nil
}

// reset forgets the last response before a new call.
func (t *transport) reset() {
	t.mu.Lock()
	t.status, t.retryAfter = 0, 0
	t.mu.Unlock()
}

// last is the status (0: no response) and Retry-After of the latest
// response.
func (t *transport) last() (int, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status, t.retryAfter
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 if absent or
// unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
