package uwsgi_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imperial/actors/wire/uwsgi"
)

// nginxVars are the vars nginx 1.22 sent for the request of spec §1.5, in
// wire order (datasize 487, body "a=1&b=2").
var nginxVars = [][2]string{
	{"QUERY_STRING", "q=1"},
	{"REQUEST_METHOD", "POST"},
	{"CONTENT_TYPE", "application/x-www-form-urlencoded"},
	{"CONTENT_LENGTH", "7"},
	{"REQUEST_URI", "/path/x?q=1"},
	{"PATH_INFO", "/path/x"},
	{"DOCUMENT_ROOT", "/usr/share/nginx/html"},
	{"SERVER_PROTOCOL", "HTTP/1.1"},
	{"REQUEST_SCHEME", "http"},
	{"REMOTE_ADDR", "127.0.0.1"},
	{"REMOTE_PORT", "46214"},
	{"SERVER_PORT", "8080"},
	{"SERVER_NAME", ""},
	{"HTTP_HOST", "example.com"},
	{"HTTP_USER_AGENT", "curl/7.88.1"},
	{"HTTP_ACCEPT", "*/*"},
	{"HTTP_X_FOO", "bar"},
	{"HTTP_CONTENT_LENGTH", "7"},
	{"HTTP_CONTENT_TYPE", "application/x-www-form-urlencoded"},
}

