package evidence

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storesight/storesight/video"
)

// captureGOPs records whole GOPs of a real H.264 stream of file (with a
// keyframe every gop pictures), to replay into buffers: the capture ends
// just before a keyframe.
func captureGOPs(t testing.TB, file string, gop, gops int) []video.AccessUnit {
	t.Helper()
	cam := startCamera(t, map[string]string{"main": file})
	var c capture
	st, err := video.OpenRTSPStream(context.Background(), video.Spec{Camera: "door", URL: cam.srv.URL("main"), Transport: "tcp"}, c.add)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Duration(gops+5)*time.Second, "capture", func() bool { return c.len() > gops*gop })
	st.Close()
	aus := c.all()
	for i, au := range aus {
		if au.Random != (i%gop == 0) {
			t.Fatalf("AU %d random=%v, want a keyframe every %d starting with the first", i, au.Random, gop)
		}
		if len(au.Params) != 2 || au.Codec.String() != "H264" {
			t.Fatalf("AU %d: codec %v, %d parameter sets", i, au.Codec, len(au.Params))
		}
	}
	return aus[:gops*gop]
}

// gopBytes is the coded size of each GOP of aus, as a Buffer counts it.
func gopBytes(aus []video.AccessUnit) []int64 {
	var sizes []int64
	for _, au := range aus {
		if au.Random {
			sizes = append(sizes, nalBytes(au.Params))
		}
		sizes[len(sizes)-1] += nalBytes(au.NALUs)
	}
	return sizes
}

func TestBufferBounds(t *testing.T) {
	t.Parallel()
	aus := captureGOPs(t, media(t, "h264", 1280, 720, testFPS, testGOP), testGOP, 5)
	sizes := gopBytes(aus)

	t.Run("bytes evict whole GOPs", func(t *testing.T) {
		var mean int64
		for _, s := range sizes {
			mean += s
		}
		mean /= int64(len(sizes))
		limit := mean * 5 / 2
		b := NewBuffer(Options{Keep: time.Hour, MaxBytes: limit})
		for i, au := range aus {
			b.Add(au)
			if st := b.Stats(); st.Bytes > limit {
				t.Fatalf("after AU %d: %d bytes held, bound %d", i, st.Bytes, limit)
			}
		}
		// The buffer holds the longest run of newest GOPs that fits.
		keep, sum := 0, int64(0)
		for i := len(sizes) - 1; i >= 0 && sum+sizes[i] <= limit; i-- {
			sum += sizes[i]
			keep++
		}
		st := b.Stats()
		first := aus[(len(sizes)-keep)*testGOP]
		if st.GOPs != keep || st.Bytes != sum || st.AUs != keep*testGOP || st.Evicted != int64(len(sizes)-keep) ||
			!st.Oldest.Equal(first.Time) || !first.Random || st.Dropped != 0 {
			t.Fatalf("stats %+v with GOPs of %v bytes and a %d byte bound: want the newest %d GOPs (%d bytes)", st, sizes, limit, keep, sum)
		}
		// What is left starts at a keyframe: it decodes from its start.
		path := filepath.Join(t.TempDir(), "bounded.h264")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.WriteClip(f, st.Oldest, st.Newest)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n, _, _, _ := ffprobe(t, path); n != st.AUs || c.Pictures != st.AUs {
			t.Fatalf("clip of the bounded buffer: %d pictures written, ffprobe decodes %d, want %d", c.Pictures, n, st.AUs)
		}
	})

	t.Run("a GOP larger than the bound is dropped", func(t *testing.T) {
		// Room for a keyframe but not for its GOP.
		limit := nalBytes(aus[0].Params) + nalBytes(aus[0].NALUs) + 1
		b := NewBuffer(Options{MaxBytes: limit})
		for i, au := range aus {
			b.Add(au)
			if st := b.Stats(); st.Bytes > limit || (st.AUs > 0 && !st.Oldest.Equal(aus[i-i%testGOP].Time)) {
				t.Fatalf("after AU %d: %+v", i, st)
			}
		}
		if st := b.Stats(); st.Dropped < int64(len(aus)-len(sizes)) || st.Added != int64(len(aus)) {
			t.Fatalf("stats %+v, want all but about one picture per GOP dropped", st)
		}
	})

	t.Run("pictures before the first keyframe are dropped", func(t *testing.T) {
		b := NewBuffer(Options{})
		for _, au := range aus[3:] {
			b.Add(au)
		}
		st := b.Stats()
		if st.Dropped != testGOP-3 || st.AUs != len(aus)-testGOP || !st.Oldest.Equal(aus[testGOP].Time) || st.GOPs != len(sizes)-1 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("keep holds at least Keep and at most one GOP more", func(t *testing.T) {
		keep := 2 * time.Second
		b := NewBuffer(Options{Keep: keep})
		for i, au := range aus {
			b.Add(au)
			st := b.Stats()
			if st.Span() > keep+time.Second || (au.Time.Sub(aus[0].Time) >= keep && st.Span() < keep) {
				t.Fatalf("after AU %d (%v in): holds %v, Keep %v", i, au.Time.Sub(aus[0].Time), st.Span(), keep)
			}
		}
	})
}
