package rtsptest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
)

// BenchmarkRelay8x720p15 relays 8 cameras of 1280x720 15 fps H.264 to one TCP
// reader each. One op is one second of live streaming; the metrics are CPU
// per wall second, in percent of one core: relay-cpu% is this process (the
// relay and the 8 gortsplib readers), ffmpeg-cpu% is the 8 publishers.
func BenchmarkRelay8x720p15(b *testing.B) {
	const cams = 8
	ctx := context.Background()
	f, err := MakeMedia(ctx, MediaOptions{Width: 1280, Height: 720, FPS: 15, Duration: 20 * time.Second, Dir: mediaDir})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Start(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var pubs []*Publisher
	var readers []*reader
	for i := range cams {
		path := fmt.Sprintf("cam%d", i+1)
		p, err := Publish(ctx, PublishOptions{File: f, URL: s.URL(path)})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Stop()
		pubs = append(pubs, p)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = s.WaitPublished(wctx, path)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		r, err := dial(s.URL(path), gortsplib.ProtocolTCP)
		if err != nil {
			b.Fatal(err)
		}
		defer r.c.Close()
		readers = append(readers, r)
	}
	time.Sleep(time.Second) // past connection setup

	self0, ff0, st0, t0 := selfCPU(), childrenCPU(pubs), s.Stats(), time.Now()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	wall := time.Since(t0).Seconds()
	st := s.Stats()
	b.ReportMetric(100*(selfCPU()-self0)/wall, "relay-cpu%")
	b.ReportMetric(100*(childrenCPU(pubs)-ff0)/wall, "ffmpeg-cpu%")
	b.ReportMetric(float64(st.PacketsOut-st0.PacketsOut)/wall, "pkts/s")
	var lost int64
	for _, r := range readers {
		lost += r.lost.Load()
	}
	b.ReportMetric(float64(lost), "lost")
}

func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// childrenCPU sums the user+system CPU seconds of the publishers' current
// ffmpeg processes, from /proc.
func childrenCPU(pubs []*Publisher) float64 {
	var ticks int
	for _, p := range pubs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid.Load()))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 12 {
			u, _ := strconv.Atoi(f[11]) // utime, field 14
			k, _ := strconv.Atoi(f[12]) // stime, field 15
			ticks += u + k
		}
	}
	return float64(ticks) / 100 // USER_HZ
}
