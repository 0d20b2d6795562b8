package rtsptest

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
)

// publication is one publisher recording on one path, and the stream that
// fans its packets out to the path's readers.
type publication struct {
	path    string
	session *gortsplib.ServerSession
	stream  *gortsplib.ServerStream
	video   *description.Media // nil when no H.264/H.265 media
	codec   nalCodec
	medias  map[*description.Media]*mediaState // read-only after OnRecord

	videoPackets   atomic.Int64
	corruptPending atomic.Bool
	awaitKey       atomic.Bool // video withheld after a freeze until a key frame
}

// mediaState is per-media relay state.
type mediaState struct {
	// withheld counts packets Freeze kept back; forwarded packets' sequence
	// numbers are lowered by it (mod 2^16) so readers see no loss.
	withheld atomic.Uint32
}

// handler implements gortsplib's ServerHandler interfaces for Server; kept
// apart so the callbacks are not part of Server's API.
type handler struct{ s *Server }

func (h *handler) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	h.s.mu.Lock()
	h.s.conns++
	h.s.mu.Unlock()
	h.s.log.Debug("rtsp conn opened", "remote", ctx.Conn.NetConn().RemoteAddr().String())
}

func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.s.mu.Lock()
	h.s.conns--
	h.s.mu.Unlock()
	h.s.log.Debug("rtsp conn closed", "err", ctx.Error)
}

func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.readers, ctx.Session)
	for path, pub := range s.paths {
		if pub.session == ctx.Session {
			// The publisher went away: close its stream, which disconnects
			// every reader of the path, as a camera that reboots does.
			s.retireLocked(pub)
			delete(s.paths, path)
			s.notifyLocked()
			s.log.Info("rtsp publisher gone", "path", path, "err", ctx.Error)
			break
		}
	}
}

// authorize checks a reader's credentials when the server requires them.
func (h *handler) authorize(conn *gortsplib.ServerConn, req *base.Request) error {
	if h.s.opts.User == "" {
		return nil
	}
	if conn.VerifyCredentials(req, h.s.opts.User, h.s.opts.Pass) {
		return nil
	}
	// ErrServerAuth makes gortsplib answer 401 with a challenge the first
	// time and close the connection when wrong credentials were sent.
	return liberrors.ErrServerAuth{}
}

func (h *handler) lookup(path string) *gortsplib.ServerStream {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if pub := h.s.paths[cleanPath(path)]; pub != nil {
		return pub.stream
	}
	return nil
}

func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.readerStream(ctx.Conn, ctx.Request, ctx.Path)
}

// readerStream authorizes a reader's request and finds the stream of path.
func (h *handler) readerStream(conn *gortsplib.ServerConn, req *base.Request, path string) (*base.Response, *gortsplib.ServerStream, error) {
	if err := h.authorize(conn, req); err != nil {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, err
	}
	st := h.lookup(path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

func (h *handler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	if cleanPath(ctx.Path) == "" {
		return &base.Response{StatusCode: base.StatusBadRequest}, fmt.Errorf("rtsptest: announce on empty path")
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	return h.readerStream(ctx.Conn, ctx.Request, ctx.Path)
}

func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.s.mu.Lock()
	h.s.readers[ctx.Session] = struct{}{}
	h.s.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *handler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	s := h.s
	path := cleanPath(ctx.Path)
	desc := ctx.Session.AnnouncedDescription()
	st := &gortsplib.ServerStream{Server: s.srv, Desc: desc}
	if err := st.Initialize(); err != nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, fmt.Errorf("rtsptest: stream for %q: %w", path, err)
	}
	pub := &publication{path: path, session: ctx.Session, stream: st,
		medias: make(map[*description.Media]*mediaState, len(desc.Medias))}
	pub.video, pub.codec = findVideo(desc)
	for _, m := range desc.Medias {
		pub.medias[m] = &mediaState{}
	}

	ctx.Session.OnPacketRTPAny(func(medi *description.Media, _ format.Format, pkt *rtp.Packet) {
		s.relay(pub, medi, pkt)
	})

	s.mu.Lock()
	if old := s.paths[path]; old != nil {
		// The newest publisher wins, as with a camera that reconnected
		// before the server noticed its old connection was dead.
		s.retireLocked(old)
		old.session.Close()
	}
	s.paths[path] = pub
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("rtsp publisher recording", "path", path, "medias", len(desc.Medias))
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// relay forwards one publisher packet to the path's readers. It runs on the
// publisher's read goroutine for every packet, so it only touches atomics and
// modifies the packet in place; gortsplib marshals it once for all readers.
func (s *Server) relay(pub *publication, medi *description.Media, pkt *rtp.Packet) {
	s.packetsIn.Add(1)
	ms := pub.medias[medi]
	if s.frozen.Load() {
		s.dropped.Add(1)
		ms.withheld.Add(1)
		if medi == pub.video {
			pub.awaitKey.Store(true)
		}
		return
	}
	if medi == pub.video {
		if pub.awaitKey.Load() {
			// Resume at a key frame, as an encoder that recovered: P-frames
			// whose references were withheld would only be decode errors.
			if !isKeyStart(pub.codec, pkt.Payload) {
				s.dropped.Add(1)
				ms.withheld.Add(1)
				return
			}
			pub.awaitKey.Store(false)
		}
		s.maybeCorrupt(pub, pkt)
	}
	pkt.SequenceNumber -= uint16(ms.withheld.Load())
	// Keep the publisher's wall clock (from its RTCP sender reports) so
	// readers get the camera's RTP/NTP mapping, not the relay's.
	ntp, ok := pub.session.PacketNTP(medi, pkt)
	if !ok {
		ntp = time.Now()
	}
	if err := pub.stream.WritePacketRTPWithNTP(medi, pkt, ntp); err != nil {
		// Only fails once the stream is closed (publisher replaced or
		// server closing); the packet has nowhere to go.
		return
	}
	s.packetsOut.Add(1)
}

func (s *Server) maybeCorrupt(pub *publication, pkt *rtp.Packet) {
	every := s.corruptEvery.Load()
	if every <= 0 {
		return
	}
	if pub.videoPackets.Add(1)%every == 0 {
		pub.corruptPending.Store(true)
	}
	if !pub.corruptPending.Load() {
		return
	}
	if out, ok := corruptNAL(pub.codec, pkt.Payload, rand.Uint64()); ok {
		pkt.Payload = out
		pub.corruptPending.Store(false)
		s.corrupted.Add(1)
	}
}

// findVideo returns the first H.264 or H.265 media of a stream.
func findVideo(desc *description.Session) (*description.Media, nalCodec) {
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			switch f.(type) {
			case *format.H264:
				return m, codecH264
			case *format.H265:
				return m, codecH265
			}
		}
	}
	return nil, codecNone
}