func nginxPacket(t testing.TB) []byte {
	t.Helper()
	var vs uwsgi.Vars
	for _, kv := range nginxVars {
		vs = vs.Add(kv[0], kv[1])
	}
	b, err := uwsgi.AppendPacket(nil, 0, 0, vs)
	if err != nil {
		t.Fatalf("AppendPacket: %v", err)
	}
	return append(b, "a=1&b=2"...)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// rec encodes one key/value record by hand (independent of AppendVars).
func rec(k, v string) []byte {
	b := []byte{byte(len(k)), byte(len(k) >> 8)}
	b = append(b, k...)
	b = append(b, byte(len(v)), byte(len(v)>>8))
	return append(b, v...)
}

func pkt(m1, m2 byte, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	return append([]byte{m1, byte(len(body)), byte(len(body) >> 8), m2}, body...)
}

func TestNginxCapture(t *testing.T) {
	b := nginxPacket(t)
	if got := hex.EncodeToString(b[:4]); got != "00e70100" {
		t.Fatalf("header = %s, want 00e70100 (datasize 487 as nginx sent)", got)
	}
	if len(b) != 498 {
		t.Fatalf("total = %d, want 498", len(b))
	}
	p, n, err := uwsgi.ParsePacket(b, uwsgi.Limits{})
	if err != nil || n != 491 {
		t.Fatalf("ParsePacket = n %d, %v; want 491, nil", n, err)
	}
	if len(p.Vars) != len(nginxVars) {
		t.Fatalf("%d vars, want %d", len(p.Vars), len(nginxVars))
	}
	for i, kv := range nginxVars {
		if string(p.Vars[i].Key) != kv[0] || string(p.Vars[i].Value) != kv[1] {
			t.Errorf("var %d = %q=%q, want %q=%q", i, p.Vars[i].Key, p.Vars[i].Value, kv[0], kv[1])
		}
	}
	if v, ok := p.Vars.Get("SERVER_NAME"); !ok || len(v) != 0 {
		t.Errorf("SERVER_NAME = %q, %v; want empty, present", v, ok)
	}
	cl, err := p.Vars.ContentLength(1 << 20)
	if err != nil || cl != 7 {
		t.Fatalf("ContentLength = %d, %v", cl, err)
	}
	if body := b[n : n+int(cl)]; string(body) != "a=1&b=2" {
		t.Errorf("body = %q", body)
	}
	if !bytes.Equal(p.Raw, b[:n]) {
		t.Errorf("Raw is not the header+vars bytes")
	}
}

func TestParsePacketTable(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		lim   uwsgi.Limits
		err   error
		n     int
		vars  [][2]string
		m1    uint8
		m2    uint8
		extra string
	}{
		{name: "empty input", in: nil, err: uwsgi.ErrNeedMore},
		{name: "short header", in: []byte{0, 5, 0}, err: uwsgi.ErrNeedMore},
		{name: "header only, zero vars", in: []byte{0, 0, 0, 0}, n: 4},
		{name: "one var", in: pkt(5, 3, rec("HTTP_HOST", "a.b")), n: 4 + 2 + 9 + 2 + 3, m1: 5, m2: 3,
			vars: [][2]string{{"HTTP_HOST", "a.b"}}},
		{name: "duplicates kept in order", in: pkt(0, 0, rec("A", "1"), rec("B", ""), rec("A", "2")), n: 4 + 6 + 5 + 6,
			vars: [][2]string{{"A", "1"}, {"B", ""}, {"A", "2"}}},
		{name: "body after vars untouched", in: append(pkt(0, 0, rec("K", "v")), "BODY"...), n: 10,
			vars: [][2]string{{"K", "v"}}},
		{name: "incomplete vars", in: pkt(0, 0, rec("KEY", "value"))[:9], err: uwsgi.ErrNeedMore},
		{name: "empty key", in: pkt(0, 0, rec("", "v")), err: uwsgi.ErrEmptyKey},
		{name: "key past block", in: pkt(0, 0, []byte{9, 0, 'a', 'b'}), err: uwsgi.ErrTruncated},
		{name: "value length missing", in: pkt(0, 0, []byte{1, 0, 'a'}), err: uwsgi.ErrTruncated},
		{name: "value past block", in: pkt(0, 0, []byte{1, 0, 'a', 5, 0, 'x'}), err: uwsgi.ErrTruncated},
		{name: "odd byte at end", in: pkt(0, 0, rec("a", "b"), []byte{1}), err: uwsgi.ErrTruncated},
		{name: "record runs into body", in: append(pkt(0, 0, []byte{1, 0, 'a', 4, 0}), "BODY"...), err: uwsgi.ErrTruncated},
		{name: "datasize over limit", in: pkt(0, 0, rec("A", "1234567")), lim: uwsgi.Limits{MaxVarsSize: 8}, err: uwsgi.ErrTooLarge},
		{name: "datasize over limit before data", in: []byte{0, 0xff, 0xff, 0}, lim: uwsgi.Limits{MaxVarsSize: 4096}, err: uwsgi.ErrTooLarge},
		{name: "too many vars", in: pkt(0, 0, rec("A", "1"), rec("B", "2"), rec("C", "3")), lim: uwsgi.Limits{MaxVars: 2}, err: uwsgi.ErrTooLarge},
		{name: "exactly max vars", in: pkt(0, 0, rec("A", "1"), rec("B", "2")), lim: uwsgi.Limits{MaxVars: 2}, n: 16,
			vars: [][2]string{{"A", "1"}, {"B", "2"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, n, err := uwsgi.ParsePacket(tc.in, tc.lim)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if n != tc.n {
				t.Errorf("n = %d, want %d", n, tc.n)
			}
			if p.Header.Modifier1 != tc.m1 || p.Header.Modifier2 != tc.m2 {
				t.Errorf("modifiers = %d/%d, want %d/%d", p.Header.Modifier1, p.Header.Modifier2, tc.m1, tc.m2)
			}
			if len(p.Vars) != len(tc.vars) {
				t.Fatalf("vars = %d, want %d", len(p.Vars), len(tc.vars))
			}
			for i, kv := range tc.vars {
				if string(p.Vars[i].Key) != kv[0] || string(p.Vars[i].Value) != kv[1] {
					t.Errorf("var %d = %q=%q, want %q=%q", i, p.Vars[i].Key, p.Vars[i].Value, kv[0], kv[1])
				}
			}
		})
	}
}

func TestParseVarsBlock(t *testing.T) {
	block := bytes.Join([][]byte{rec("A", "1"), rec("A", "2"), rec("EMPTY", "")}, nil)
	vs, n, err := uwsgi.ParseVars(block, uwsgi.Limits{})
	if err != nil || n != len(block) || len(vs) != 3 {
		t.Fatalf("ParseVars = %d vars, n %d, %v", len(vs), n, err)
	}
	if v, ok := vs.Get("A"); !ok || string(v) != "2" {
		t.Errorf("Get(A) = %q, %v; want last value 2", v, ok)
	}
	if v, ok := vs.Get("EMPTY"); !ok || len(v) != 0 {
		t.Errorf("Get(EMPTY) = %q, %v", v, ok)
	}
	if _, ok := vs.Get("MISSING"); ok {
		t.Errorf("Get(MISSING) found")
	}
	// Views: values alias the input.
	block[len(block)-len("")-2-len("EMPTY")] = 'X'
	if string(vs[2].Key) != "XMPTY" {
		t.Errorf("vars are not views into the input: key = %q", vs[2].Key)
	}
	if _, _, err := uwsgi.ParseVars(make([]byte, 65536), uwsgi.Limits{}); !errors.Is(err, uwsgi.ErrTooLarge) {
		t.Errorf("65536-byte block: err = %v, want ErrTooLarge", err)
	}
	// Mid-record end of a block is invalid, not "need more".
	if _, _, err := uwsgi.ParseVars(block[:5], uwsgi.Limits{}); !errors.Is(err, uwsgi.ErrTruncated) {
		t.Errorf("cut block: err = %v, want ErrTruncated", err)
	}
}

func TestScanVarsEarlyStop(t *testing.T) {
	block := bytes.Join([][]byte{rec("UWSGI_FASTROUTER_KEY", "k"), rec("B", "2"), {0xff}}, nil)
	var seen []string
	n, err := uwsgi.ScanVars(block, uwsgi.Limits{}, func(k, v []byte) bool {
		seen = append(seen, string(k))
		return false
	})
	if err != nil || n != 1 || len(seen) != 1 || seen[0] != "UWSGI_FASTROUTER_KEY" {
		t.Fatalf("ScanVars = %d, %v, %v", n, seen, err)
	}
	if _, err := uwsgi.ScanVars(block, uwsgi.Limits{}, func(k, v []byte) bool { return true }); !errors.Is(err, uwsgi.ErrTruncated) {
		t.Fatalf("full scan err = %v, want ErrTruncated", err)
	}
}

func TestScanVarsNoAlloc(t *testing.T) {
	b := nginxPacket(t)
	block := b[4:491]
	var host []byte
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = uwsgi.ScanVars(block, uwsgi.Limits{}, func(k, v []byte) bool {
			if string(k) == "HTTP_HOST" {
				host = v
			}
			return true
		})
	})
	if allocs != 0 || string(host) != "example.com" {
		t.Fatalf("ScanVars: %v allocs, host %q", allocs, host)
	}
}

