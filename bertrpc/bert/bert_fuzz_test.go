package bert_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

// FuzzDecode checks that Decode and DecodeMessage never panic, that every
// error wraps ErrMalformed or ErrTooLarge, and that whatever decodes and can
// be re-encoded decodes again to an equal value (Encode is then stable).
func FuzzDecode(f *testing.F) {
	for _, tt := range rubyTable {
		b, _ := hex.DecodeString(tt.hex)
		f.Add(b)
	}
	for _, tt := range encodeTable {
		b, _ := hex.DecodeString(tt.hex)
		f.Add(b)
	}
	lim := etf.Limits{MaxSize: 1 << 16, MaxDepth: 64, MaxElements: 1 << 12}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := bert.DecodeLimits(b, lim)
		if err != nil {
			if !errors.Is(err, bert.ErrMalformed) && !errors.Is(err, bert.ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if m, err := bert.ParseMessage(v); err == nil {
			if _, err := bert.Encode(m); err != nil && !errors.Is(err, bert.ErrNotBERT) && !errors.Is(err, etf.ErrBadAtom) {
				t.Fatalf("re-encoding message %#v: %v", m, err)
			}
		}
		enc, err := bert.Encode(v)
		if err != nil {
			// Terms with no BERT form, and atoms outside Latin-1.
			if !errors.Is(err, bert.ErrNotBERT) && !errors.Is(err, etf.ErrBadAtom) {
				t.Fatalf("re-encoding %#v: %v", v, err)
			}
			return
		}
		again, err := bert.Decode(enc)
		if err != nil {
			t.Fatalf("decoding re-encoded %x: %v", enc, err)
		}
		if !bert.Equal(again, v) {
			t.Fatalf("re-encoded value differs: %#v vs %#v", again, v)
		}
		enc2, err := bert.Encode(again)
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("encoding not stable: %x vs %x (%v)", enc2, enc, err)
		}
	})
}
