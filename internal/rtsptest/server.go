package rtsptest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bluenviron/gortsplib/v5"
)

// Options configures a relay Server.
type Options struct {
	// Addr is the RTSP (TCP) listen address. Default "127.0.0.1:0". Port 0
	// picks a free port; Options() then reports the port that was bound so a
	// restart lands on the same one.
	Addr string
	// UDP also serves the UDP transport on an RTP/RTCP port pair (even,
	// even+1). When UDPRTPAddr and UDPRTCPAddr are empty a free pair is chosen
	// on Addr's host and reported by Options().
	UDP bool
	// UDPRTPAddr and UDPRTCPAddr are the UDP listen addresses; both or neither.
	UDPRTPAddr, UDPRTCPAddr string
	// User and Pass, when set, are required from readers (Basic or Digest
	// auth) on DESCRIBE and SETUP. Publishers are never asked for credentials,
	// so the test harness can publish with a plain URL while the client under
	// test has to authenticate.
	User, Pass string
	// Log receives connection and publish events; nil discards them.
	Log *slog.Logger
}

// Stats is a snapshot of the relay's state and counters. Counters are for this
// Server only: a Server started again from Options() begins at zero.
type Stats struct {
	Publishers int   // paths with a recording publisher
	Readers    int   // sessions that are playing
	Conns      int   // open RTSP (TCP) connections, publishers' and readers'
	PacketsIn  int64 // RTP packets received from publishers
	PacketsOut int64 // RTP packets forwarded to a path's readers, counted once per packet
	Delivered  int64 // RTP packets queued to readers, counted once per reader
	Dropped    int64 // RTP packets withheld by Freeze (and until the key frame after it)
	Corrupted  int64 // video RTP packets garbled by Corrupt
}

// writeQueueSize is each reader's outbound queue in packets. gortsplib's
// default of 256 is less than three 720p key frames; a reader that stalls for
// a moment (a busy 2-core box running detection) would lose packets to the
// relay rather than to the conditions under test.
const writeQueueSize = 1024

// Server is an RTSP relay for tests: publishers record on paths, readers play
// them. It is safe for concurrent use.
type Server struct {
	opts Options // with resolved addresses
	addr string  // dialable 127.0.0.1:port
	log  *slog.Logger
	srv  *gortsplib.Server

	frozen       atomic.Bool
	corruptEvery atomic.Int64
	packetsIn    atomic.Int64
	packetsOut   atomic.Int64
	dropped      atomic.Int64
	corrupted    atomic.Int64

	mu              sync.Mutex
	paths           map[string]*publication
	readers         map[*gortsplib.ServerSession]struct{}
	conns           int
	deliveredClosed int64         // Delivered of streams already closed
	changed         chan struct{} // closed and replaced whenever paths changes
	closed          bool

	closeOnce sync.Once
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	o := opts
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.User == "" && o.Pass != "" {
		return nil, errors.New("rtsptest: Pass set without User")
	}
	if !o.UDP && (o.UDPRTPAddr != "" || o.UDPRTCPAddr != "") {
		return nil, errors.New("rtsptest: UDP addresses set but UDP is false")
	}
	if (o.UDPRTPAddr == "") != (o.UDPRTCPAddr == "") {
		return nil, errors.New("rtsptest: UDPRTPAddr and UDPRTCPAddr must be set together")
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("rtsptest: Addr %q: %w", o.Addr, err)
	}

	// Bind here rather than inside gortsplib so port 0 resolves and the
	// listeners are handed over without a window in which another process
	// could take the port.
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("rtsptest: listen %s: %w", o.Addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	o.Addr = net.JoinHostPort(host, strconv.Itoa(port))

	var rtpConn, rtcpConn net.PacketConn
	if o.UDP && o.UDPRTPAddr == "" {
		rtpConn, rtcpConn, err = listenUDPPair(host)
		if err != nil {
			ln.Close()
			return nil, err
		}
		o.UDPRTPAddr = net.JoinHostPort(host, strconv.Itoa(rtpConn.LocalAddr().(*net.UDPAddr).Port))
		o.UDPRTCPAddr = net.JoinHostPort(host, strconv.Itoa(rtcpConn.LocalAddr().(*net.UDPAddr).Port))
	}

	dialHost := host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		dialHost = "127.0.0.1"
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:    o,
		addr:    net.JoinHostPort(dialHost, strconv.Itoa(port)),
		log:     log.With("rtsptest", net.JoinHostPort(dialHost, strconv.Itoa(port))),
		paths:   make(map[string]*publication),
		readers: make(map[*gortsplib.ServerSession]struct{}),
		changed: make(chan struct{}),
	}
	s.srv = &gortsplib.Server{
		Handler:        &handler{s: s},
		RTSPAddress:    o.Addr,
		UDPRTPAddress:  o.UDPRTPAddr,
		UDPRTCPAddress: o.UDPRTCPAddr,
		WriteQueueSize: writeQueueSize,
		Listen: func(network, address string) (net.Listener, error) {
			if ln != nil {
				l := ln
				ln = nil
				return l, nil
			}
			return net.Listen(network, address)
		},
		ListenPacket: func(network, address string) (net.PacketConn, error) {
			if address == o.UDPRTPAddr && rtpConn != nil {
				c := rtpConn
				rtpConn = nil
				return c, nil
			}
			if address == o.UDPRTCPAddr && rtcpConn != nil {
				c := rtcpConn
				rtcpConn = nil
				return c, nil
			}
			return net.ListenPacket(network, address)
		},
	}
	if err := s.srv.Start(); err != nil {
		// Whatever gortsplib did not take is still ours to close.
		if ln != nil {
			ln.Close()
		}
		if rtpConn != nil {
			rtpConn.Close()
		}
		if rtcpConn != nil {
			rtcpConn.Close()
		}
		return nil, fmt.Errorf("rtsptest: start server on %s: %w", o.Addr, err)
	}
	s.log.Debug("rtsp relay listening", "udp", o.UDP, "auth", o.User != "")
	return s, nil
}

