package benchmarks

import (
	"fmt"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// clockProbe is a second RTSP reader of one camera that compares each
// picture's arrival with its wall time from RTCP (the time storesight gives
// the frame and its events). ffmpeg's -re sends pictures a little before
// the wall time its sender reports map them to, where a real camera sends
// them after it (capture and encoding take time), so this offset says how
// much the frame-to-Kafka latency is understated by.
type clockProbe struct {
	c         *gortsplib.Client
	closeOnce sync.Once

	mu      sync.Mutex
	from    time.Time
	offsets []time.Duration // arrival - RTCP wall time, per picture
}

func startClockProbe(rawURL string) (*clockProbe, error) {
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("clock probe: %w", err)
	}
	tcp := gortsplib.ProtocolTCP
	p := &clockProbe{c: &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}}
	if err := p.c.Start(); err != nil {
		return nil, fmt.Errorf("clock probe: %w", err)
	}
	desc, _, err := p.c.Describe(u)
	if err == nil {
		err = p.c.SetupAll(desc.BaseURL, desc.Medias)
	}
	if err != nil {
		p.c.Close()
		return nil, fmt.Errorf("clock probe: %w", err)
	}
	p.c.OnPacketRTPAny(func(m *description.Media, _ format.Format, pkt *rtp.Packet) {
		if !pkt.Marker || m.Type != description.MediaTypeVideo { // the last packet of a picture
			return
		}
		now := time.Now()
		ntp, ok := p.c.PacketNTP(m, pkt)
		if !ok {
			return
		}
		p.mu.Lock()
		if !p.from.IsZero() && now.After(p.from) {
			p.offsets = append(p.offsets, now.Sub(ntp))
		}
		p.mu.Unlock()
	})
	if _, err := p.c.Play(nil); err != nil {
		p.c.Close()
		return nil, fmt.Errorf("clock probe: %w", err)
	}
	return p, nil
}

// Measure starts counting pictures from now on.
func (p *clockProbe) Measure() {
	p.mu.Lock()
	p.from = time.Now()
	p.mu.Unlock()
}

// Stop closes the reader and returns the median offset and the number of
// pictures it is taken over. It may be called again.
func (p *clockProbe) Stop() (time.Duration, int) {
	p.closeOnce.Do(p.c.Close)
	p.mu.Lock()
	defer p.mu.Unlock()
	return quantile(p.offsets, 0.5), len(p.offsets)
}
