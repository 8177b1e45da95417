package epmd

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		erlAlive2,
		"0010 78 0001 48 00 0005 0005 0001 61 0002 abcd",
		"0006 7a 65706d6474",
		"0001 6e",
		"0000",
		"ffff 78",
		"000d 78 0001 4d 00 0006 0006 0fff 0000",
		"76 00 6b01b913",
		"76 01 00000063",
		"79 00 0001",
		"77 00 9c41 4d 00 0006 0006 0005 65706d6474 0000",
		"77 01",
		"00001111",
	} {
		f.Add(unhex(f, s))
	}
	f.Add([]byte("name b at port 25001\n"))
	f.Add([]byte("name x at port y at port 7\n"))
}

// FuzzParseRequest: never panics, n stays within the input, and a decoded
// request re-encodes to exactly the bytes it came from.
func FuzzParseRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, n, err := ParseRequest(b)
		if n < 0 || n > len(b) {
			t.Fatalf("n=%d outside input of %d", n, len(b))
		}
		if errors.Is(err, ErrNeedMore) {
			if n != 0 {
				t.Fatalf("ErrNeedMore with n=%d", n)
			}
			return
		}
		if err != nil {
			return
		}
		var enc []byte
		switch req.Op {
		case OpAlive2Req:
			enc, err = AppendAlive2Req(nil, req.Node)
		case OpPortPlease2Req:
			enc, err = AppendPortPlease2Req(nil, req.Name)
		case OpNamesReq:
			enc = AppendNamesReq(nil)
		default:
			t.Fatalf("decoded op %d without error", req.Op)
		}
		if err != nil || !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encode %+v = % x (%v), want % x", req, enc, err, b[:n])
		}
	})
}

// FuzzParseResponse runs every response decoder on the same bytes: no panic,
// n within the input, and decoded values survive a round trip.
func FuzzParseResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, n, err := ParseAlive2Resp(b); err == nil {
			enc := AppendAlive2Resp(nil, 0, r.Creation, r.Extended)
			if !bytes.Equal(enc, b[:n]) {
				t.Fatalf("alive2 resp % x, want % x", enc, b[:n])
			}
		} else if n < 0 || n > len(b) {
			t.Fatalf("alive2 resp n=%d", n)
		}
		if node, n, err := ParsePort2Resp(b); err == nil {
			enc, eerr := AppendPort2Resp(nil, node)
			if eerr != nil || !bytes.Equal(enc, b[:n]) {
				t.Fatalf("port2 % x (%v), want % x", enc, eerr, b[:n])
			}
		} else if n < 0 || n > len(b) {
			t.Fatalf("port2 n=%d", n)
		}
		if e, n, err := ParseNameLine(b); err == nil {
			again, m, err := ParseNameLine(AppendNameLine(nil, e))
			if err != nil || !reflect.DeepEqual(again, e) || n > len(b) || m == 0 {
				t.Fatalf("name line %+v -> %+v (%v)", e, again, err)
			}
		} else if n != 0 {
			t.Fatalf("name line error with n=%d", n)
		}
		if _, n, err := ParseNamesHeader(b); err == nil && n != 4 {
			t.Fatalf("names header n=%d", n)
		}
	})
}