// TestSplit cuts every packet at every point: before the cut is complete the
// answer is ErrNeedMore, after it the result equals the uncut one.
func TestSplit(t *testing.T) {
	inputs := [][]byte{
		nginxPacket(t),
		pkt(0, 0),
		pkt(7, 1, rec("A", ""), rec("LONG", strings.Repeat("x", 300))),
	}
	for _, in := range inputs {
		want, wantN, err := uwsgi.ParsePacket(in, uwsgi.Limits{})
		if err != nil {
			t.Fatalf("uncut: %v", err)
		}
		for cut := 0; cut <= len(in); cut++ {
			part := bytes.Clone(in[:cut])
			got, n, err := uwsgi.ParsePacket(part, uwsgi.Limits{})
			size, serr := uwsgi.PacketSize(part, uwsgi.Limits{})
			if cut < wantN {
				if !errors.Is(err, uwsgi.ErrNeedMore) || !errors.Is(serr, uwsgi.ErrNeedMore) {
					t.Fatalf("cut %d/%d: err %v / %v, want ErrNeedMore", cut, wantN, err, serr)
				}
				if cut >= 4 && size != wantN {
					t.Fatalf("cut %d: PacketSize = %d, want %d once the header is in", cut, size, wantN)
				}
				continue
			}
			if err != nil || serr != nil || n != wantN || size != wantN {
				t.Fatalf("cut %d: n %d size %d err %v / %v", cut, n, size, err, serr)
			}
			if got.Header != want.Header || !equalVars(got.Vars, want.Vars) {
				t.Fatalf("cut %d: result differs", cut)
			}
		}
	}
}

