package rtsptest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func ffprobeField(t *testing.T, file, entries string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", entries, "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	return strings.TrimSpace(string(out))
}

func TestMakeMedia(t *testing.T) {
	for _, tc := range []struct{ codec, name, paramNAL string }{
		{"h264", "h264", "nal_unit_type"}, {"h265", "hevc", "nal_unit_type"},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			f := testMedia(t, tc.codec)
			if got := ffprobeField(t, f, "stream=codec_name,width,height,has_b_frames,avg_frame_rate"); got != tc.name+",640,360,0,15/1" {
				t.Fatalf("stream = %q", got)
			}
			if got := ffprobeField(t, f, "format=format_name"); !strings.Contains(got, "mp4") {
				t.Fatalf("container %q", got)
			}

			// Key frames exactly every GOP (15) frames, no audio.
			flags := strings.Fields(ffprobeField(t, f, "packet=flags"))
			if len(flags) != 30 {
				t.Fatalf("%d packets, want 30", len(flags))
			}
			for i, fl := range flags {
				if key := strings.HasPrefix(fl, "K"); key != (i%15 == 0) {
					t.Fatalf("packet %d flags %q", i, fl)
				}
			}
			if got := ffprobeField(t, f, "format=nb_streams"); got != "1" {
				t.Fatalf("%s streams", got)
			}

			// Parameter sets in band at both key frames, besides extradata.
			out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-i", f, "-c", "copy",
				"-bsf:v", "trace_headers", "-f", "null", "-").CombinedOutput()
			if err != nil {
				t.Fatalf("trace_headers: %v", err)
			}
			sps := "= 7\n" // H.264 SPS
			if tc.codec == "h265" {
				sps = "= 33\n"
			}
			n := 0
			for line := range strings.Lines(string(out)) {
				if strings.Contains(line, "nal_unit_type") && strings.HasSuffix(line, sps) {
					n++
				}
			}
			if n < 3 { // extradata + 2 key frames
				t.Fatalf("%d SPS NAL units, want >= 3", n)
			}

			// Cached: same path, file untouched.
			st, _ := os.Stat(f)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			again, err := MakeMedia(ctx, testMediaOptions(tc.codec))
			if err != nil || again != f {
				t.Fatalf("second MakeMedia = %q, %v; want %q", again, err, f)
			}
			st2, _ := os.Stat(again)
			if !st2.ModTime().Equal(st.ModTime()) {
				t.Fatal("cached media rewritten")
			}
			if err := CheckLoop(ctx, f, 4); err != nil {
				t.Fatal(err)
			}
			// No temp files left behind.
			ents, _ := os.ReadDir(mediaDir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Fatalf("temp file %s left", e.Name())
				}
			}
		})
	}
}

func TestMakeMediaErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, o := range map[string]MediaOptions{
		"no dir":      {Codec: "h264"},
		"bad codec":   {Codec: "vp9", Dir: dir},
		"no source":   {Source: "/nonexistent.avi", Dir: dir},
		"not a video": {Source: "/etc/hostname", Dir: dir, FPS: 15},
	} {
		if f, err := MakeMedia(ctx, o); err == nil {
			t.Fatalf("%s: MakeMedia = %q, want error", name, f)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("failed encodes left %d files", len(ents))
	}
}

// TestCheckFrameCRC runs the loop check's parser on real ffmpeg output and on
// the same output with a frame missing and with time running backwards.
func TestCheckFrameCRC(t *testing.T) {
	f := testMedia(t, "h264")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-stream_loop", "1", "-i", f, "-c", "copy", "-f", "framecrc", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkFrameCRC(string(out), 2); err != nil {
		t.Fatalf("real output: %v", err)
	}
	var head, body []string
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "#") {
			head = append(head, line)
		} else {
			body = append(body, line)
		}
	}
	join := func(lines []string) string { return strings.Join(head, "") + strings.Join(lines, "") }

	gap := append(append([]string{}, body[:20]...), body[21:]...)
	gap = append(gap, body[len(body)-1]) // keep the count a multiple of 2
	if err := checkFrameCRC(join(gap), 2); err == nil || !strings.Contains(err.Error(), "jumps") {
		t.Fatalf("missing frame: %v", err)
	}
	back := append([]string{}, body...)
	back[30], back[31] = back[31], back[30] // the second loop's first frame
	if err := checkFrameCRC(join(back), 2); err == nil {
		t.Fatalf("time running backwards: %v", err)
	}
	if err := checkFrameCRC(join(body[:len(body)-1]), 2); err == nil {
		t.Fatal("odd packet count over 2 loops accepted")
	}
	if err := checkFrameCRC(string(bytes.Join(nil, nil)), 2); err == nil {
		t.Fatal("empty output accepted")
	}
}
