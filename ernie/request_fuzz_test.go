package ernie_test

import (
	"errors"
	"testing"

	"imperial/ernie"
	"imperial/node/etf"
)

// FuzzDecodePacket: any input either decodes to an info or a well-formed
// action, or fails with ErrUndecodable or ErrInvalidRequest; never panics.
func FuzzDecodePacket(f *testing.F) {
	f.Add(enc(f, etf.Tuple{etf.Atom("call"), etf.Atom("ext"), etf.Atom("add"), etf.List{int64(1), int64(2)}}))
	f.Add(enc(f, etf.Tuple{etf.Atom("info"), etf.Atom("priority"), etf.List{etf.Atom("low")}}))
	f.Add(enc(f, etf.List{etf.Atom("info"), etf.Atom("cache"), etf.List{}}))
	f.Add(unhex(f, "83 68 04 64 00 04 63616c6c 64 00 03 657874 64 00 03 616464 6b 00 02 01 02"))
	f.Add([]byte{131, 106})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ernie.DecodePacket(b, etf.Limits{MaxSize: 1 << 16, MaxElements: 1 << 12})
		if err != nil {
			if !errors.Is(err, ernie.ErrUndecodable) && !errors.Is(err, ernie.ErrInvalidRequest) {
				t.Fatalf("unexpected error %v", err)
			}
			_ = ernie.ErrorReply(err, "m", "f")
			return
		}
		if !p.Info {
			a := p.Action
			if len(a.Term) != 4 || a.Module == "" && a.Term[1] != etf.Atom("") {
				t.Fatalf("bad action %+v", a)
			}
			_ = ernie.ToErlang(a.Args)
			if _, err := ernie.ToGo(a.Args); err != nil {
				return
			}
		}
	})
}
