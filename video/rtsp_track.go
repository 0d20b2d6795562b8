package video

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"

	"github.com/storesight/storesight/avcodec"
)

// rtspTrack hides the differences between H.264 and H.265 video tracks:
// how RTP is depacketized, which access units are key frames, where the
// frame rate sits in the SPS.
type rtspTrack struct {
	name      string
	codec     avcodec.Codec
	format    format.Format
	clockRate int
	params    [][]byte // VPS/SPS/PPS from the SDP, in decoding order

	depacketize    func(*rtp.Packet) ([][]byte, error)
	incomplete     func(error) bool // depacketizer errors that only mean "wait"
	isRandomAccess func([][]byte) bool
	spsFPS         func(nalu []byte) float64 // 0 when nalu is no SPS or has no timing
	// paramSlot tells which parameter set a NAL unit is, as an index in
	// decoding order (H.264: SPS 0, PPS 1; H.265: VPS 0, SPS 1, PPS 2), or
	// -1 for other NAL units.
	paramSlot  func(nalu []byte) int
	paramSlots int
}

// unsupportedCodecError says a camera offers no video this build decodes.
type unsupportedCodecError struct{ found []string }

func (e unsupportedCodecError) Error() string {
	if len(e.found) == 0 {
		return "stream has no media; want H.264 or H.265 video"
	}
	return fmt.Sprintf("stream offers %s; want H.264 or H.265 video", strings.Join(e.found, ", "))
}

// pickVideoTrack selects the first H.264 or H.265 video format.
func pickVideoTrack(desc *description.Session) (*description.Media, *rtspTrack, error) {
	var found []string
	for _, m := range desc.Medias {
		if m.IsBackChannel {
			continue
		}
		for _, f := range m.Formats {
			switch f := f.(type) {
			case *format.H264:
				t, err := h264Track(f)
				return m, t, err
			case *format.H265:
				t, err := h265Track(f)
				return m, t, err
			default:
				found = append(found, fmt.Sprintf("%s %s", m.Type, formatName(f)))
			}
		}
	}
	return nil, nil, unsupportedCodecError{found: found}
}

// formatName names a format for errors by its rtpmap encoding ("JPEG",
// "MP4V-ES"), or by payload type for static ones without rtpmap.
func formatName(f format.Format) string {
	if name, _, _ := strings.Cut(f.RTPMap(), "/"); name != "" {
		return name
	}
	return fmt.Sprintf("payload type %d", f.PayloadType())
}

func h264Track(f *format.H264) (*rtspTrack, error) {
	d, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("H.264 depacketizer: %w", err)
	}
	t := &rtspTrack{
		name: "H.264", codec: avcodec.H264, format: f, clockRate: f.ClockRate(),
		depacketize: d.Decode,
		incomplete: func(err error) bool {
			return errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious)
		},
		isRandomAccess: h264.IsRandomAccess,
		spsFPS: func(n []byte) float64 {
			if len(n) == 0 || h264.NALUType(n[0]&0x1f) != h264.NALUTypeSPS {
				return 0
			}
			var sps h264.SPS
			if sps.Unmarshal(n) != nil {
				return 0
			}
			return sps.FPS()
		},
		paramSlot: func(n []byte) int {
			if len(n) == 0 {
				return -1
			}
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				return 0
			case h264.NALUTypePPS:
				return 1
			}
			return -1
		},
		paramSlots: 2,
	}
	sps, pps := f.SafeParams()
	for _, p := range [][]byte{sps, pps} {
		if len(p) > 0 {
			t.params = append(t.params, p)
		}
	}
	return t, nil
}

func h265Track(f *format.H265) (*rtspTrack, error) {
	d, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("H.265 depacketizer: %w", err)
	}
	t := &rtspTrack{
		name: "H.265", codec: avcodec.H265, format: f, clockRate: f.ClockRate(),
		depacketize: d.Decode,
		incomplete: func(err error) bool {
			return errors.Is(err, rtph265.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious)
		},
		isRandomAccess: h265.IsRandomAccess,
		spsFPS: func(n []byte) float64 {
			if len(n) < 2 || h265.NALUType((n[0]>>1)&0x3f) != h265.NALUType_SPS_NUT {
				return 0
			}
			var sps h265.SPS
			if sps.Unmarshal(n) != nil {
				return 0
			}
			return sps.FPS()
		},
		paramSlot: func(n []byte) int {
			if len(n) < 2 {
				return -1
			}
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				return 0
			case h265.NALUType_SPS_NUT:
				return 1
			case h265.NALUType_PPS_NUT:
				return 2
			}
			return -1
		},
		paramSlots: 3,
	}
	vps, sps, pps := f.SafeParams()
	for _, p := range [][]byte{vps, sps, pps} {
		if len(p) > 0 {
			t.params = append(t.params, p)
		}
	}
	return t, nil
}
