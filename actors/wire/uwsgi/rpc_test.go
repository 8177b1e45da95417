package uwsgi_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"imperial/actors/wire/uwsgi"
)

// realRPCRequest is what uwsgi.rpc('127.0.0.1:13042', b'myfunc', b'arg1',
// b'xxx') sent from uWSGI 2.0.21 (spec §1.7).
const realRPCRequest = "ad 13 00 00 0600 6d7966756e63 0400 61726731 0300 787878"

func TestRPCRequestCapture(t *testing.T) {
	b := mustHex(t, realRPCRequest)
	req, n, err := uwsgi.ParseRPCRequest(b, uwsgi.Limits{})
	if err != nil || n != len(b) {
		t.Fatalf("ParseRPCRequest = n %d, %v", n, err)
	}
	if string(req.Func) != "myfunc" || len(req.Args) != 2 || string(req.Args[0]) != "arg1" || string(req.Args[1]) != "xxx" {
		t.Fatalf("request = %q %q", req.Func, req.Args)
	}
	again, err := uwsgi.AppendRPCRequest(nil, uwsgi.RPCRequest{Func: []byte("myfunc"), Args: [][]byte{[]byte("arg1"), []byte("xxx")}})
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("AppendRPCRequest = %x, %v; want %x", again, err, b)
	}
}

func TestRPCRequestTable(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		lim  uwsgi.Limits
		err  error
		fn   string
		args []string
		m2   uint8
	}{
		{name: "no args", in: pkt(173, 0, []byte{5, 0}, []byte("hello")), fn: "hello"},
		{name: "empty arg skipped", in: pkt(173, 0, []byte{5, 0}, []byte("hello"), []byte{0, 0, 1, 0, 'x'}), fn: "hello", args: []string{"x"}},
		{name: "trailing empty item skipped", in: pkt(173, 0, []byte{1, 0, 'f', 0, 0}), fn: "f"},
		{name: "raw mode (nginx vars)", in: pkt(173, 1, []byte{5, 0}, []byte("hello"), []byte{1, 0, 'a'}), m2: 1, fn: "hello", args: []string{"a"}},
		{name: "need more", in: pkt(173, 0, []byte{5, 0}, []byte("hello"))[:8], err: uwsgi.ErrNeedMore},
		{name: "empty packet", in: pkt(173, 0), err: uwsgi.ErrNoFunc},
		{name: "only empty items", in: pkt(173, 0, []byte{0, 0, 0, 0}), err: uwsgi.ErrNoFunc},
		{name: "truncated item", in: pkt(173, 0, []byte{9, 0, 'a'}), err: uwsgi.ErrTruncated},
		{name: "dangling length byte", in: pkt(173, 0, []byte{1, 0, 'a', 1}), err: uwsgi.ErrTruncated},
		{name: "wrong modifier1", in: pkt(0, 0, []byte{1, 0, 'a'}), err: uwsgi.ErrModifier},
		{name: "http mode not an array", in: pkt(173, 2, []byte{1, 0, 'a'}), err: uwsgi.ErrModifier},
		{name: "too many items", in: pkt(173, 0, []byte{1, 0, 'f', 1, 0, 'a', 1, 0, 'b'}), lim: uwsgi.Limits{MaxRPCItems: 2}, err: uwsgi.ErrTooLarge},
		{name: "over size limit", in: pkt(173, 0, []byte{5, 0}, []byte("hello")), lim: uwsgi.Limits{MaxVarsSize: 6}, err: uwsgi.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, n, err := uwsgi.ParseRPCRequest(tc.in, tc.lim)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || n != len(tc.in) {
				t.Fatalf("n %d, err %v", n, err)
			}
			if string(req.Func) != tc.fn || req.Modifier2 != tc.m2 || len(req.Args) != len(tc.args) {
				t.Fatalf("got %q %q m2 %d", req.Func, req.Args, req.Modifier2)
			}
			for i := range tc.args {
				if string(req.Args[i]) != tc.args[i] {
					t.Errorf("arg %d = %q, want %q", i, req.Args[i], tc.args[i])
				}
			}
		})
	}
}