func equalVars(a, b uwsgi.Vars) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	vs := uwsgi.Vars{}.Add("K", "").Add("K", "again").Add(strings.Repeat("k", 65535-4), "")
	for _, tc := range []struct {
		m1, m2 uint8
		vars   uwsgi.Vars
	}{
		{0, 0, nil},
		{224, 1, uwsgi.Vars{}.Add("key", "example.com").Add("address", "127.0.0.1:3031")},
		{255, 255, vs[:2]},
		{10, 7, vs[2:]}, // exactly 65535 bytes
	} {
		b, err := uwsgi.AppendPacket([]byte("prefix"), tc.m1, tc.m2, tc.vars)
		if err != nil {
			t.Fatalf("AppendPacket: %v", err)
		}
		p, n, err := uwsgi.ParsePacket(b[6:], uwsgi.Limits{})
		if err != nil || n != len(b)-6 {
			t.Fatalf("ParsePacket: n %d of %d, %v", n, len(b)-6, err)
		}
		if p.Header.Modifier1 != tc.m1 || p.Header.Modifier2 != tc.m2 || !equalVars(p.Vars, tc.vars) {
			t.Fatalf("round trip differs: %+v", p.Header)
		}
		again, err := uwsgi.AppendPacket(nil, tc.m1, tc.m2, p.Vars)
		if err != nil || !bytes.Equal(again, b[6:]) {
			t.Fatalf("re-encode differs: %v", err)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	tests := []struct {
		name string
		vars uwsgi.Vars
		err  error
	}{
		{"empty key", uwsgi.Vars{}.Add("", "v"), uwsgi.ErrEmptyKey},
		{"value too long", uwsgi.Vars{{Key: []byte("k"), Value: make([]byte, 65536)}}, uwsgi.ErrTooLarge},
		{"block too long", uwsgi.Vars{}.Add("a", strings.Repeat("x", 40000)).Add("b", strings.Repeat("y", 40000)), uwsgi.ErrTooLarge},
		{"one byte over", uwsgi.Vars{}.Add(strings.Repeat("k", 65535-3), ""), uwsgi.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := []byte("keep")
			out, err := uwsgi.AppendPacket(buf, 0, 0, tc.vars)
			if !errors.Is(err, tc.err) || string(out) != "keep" {
				t.Fatalf("AppendPacket = %d bytes, %v; want buf unchanged, %v", len(out), err, tc.err)
			}
			out, err = uwsgi.AppendVars(buf, tc.vars)
			if !errors.Is(err, tc.err) || string(out) != "keep" {
				t.Fatalf("AppendVars = %d bytes, %v; want buf unchanged, %v", len(out), err, tc.err)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	h := uwsgi.Header{Modifier1: 0xe0, Size: 0x0165, Modifier2: 1}
	b := uwsgi.AppendHeader(nil, h)
	if hex.EncodeToString(b) != "e0650101" {
		t.Fatalf("AppendHeader = %x, want e0650101 (little-endian size)", b)
	}
	got, n, err := uwsgi.ParseHeader(b)
	if err != nil || n != 4 || got != h {
		t.Fatalf("ParseHeader = %+v, %d, %v", got, n, err)
	}
	if _, _, err := uwsgi.ParseHeader(b[:3]); !errors.Is(err, uwsgi.ErrNeedMore) {
		t.Fatalf("3 bytes: %v", err)
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		max  uint64
		want uint64
		err  error
	}{
		{"0", 10, 0, nil},
		{"7", 10, 7, nil},
		{"007", 10, 7, nil},
		{"18446744073709551615", ^uint64(0), ^uint64(0), nil},
		{"18446744073709551616", ^uint64(0), 0, uwsgi.ErrTooLarge},
		{"123456789012345678901", ^uint64(0), 0, uwsgi.ErrTooLarge},
		{"11", 10, 0, uwsgi.ErrTooLarge},
		{"", 10, 0, uwsgi.ErrNumber},
		{"-1", 10, 0, uwsgi.ErrNumber},
		{"+1", 10, 0, uwsgi.ErrNumber},
		{"1 ", 10, 0, uwsgi.ErrNumber},
		{"0x1", 10, 0, uwsgi.ErrNumber},
	}
	for _, tc := range tests {
		got, err := uwsgi.ParseNumber([]byte(tc.in), tc.max)
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("ParseNumber(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	vs := uwsgi.Vars{}.Add("CONTENT_LENGTH", "abc")
	if _, err := vs.ContentLength(100); !errors.Is(err, uwsgi.ErrNumber) {
		t.Errorf("ContentLength(abc) err = %v", err)
	}
	vs = uwsgi.Vars{}.Add("CONTENT_LENGTH", "101")
	if _, err := vs.ContentLength(100); !errors.Is(err, uwsgi.ErrTooLarge) {
		t.Errorf("ContentLength(101, max 100) err = %v", err)
	}
	if n, err := (uwsgi.Vars{}).ContentLength(100); n != 0 || err != nil {
		t.Errorf("ContentLength(absent) = %d, %v", n, err)
	}
}

// testdataSeeds returns the captured packets in testdata/ whose names match
// pattern (made by the peer tests with IMPERIAL_CAPTURE=1).
func testdataSeeds(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
