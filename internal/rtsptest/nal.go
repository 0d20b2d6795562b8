package rtsptest

// nalCodec tells how to read the NAL unit header of a video RTP payload.
type nalCodec int

const (
	codecNone nalCodec = iota
	codecH264
	codecH265
)

// corruptSpan is how many bytes of slice data one corruption scrambles: enough
// to wreck a slice header and the macroblocks after it, not the whole picture.
const corruptSpan = 64

// sliceHeaderLen returns how many leading bytes of an RTP payload are RTP
// payload-format framing (NAL unit header, FU indicator and FU header) when
// the payload carries slice (VCL) data, and false for anything else:
// parameter sets, SEI, aggregation packets. Leaving those intact keeps the
// depacketizer's framing so the damage reaches the decoder (RFC 6184, 7798).
func sliceHeaderLen(codec nalCodec, p []byte) (int, bool) {
	switch codec {
	case codecH264:
		if len(p) < 1 {
			return 0, false
		}
		switch t := p[0] & 0x1f; {
		case t >= 1 && t <= 5: // single NAL unit packet, coded slice
			return 1, true
		case t == 28: // FU-A
			if len(p) >= 2 {
				if in := p[1] & 0x1f; in >= 1 && in <= 5 {
					return 2, true
				}
			}
		}
	case codecH265:
		if len(p) < 2 {
			return 0, false
		}
		switch t := (p[0] >> 1) & 0x3f; {
		case t < 32: // single NAL unit packet, VCL
			return 2, true
		case t == 49: // fragmentation unit
			if len(p) >= 3 && p[2]&0x3f < 32 {
				return 3, true
			}
		}
	}
	return 0, false
}

// corruptNAL scrambles, in place, up to corruptSpan bytes of slice data after
// the payload's framing, and for one call in four (by rnd) also cuts the
// payload in half. It returns the payload to send and whether it was changed;
// payloads that carry no slice data are left alone.
func corruptNAL(codec nalCodec, p []byte, rnd uint64) ([]byte, bool) {
	hdr, ok := sliceHeaderLen(codec, p)
	if !ok || len(p) <= hdr {
		return p, false
	}
	body := p[hdr:]
	start := 0
	if len(body) > 4 {
		start = int(rnd % uint64(len(body)/4))
	}
	end := min(start+corruptSpan, len(body))
	x := rnd | 1 // xorshift state must not be zero
	for i := start; i < end; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b := byte(x)
		if b == 0 {
			b = 0xa5 // every byte in the span really changes
		}
		body[i] ^= b
	}
	if rnd>>62 == 0 && len(body) > 1 {
		return p[:hdr+len(body)/2], true
	}
	return p, true
}

// isKeyStart reports whether an RTP payload begins a key frame: a parameter
// set (sent in band right before the IDR/IRAP picture), an aggregation packet
// that starts with one, or the first packet of an IDR/IRAP slice.
func isKeyStart(codec nalCodec, p []byte) bool {
	switch codec {
	case codecH264:
		if len(p) < 1 {
			return false
		}
		key := func(t byte) bool { return t == 5 || t == 7 || t == 8 }
		switch t := p[0] & 0x1f; {
		case key(t):
			return true
		case t == 24: // STAP-A: header, 16-bit size, first NAL unit
			return len(p) > 3 && key(p[3]&0x1f)
		case t == 28: // FU-A
			return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
		}
	case codecH265:
		if len(p) < 2 {
			return false
		}
		key := func(t byte) bool { return (t >= 16 && t <= 21) || (t >= 32 && t <= 34) }
		switch t := (p[0] >> 1) & 0x3f; {
		case key(t):
			return true
		case t == 48: // AP: 2-byte header, 16-bit size, first NAL unit
			return len(p) > 4 && key((p[4]>>1)&0x3f)
		case t == 49: // FU
			return len(p) > 2 && p[2]&0x80 != 0 && key(p[2]&0x3f)
		}
	default:
		return true // nothing to wait for
	}
	return false
}