func TestAppendRPCRequestErrors(t *testing.T) {
	long := make([]byte, 65535)
	many := make([][]byte, 255)
	for i := range many {
		many[i] = []byte("a")
	}
	tests := []struct {
		name string
		req  uwsgi.RPCRequest
		err  error
	}{
		{"no func", uwsgi.RPCRequest{}, uwsgi.ErrNoFunc},
		{"empty arg", uwsgi.RPCRequest{Func: []byte("f"), Args: [][]byte{{}}}, uwsgi.ErrEmptyItem},
		{"arg too long for the packet", uwsgi.RPCRequest{Func: []byte("f"), Args: [][]byte{long}}, uwsgi.ErrTooLarge},
		{"255 args", uwsgi.RPCRequest{Func: []byte("f"), Args: many}, uwsgi.ErrTooLarge},
		{"http mode", uwsgi.RPCRequest{Modifier2: uwsgi.RPCHTTP, Func: []byte("f")}, uwsgi.ErrModifier},
	}
	for _, tc := range tests {
		out, err := uwsgi.AppendRPCRequest([]byte("x"), tc.req)
		if !errors.Is(err, tc.err) || string(out) != "x" {
			t.Errorf("%s: %d bytes, %v; want %v", tc.name, len(out), err, tc.err)
		}
	}
	out, err := uwsgi.AppendRPCRequest(nil, uwsgi.RPCRequest{Func: []byte("f"), Args: many[:254]})
	if err != nil {
		t.Fatalf("254 args: %v", err)
	}
	req, _, err := uwsgi.ParseRPCRequest(out, uwsgi.Limits{})
	if err != nil || len(req.Args) != 254 {
		t.Fatalf("254 args back: %d, %v", len(req.Args), err)
	}
}