// Addr is the dialable host:port of the RTSP listener (127.0.0.1 when the
// server listens on all interfaces).
func (s *Server) Addr() string { return s.addr }

// Options returns the options with every address resolved to the bound port,
// so Start(s.Options()) after Close listens on the same ports again.
func (s *Server) Options() Options { return s.opts }

// URL is rtsp://Addr()/path without credentials.
func (s *Server) URL(path string) string {
	return "rtsp://" + s.addr + "/" + cleanPath(path)
}

// Close stops listening and drops every connection and session at once, as a
// crashing camera or server would. Publishers see their connection reset and
// readers see theirs closed. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		// gortsplib's Close waits for every session, so OnSessionClose has
		// retired all publications by the time it returns; the loop below is
		// only a backstop.
		s.srv.Close()
		s.mu.Lock()
		for _, pub := range s.paths {
			s.retireLocked(pub)
		}
		clear(s.paths)
		s.closed = true
		s.notifyLocked()
		s.mu.Unlock()
		s.log.Debug("rtsp relay closed")
	})
}

// Freeze stops (on) or resumes (off) forwarding media to readers. Connections
// and sessions stay open and publishers keep sending, as with a camera whose
// encoder hung: the reader's only symptom is silence. RTCP sender reports,
// which gortsplib sends on its own timer, keep going. After Freeze(false)
// video resumes at the next key frame (within one GOP); RTP sequence numbers
// continue where they stopped (readers see no packet loss) while timestamps
// jump by the frozen time, as from an encoder that hung and recovered.
func (s *Server) Freeze(on bool) {
	s.frozen.Store(on)
	s.log.Debug("rtsp relay freeze", "on", on)
}

// Corrupt garbles every Nth forwarded video RTP packet, for every path: bytes
// after the NAL unit (or FU) header are scrambled, and about one corruption in
// four also truncates the payload. Only slice data is hit (a packet that is a
// parameter set or an aggregation defers the corruption to the next slice
// packet), so the depacketizer keeps its framing and the decoder gets damaged
// pictures, like bit errors on a lossy link. 0 or less turns it off.
func (s *Server) Corrupt(every int) {
	if every < 0 {
		every = 0
	}
	s.corruptEvery.Store(int64(every))
}

// Stats returns a snapshot of the relay's state and counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := Stats{
		Publishers: len(s.paths),
		Readers:    len(s.readers),
		Conns:      s.conns,
		Delivered:  s.deliveredClosed,
	}
	for _, pub := range s.paths {
		st.Delivered += int64(pub.stream.Stats().OutboundRTPPackets)
	}
	s.mu.Unlock()
	st.PacketsIn = s.packetsIn.Load()
	st.PacketsOut = s.packetsOut.Load()
	st.Dropped = s.dropped.Load()
	st.Corrupted = s.corrupted.Load()
	return st
}

// WaitPublished blocks until a publisher is recording on path, ctx ends or the
// server is closed.
func (s *Server) WaitPublished(ctx context.Context, path string) error {
	path = cleanPath(path)
	for {
		s.mu.Lock()
		_, ok := s.paths[path]
		closed := s.closed
		changed := s.changed
		s.mu.Unlock()
		switch {
		case ok:
			return nil
		case closed:
			return fmt.Errorf("rtsptest: wait for publisher on %q: server closed", path)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rtsptest: wait for publisher on %q: %w", path, ctx.Err())
		case <-changed:
		}
	}
}

// notifyLocked wakes WaitPublished callers; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// retireLocked closes a publication's stream, which disconnects its readers;
// s.mu must be held.
func (s *Server) retireLocked(pub *publication) {
	pub.stream.Close()
	// After Close no write is in flight, so the count is final.
	s.deliveredClosed += int64(pub.stream.Stats().OutboundRTPPackets)
}

// cleanPath maps "/cam1", "cam1/" and "cam1" to one key.
func cleanPath(p string) string { return strings.Trim(p, "/") }

// listenUDPPair binds an RTP/RTCP pair (even port, next odd port) on host,
// as RTSP's UDP transport requires.
func listenUDPPair(host string) (rtp, rtcp net.PacketConn, err error) {
	for range 64 {
		a, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, nil, fmt.Errorf("rtsptest: listen udp: %w", err)
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p%2 == 0 {
			if p < 65535 {
				if b, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p+1))); err == nil {
					return a, b, nil
				}
			}
		} else if b, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p-1))); err == nil {
			return b, a, nil
		}
		a.Close()
	}
	return nil, nil, errors.New("rtsptest: no free UDP port pair found")
}
