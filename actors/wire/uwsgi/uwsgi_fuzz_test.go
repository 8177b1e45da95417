package uwsgi_test

import (
	"bytes"
	"errors"
	"testing"

	"imperial/actors/wire/uwsgi"
)

func fuzzSeeds(f *testing.F) {
	f.Add(nginxPacket(f))
	f.Add(mustHex(f, realRPCRequest))
	f.Add(pkt(0, 0))
	f.Add(pkt(224, 1, rec("key", "example.com"), rec("address", "127.0.0.1:3031")))
	f.Add(pkt(0, 0, rec("A", "1"), rec("A", "")))
	f.Add(pkt(0, 0, []byte{1, 0, 'a', 5, 0, 'x'}))
	f.Add(pkt(173, 5, rec("CONTENT_LENGTH", "3"), []byte("abc")))
	f.Add(uwsgi.AppendRPCResponse(nil, []byte("Hello a,b")))
	f.Add([]byte{0, 0xff, 0xff, 0})
	for _, b := range testdataSeeds(f, "*.bin") {
		f.Add(b)
	}
}

// FuzzParseVars feeds arbitrary bytes to the packet and vars decoders: they
// must not panic, must respect the limits, and whatever they accept must
// re-encode to exactly the bytes they took (the encoding is canonical).
func FuzzParseVars(f *testing.F) {
	fuzzSeeds(f)
	lim := uwsgi.Limits{MaxVars: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := uwsgi.ParsePacket(b, lim)
		if err != nil {
			if n != 0 {
				t.Fatalf("n %d with error %v", n, err)
			}
		} else {
			if n != uwsgi.HeaderSize+int(p.Header.Size) || n > len(b) || len(p.Vars) > 64 {
				t.Fatalf("n %d, size %d, %d vars", n, p.Header.Size, len(p.Vars))
			}
			again, err := uwsgi.AppendPacket(nil, p.Header.Modifier1, p.Header.Modifier2, p.Vars)
			if err != nil || !bytes.Equal(again, b[:n]) || !bytes.Equal(p.Raw, b[:n]) {
				t.Fatalf("re-encode differs: %v", err)
			}
		}
		// The same bytes as a bare vars block.
		vs, vn, verr := uwsgi.ParseVars(b, lim)
		count, serr := uwsgi.ScanVars(b, lim, func(_, _ []byte) bool { return true })
		if (verr == nil) != (serr == nil) {
			t.Fatalf("ParseVars %v, ScanVars %v", verr, serr)
		}
		if verr == nil {
			if vn != len(b) || count != len(vs) {
				t.Fatalf("n %d of %d, %d vars, scanned %d", vn, len(b), len(vs), count)
			}
			again, err := uwsgi.AppendVars(nil, vs)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("vars re-encode differs: %v", err)
			}
		} else if errors.Is(verr, uwsgi.ErrNeedMore) {
			t.Fatalf("ParseVars returned ErrNeedMore")
		}
	})
}

// FuzzParseRPC checks the RPC decoders on arbitrary bytes.
func FuzzParseRPC(f *testing.F) {
	fuzzSeeds(f)
	lim := uwsgi.Limits{MaxRPCResult: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, n, err := uwsgi.ParseRPCRequest(b, lim)
		if err == nil {
			if n > len(b) || len(req.Func) == 0 || len(req.Args) > uwsgi.MaxRPCItems-1 {
				t.Fatalf("n %d, func %q, %d args", n, req.Func, len(req.Args))
			}
			for _, a := range req.Args {
				if len(a) == 0 {
					t.Fatalf("empty arg delivered")
				}
			}
			again, err := uwsgi.AppendRPCRequest(nil, req)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			back, _, err := uwsgi.ParseRPCRequest(again, lim)
			if err != nil || !bytes.Equal(back.Func, req.Func) || len(back.Args) != len(req.Args) {
				t.Fatalf("round trip: %v", err)
			}
		}
		res, n, err := uwsgi.ParseRPCResponse(b, lim)
		if err == nil && (n > len(b) || len(res) > 1<<20) {
			t.Fatalf("n %d of %d, result %d", n, len(b), len(res))
		}
		if errors.Is(err, uwsgi.ErrNeedMore) && n != 0 && n <= len(b) {
			t.Fatalf("need %d but have %d", n, len(b))
		}
	})
}