func TestRPCResponse(t *testing.T) {
	// Observed: hello(b'foo', b'bar') answered "ad 0d 00 00" + "Hello foo,bar".
	small := uwsgi.AppendRPCResponse(nil, []byte("Hello foo,bar"))
	if want := append(mustHex(t, "ad0d0000"), "Hello foo,bar"...); !bytes.Equal(small, want) {
		t.Fatalf("small = %x, want %x", small, want)
	}
	// Observed: a 70000-byte result → header (173, 23, 5) + vars
	// {CONTENT_LENGTH: 70000} + the bytes.
	result := bytes.Repeat([]byte("0123456789"), 7000)
	large := uwsgi.AppendRPCResponse(nil, result)
	wantHead := append(mustHex(t, "ad170005 0e00"), "CONTENT_LENGTH"...)
	wantHead = append(wantHead, 5, 0)
	wantHead = append(wantHead, "70000"...)
	if !bytes.Equal(large[:len(wantHead)], wantHead) || len(large) != len(wantHead)+70000 {
		t.Fatalf("large head = %x", large[:len(wantHead)])
	}
	edge := uwsgi.AppendRPCResponse(nil, result[:65535])
	if edge[3] != uwsgi.RPCFramed || len(edge) != 4+65535 {
		t.Fatalf("65535-byte result not framed in one packet: m2 %d", edge[3])
	}
	empty := uwsgi.AppendRPCResponse(nil, nil)
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
	}{
		{"small", small, []byte("Hello foo,bar")},
		{"large", large, result},
		{"edge", edge, result[:65535]},
		{"empty", empty, []byte{}},
		{"trailing bytes left", append(bytes.Clone(small), "NEXT"...), []byte("Hello foo,bar")},
	} {
		got, n, err := uwsgi.ParseRPCResponse(tc.in, uwsgi.Limits{})
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("%s: %d bytes, %v", tc.name, len(got), err)
		}
		if tc.name != "trailing bytes left" && n != len(tc.in) {
			t.Fatalf("%s: n %d of %d", tc.name, n, len(tc.in))
		}
	}
	// Split: ErrNeedMore (with the total once known) until complete.
	for _, in := range [][]byte{small, large} {
		known := 4 // header in: the total is known
		if in[3] == uwsgi.RPCLarge {
			known = 4 + 23 // header and CONTENT_LENGTH dict in
		}
		for cut := 0; cut < len(in); cut += 1 + cut/16 {
			_, n, err := uwsgi.ParseRPCResponse(in[:cut], uwsgi.Limits{})
			if !errors.Is(err, uwsgi.ErrNeedMore) {
				t.Fatalf("cut %d: %v", cut, err)
			}
			if n != 0 && (n <= cut || n > len(in)) {
				t.Fatalf("cut %d: need %d, want 0 or in (%d, %d]", cut, n, cut, len(in))
			}
			if cut >= known && n != len(in) {
				t.Fatalf("cut %d: total not reported", cut)
			}
		}
	}
	bad := []struct {
		name string
		in   []byte
		lim  uwsgi.Limits
		err  error
	}{
		{"not rpc", pkt(0, 0), uwsgi.Limits{}, uwsgi.ErrModifier},
		{"raw mode has no header", pkt(173, 1), uwsgi.Limits{}, uwsgi.ErrModifier},
		{"over result limit", large[:40], uwsgi.Limits{MaxRPCResult: 69999}, uwsgi.ErrTooLarge},
		{"small over result limit", small, uwsgi.Limits{MaxRPCResult: 5}, uwsgi.ErrTooLarge},
		{"no content length", pkt(173, 5, rec("X", "1")), uwsgi.Limits{}, uwsgi.ErrNumber},
		{"bad content length", pkt(173, 5, rec("CONTENT_LENGTH", "-1")), uwsgi.Limits{}, uwsgi.ErrNumber},
		{"huge content length", pkt(173, 5, rec("CONTENT_LENGTH", "99999999999999999999")), uwsgi.Limits{}, uwsgi.ErrTooLarge},
	}
	for _, tc := range bad {
		if _, _, err := uwsgi.ParseRPCResponse(tc.in, tc.lim); !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		}
	}
}

func TestArrayRoundTrip(t *testing.T) {
	items := [][]byte{[]byte("a"), bytes.Repeat([]byte("b"), 1000), []byte(strings.Repeat("c", 3))}
	b, err := uwsgi.AppendArray(nil, items...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := uwsgi.ParseArray(b, uwsgi.Limits{})
	if err != nil || len(got) != len(items) {
		t.Fatalf("ParseArray: %d, %v", len(got), err)
	}
	for i := range items {
		if !bytes.Equal(got[i], items[i]) {
			t.Fatalf("item %d differs", i)
		}
	}
	if _, err := uwsgi.AppendArray(nil, []byte("a"), nil); !errors.Is(err, uwsgi.ErrEmptyItem) {
		t.Fatalf("empty item: %v", err)
	}
}

// TestCapturedRPC decodes the bytes captured from real uWSGI by the peer
// tests (IMPERIAL_CAPTURE=1): a uwsgi.rpc request and a node's answer.
func TestCapturedRPC(t *testing.T) {
	req := testdataSeeds(t, "uwsgi-rpc-request.bin")
	resp := testdataSeeds(t, "uwsgi-rpc-response.bin")
	if len(req) != 1 || len(resp) != 1 {
		t.Fatalf("testdata missing: %d requests, %d responses", len(req), len(resp))
	}
	r, n, err := uwsgi.ParseRPCRequest(req[0], uwsgi.Limits{})
	if err != nil || n != len(req[0]) || string(r.Func) != "hello" || len(r.Args) != 2 {
		t.Fatalf("captured request: %q %q, %v", r.Func, r.Args, err)
	}
	res, n, err := uwsgi.ParseRPCResponse(resp[0], uwsgi.Limits{})
	if err != nil || n != len(resp[0]) || string(res) != "Hello a,b" {
		t.Fatalf("captured response: %q, %v", res, err)
	}
}
