package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long Serve waits for in-flight requests (a
// scrape, a probe) once its context ends.
const shutdownTimeout = 5 * time.Second

// Server is the HTTP server for the metrics and health endpoints.
type Server struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// Listen binds addr ("host:port"; port 0 picks a free one) at once, so a
// port already in use is reported before the process starts its cameras.
// Call Serve to handle requests.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	return &Server{
		ln:  ln,
		log: log,
		srv: &http.Server{
			Handler: h,
			// Slow or stuck clients must not pile up connections.
			ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}, nil
}

// Addr is the bound address, with the real port when Listen got port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve handles requests until ctx ends, then shuts down gracefully: it
// stops accepting, lets in-flight requests finish (at most 5s), and
// returns once the port is released. It returns nil after ctx ends or
// Close, and the error when serving failed. Call it once.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	s.log.Info("metrics server listening", "addr", s.Addr())
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics: serve on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		s.log.Warn("metrics server: requests still running at shutdown, closing them", "err", err)
		s.srv.Close()
	}
	<-errc
	s.log.Info("metrics server stopped", "addr", s.Addr())
	return nil
}

// Close stops the server at once, closing open connections; Serve then
// returns. It may be called without Serve, to release the port.
func (s *Server) Close() error {
	err := s.srv.Close()
	// Without Serve the server does not know the listener yet.
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("metrics: close %s: %w", s.Addr(), err)
	}
	return nil
}
