package etf_test

import (
	"bytes"
	"errors"
	"testing"

	"imperial/node/etf"
)

// FuzzDecode: decoding never panics; a successful decode re-encodes, the
// re-encoding decodes to an equal term and encodes to the same bytes again,
// and every strict prefix of the consumed bytes is ErrNeedMore.
func FuzzDecode(f *testing.F) {
	for _, c := range validCases {
		f.Add(mustHex(c.hex))
	}
	f.Add(mustHex(funLatin1))
	f.Add(mustHex(funCached))
	for _, c := range invalidCases {
		if b := mustHex(c.hex); len(b) <= 4096 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := etf.DecodeOptions{Limits: etf.Limits{MaxSize: 1 << 20, MaxElements: 1 << 16}}
		v, n, err := etf.Decode(b, opts)
		if err != nil {
			if v != nil || n != 0 {
				t.Fatalf("error %v with value %#v n=%d", err, v, n)
			}
			return
		}
		if n < 2 || n > len(b) {
			t.Fatalf("n=%d of %d", n, len(b))
		}
		if _, _, err := etf.Decode(b[:n/2], opts); !errors.Is(err, etf.ErrNeedMore) {
			t.Fatalf("prefix %d of %d: %v", n/2, n, err)
		}
		enc, err := etf.Encode(v, etf.EncodeOptions{})
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", v, err)
		}
		v2, n2, err := etf.Decode(enc, etf.DecodeOptions{})
		if err != nil || n2 != len(enc) {
			t.Fatalf("re-decode of %X: %v n=%d", enc, err, n2)
		}
		if !etf.Equal(v, v2) {
			t.Fatalf("unstable: %#v then %#v", v, v2)
		}
		enc2, err := etf.Encode(v2, etf.EncodeOptions{})
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %X then %X (%v)", enc, enc2, err)
		}
		// The input bytes and the canonical bytes are the same term, so a map
		// holding both as keys has a duplicate key (checks that the decoder
		// notices every non-canonical form it compares by wire bytes).
		if b[1] != 80 {
			m := []byte{131, 116, 0, 0, 0, 2}
			m = append(append(m, b[1:n]...), 106)
			m = append(append(m, enc[1:]...), 106)
			if _, _, err := etf.Decode(m, etf.DecodeOptions{}); !errors.Is(err, etf.ErrDuplicateKey) {
				t.Fatalf("map with keys %X and %X: %v", b[1:n], enc[1:], err)
			}
		}
	})
}
