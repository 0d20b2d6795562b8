package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// downloadConnectTimeout bounds everything before a model download's first
// response header: DNS, TCP connect, an HTTP proxy's CONNECT, TLS. Without
// it a firewall that drops packets holds `storesight run` for minutes (the
// kernel's SYN retries; Go waits a minute for a proxy's CONNECT) before it
// says the model is missing. The body is not bounded: a slow shop link may
// need minutes for a large model, and SIGINT/SIGTERM cancel it.
const downloadConnectTimeout = 10 * time.Second

// DownloadClient is the HTTP client model downloads use.
func DownloadClient() *http.Client {
	return &http.Client{Transport: connectTimeout{next: http.DefaultTransport, d: downloadConnectTimeout}}
}

// connectTimeout cancels a request that has no response headers after d.
type connectTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

func (c connectTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(c.d, cancel)
	resp, err := c.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The timer fired: even a response that raced it has a cancelled
		// body, so report the timeout either way.
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		return nil, fmt.Errorf("no response from %s within %s", req.URL.Host, c.d)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases the request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
