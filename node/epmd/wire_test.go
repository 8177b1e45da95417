package epmd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// erlAlive2 is the ALIVE2_REQ an OTP 25 node "py" on port 40001 sends.
var erlAlive2 = "000f 78 9c41 4d 00 0006 0006 0002 7079 0000"

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Request
		n    int
		err  error
	}{
		{"alive2 erl", unhex(t, erlAlive2), Request{Op: OpAlive2Req, Node: NodeInfo{
			Port: 40001, NodeType: 77, Highest: 6, Lowest: 6, Name: "py"}}, 17, nil},
		{"alive2 extra", unhex(t, "0010 78 0001 48 00 0005 0005 0001 61 0002 abcd"), Request{Op: OpAlive2Req, Node: NodeInfo{
			Port: 1, NodeType: 72, Highest: 5, Lowest: 5, Name: "a", Extra: []byte{0xab, 0xcd}}}, 18, nil},
		{"alive2 trailing bytes kept", cat(unhex(t, erlAlive2), []byte("xyz")), Request{Op: OpAlive2Req, Node: NodeInfo{
			Port: 40001, NodeType: 77, Highest: 6, Lowest: 6, Name: "py"}}, 17, nil},
		{"port_please2", cat(unhex(t, "0006 7a"), []byte("epmdt")), Request{Op: OpPortPlease2Req, Name: "epmdt"}, 8, nil},
		{"port_please2 utf8", cat(unhex(t, "0005 7a"), []byte("añb")), Request{Op: OpPortPlease2Req, Name: "añb"}, 7, nil},
		{"names", unhex(t, "0001 6e"), Request{Op: OpNamesReq}, 3, nil},

		{"empty request", unhex(t, "0000"), Request{}, 0, ErrMalformed},
		{"too large", unhex(t, "ffff 78"), Request{}, 0, ErrTooLarge},
		{"dump unsupported", unhex(t, "0001 64"), Request{Op: 'd'}, 3, ErrUnknownOp},
		{"kill unsupported", unhex(t, "0001 6b"), Request{Op: 'k'}, 3, ErrUnknownOp},
		{"names with body", unhex(t, "0002 6e 00"), Request{}, 0, ErrMalformed},
		{"port_please2 empty", unhex(t, "0001 7a"), Request{}, 0, ErrBadName},
		{"port_please2 at", cat(unhex(t, "0004 7a"), []byte("a@b")), Request{}, 0, ErrBadName},
		{"port_please2 newline", cat(unhex(t, "0003 7a"), []byte("a\n")), Request{}, 0, ErrBadName},
		{"port_please2 not utf8", unhex(t, "0003 7a ff fe"), Request{}, 0, ErrBadName},
		{"port_please2 too long", cat(unhex(t, "0401 7a"), []byte(strings.Repeat("a", 1024))), Request{}, 0, ErrBadName},
		{"alive2 short", unhex(t, "0005 78 0001 4d 00"), Request{}, 0, ErrMalformed},
		{"alive2 name len over limit", unhex(t, "000d 78 0001 4d 00 0006 0006 0fff 0000"), Request{}, 0, ErrTooLarge},
		{"alive2 name overruns", unhex(t, "000f 78 0001 4d 00 0006 0006 0009 7079 0000"), Request{}, 0, ErrMalformed},
		{"alive2 empty name", unhex(t, "000d 78 0001 4d 00 0006 0006 0000 0000"), Request{}, 0, ErrBadName},
		{"alive2 extra over limit", unhex(t, "000f 78 0001 4d 00 0006 0006 0002 7079 ffff"), Request{}, 0, ErrTooLarge},
		{"alive2 extra short", unhex(t, "000f 78 0001 4d 00 0006 0006 0002 7079 0001"), Request{}, 0, ErrMalformed},
		{"alive2 extra long", unhex(t, "0010 78 0001 4d 00 0006 0006 0002 7079 0000 00"), Request{}, 0, ErrMalformed},
		{"need more 0", nil, Request{}, 0, ErrNeedMore},
		{"need more 1", unhex(t, "00"), Request{}, 0, ErrNeedMore},
		{"need more body", unhex(t, "0006 7a 65"), Request{}, 0, ErrNeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := ParseRequest(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if n != tc.n || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v n=%d, want %+v n=%d", got, n, tc.want, tc.n)
			}
		})
	}
}

func TestParseAlive2Resp(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Alive2Resp
		n    int
		err  error
	}{
		// Captured from the Debian epmd (spec §1.2).
		{"x ok", "76 00 6b01b913", Alive2Resp{Creation: 1795275027, Extended: true}, 6, nil},
		{"x duplicate", "76 01 00000063", Alive2Resp{}, 6, ErrNameInUse},
		{"v5 ok", "79 00 0001", Alive2Resp{Creation: 1}, 4, nil},
		{"v5 refused", "79 01 0000", Alive2Resp{}, 4, ErrNameInUse},
		{"trailing", "76 00 00000002 ff", Alive2Resp{Creation: 2, Extended: true}, 6, nil},
		{"wrong op", "77 00", Alive2Resp{}, 0, ErrUnknownOp},
		{"empty", "", Alive2Resp{}, 0, ErrNeedMore},
		{"short x", "76 00 0000", Alive2Resp{}, 0, ErrNeedMore},
		{"short v5", "79 00 00", Alive2Resp{}, 0, ErrNeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := ParseAlive2Resp(unhex(t, tc.in))
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if n != tc.n || got != tc.want {
				t.Fatalf("got %+v n=%d, want %+v n=%d", got, n, tc.want, tc.n)
			}
		})
	}
}

func TestParsePort2Resp(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want NodeInfo
		n    int
		err  error
	}{
		// Captured from the Debian epmd (spec §1.3).
		{"epmdt", "77 00 9c41 4d 00 0006 0006 0005 65706d6474 0000",
			NodeInfo{Port: 40001, NodeType: 77, Highest: 6, Lowest: 6, Name: "epmdt"}, 19, nil},
		{"extra", "77 00 0001 48 00 0006 0005 0001 61 0003 010203",
			NodeInfo{Port: 1, NodeType: 72, Highest: 6, Lowest: 5, Name: "a", Extra: []byte{1, 2, 3}}, 18, nil},
		{"unknown name", "77 01", NodeInfo{}, 2, ErrNotRegistered},
		{"unknown name trailing", "77 01 ff", NodeInfo{}, 2, ErrNotRegistered},
		{"wrong op", "76 00", NodeInfo{}, 0, ErrUnknownOp},
		{"name over limit", "77 00 0001 4d 00 0006 0006 ffff", NodeInfo{}, 0, ErrTooLarge},
		{"extra over limit", "77 00 0001 4d 00 0006 0006 0001 61 ffff", NodeInfo{}, 0, ErrTooLarge},
		{"empty", "", NodeInfo{}, 0, ErrNeedMore},
		{"op only", "77", NodeInfo{}, 0, ErrNeedMore},
		{"short name", "77 00 0001 4d 00 0006 0006 0002 61", NodeInfo{}, 0, ErrNeedMore},
		{"short extra", "77 00 0001 4d 00 0006 0006 0001 61 0002 00", NodeInfo{}, 0, ErrNeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := ParsePort2Resp(unhex(t, tc.in))
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if n != tc.n || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v n=%d, want %+v n=%d", got, n, tc.want, tc.n)
			}
		})
	}
}

func TestParseNames(t *testing.T) {
	port, n, err := ParseNamesHeader(unhex(t, "00001111"))
	if err != nil || port != 4369 || n != 4 {
		t.Fatalf("header = %d %d %v", port, n, err)
	}
	if _, _, err := ParseNamesHeader(unhex(t, "000011")); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("short header err = %v", err)
	}

	tests := []struct {
		name string
		in   string
		want NameEntry
		n    int
		err  error
	}{
		{"captured", "name b at port 25001\n", NameEntry{"b", 25001}, 21, nil},
		{"two lines", "name b at port 1\nname c at port 2\n", NameEntry{"b", 1}, 17, nil},
		{"name with infix", "name x at port y at port 7\n", NameEntry{"x at port y", 7}, 27, nil},
		{"port 65535", "name a at port 65535\n", NameEntry{"a", 65535}, 21, nil},
		{"port 0", "name a at port 0\n", NameEntry{"a", 0}, 17, nil},

		{"empty name", "name  at port 5\n", NameEntry{}, 0, ErrMalformed},
		{"no port", "name a\n", NameEntry{}, 0, ErrMalformed},
		{"empty port", "name a at port \n", NameEntry{}, 0, ErrMalformed},
		{"port letters", "name a at port 1x\n", NameEntry{}, 0, ErrMalformed},
		{"port too big", "name a at port 65536\n", NameEntry{}, 0, ErrMalformed},
		{"port too long", "name a at port 000001\n", NameEntry{}, 0, ErrMalformed},
		{"wrong prefix", "node a at port 1\n", NameEntry{}, 0, ErrMalformed},
		{"wrong prefix early", "nx", NameEntry{}, 0, ErrMalformed},
		{"endless", "name " + strings.Repeat("a", MaxNameLineLen), NameEntry{}, 0, ErrTooLarge},
		{"need more", "name a at po", NameEntry{}, 0, ErrNeedMore},
		{"need more empty", "", NameEntry{}, 0, ErrNeedMore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := ParseNameLine([]byte(tc.in))
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if n != tc.n || got != tc.want {
				t.Fatalf("got %+v n=%d, want %+v n=%d", got, n, tc.want, tc.n)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "py", "imp-1_x", "añb", "a.b", strings.Repeat("z", MaxNameLen)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a@b", "a\nb", "a\x00", "a\x7f", "\xff", strings.Repeat("z", MaxNameLen+1)} {
		if err := CheckName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", bad, err)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	if _, err := AppendAlive2Req(nil, NodeInfo{Name: "a@b"}); !errors.Is(err, ErrBadName) {
		t.Errorf("alive2 bad name: %v", err)
	}
	if _, err := AppendAlive2Req(nil, NodeInfo{Name: "a", Extra: make([]byte, MaxExtraLen+1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("alive2 big extra: %v", err)
	}
	if _, err := AppendPortPlease2Req(nil, ""); !errors.Is(err, ErrBadName) {
		t.Errorf("port_please2 empty: %v", err)
	}
	if _, err := AppendPort2Resp(nil, NodeInfo{Name: strings.Repeat("a", MaxNameLen+1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("port2 long name: %v", err)
	}
	if _, err := AppendPort2Resp(nil, NodeInfo{Name: "a", Extra: make([]byte, MaxExtraLen+1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("port2 big extra: %v", err)
	}
}

// TestEncodeMatchesCapture pins our encoders to bytes real peers sent.
func TestEncodeMatchesCapture(t *testing.T) {
	b, err := AppendAlive2Req(nil, NodeInfo{Port: 40001, NodeType: 77, Highest: 6, Lowest: 6, Name: "py"})
	if err != nil || !bytes.Equal(b, unhex(t, erlAlive2)) {
		t.Errorf("alive2 = % x, %v", b, err)
	}
	if b := AppendAlive2Resp(nil, 0, 1795275027, true); !bytes.Equal(b, unhex(t, "76 00 6b01b913")) {
		t.Errorf("alive2 x resp = % x", b)
	}
	if b := AppendAlive2Resp(nil, 0, 1, false); !bytes.Equal(b, unhex(t, "79 00 0001")) {
		t.Errorf("alive2 resp = % x", b)
	}
	b, err = AppendPort2Resp(nil, NodeInfo{Port: 40001, NodeType: 77, Highest: 6, Lowest: 6, Name: "epmdt"})
	if err != nil || !bytes.Equal(b, unhex(t, "77 00 9c41 4d 00 0006 0006 0005 65706d6474 0000")) {
		t.Errorf("port2 = % x, %v", b, err)
	}
	if b := AppendPort2Err(nil, 1); !bytes.Equal(b, unhex(t, "77 01")) {
		t.Errorf("port2 err = % x", b)
	}
	if b := AppendNamesReq(nil); !bytes.Equal(b, unhex(t, "0001 6e")) {
		t.Errorf("names = % x", b)
	}
	b = AppendNameLine(AppendNamesHeader(nil, 4369), NameEntry{"b", 25001})
	if !bytes.Equal(b, cat(unhex(t, "00001111"), []byte("name b at port 25001\n"))) {
		t.Errorf("names resp = %q", b)
	}
}

func TestRoundTrip(t *testing.T) {
	nodes := []NodeInfo{
		{Port: 1, NodeType: NodeTypeNormal, Highest: 6, Lowest: 6, Name: "a"},
		{Port: 65535, NodeType: NodeTypeHidden, Protocol: 0, Highest: 6, Lowest: 5, Name: "añb-1_x", Extra: []byte{0, 1, 2}},
		{Port: 4370, NodeType: 77, Highest: 5, Lowest: 5, Name: strings.Repeat("n", MaxNameLen), Extra: make([]byte, MaxExtraLen)},
	}
	for _, node := range nodes {
		b, err := AppendAlive2Req([]byte{9}, node)
		if err != nil {
			t.Fatal(err)
		}
		req, n, err := ParseRequest(b[1:])
		if err != nil || n != len(b)-1 || req.Op != OpAlive2Req || !reflect.DeepEqual(req.Node, node) {
			t.Fatalf("alive2 %q: %+v n=%d err=%v", node.Name, req.Node.Name, n, err)
		}

		b, err = AppendPortPlease2Req(nil, node.Name)
		if err != nil {
			t.Fatal(err)
		}
		req, n, err = ParseRequest(b)
		if err != nil || n != len(b) || req.Op != OpPortPlease2Req || req.Name != node.Name {
			t.Fatalf("port_please2 %q: %+v n=%d err=%v", node.Name, req, n, err)
		}

		b, err = AppendPort2Resp(nil, node)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParsePort2Resp(b)
		if err != nil || n != len(b) || !reflect.DeepEqual(got, node) {
			t.Fatalf("port2 %q: n=%d err=%v", node.Name, n, err)
		}

		line := AppendNameLine(nil, NameEntry{node.Name, int(node.Port)})
		e, n, err := ParseNameLine(line)
		if err != nil || n != len(line) || e.Name != node.Name || e.Port != int(node.Port) {
			t.Fatalf("name line %q: %+v n=%d err=%v", node.Name, e, n, err)
		}
	}
	for _, c := range []uint32{1, 0xffffffff, 1795275027} {
		for _, ext := range []bool{true, false} {
			b := AppendAlive2Resp(nil, 0, c, ext)
			r, n, err := ParseAlive2Resp(b)
			want := c
			if !ext {
				want = c & 0xffff
			}
			if err != nil || n != len(b) || r.Creation != want || r.Extended != ext {
				t.Fatalf("alive2 resp %d %v: %+v n=%d err=%v", c, ext, r, n, err)
			}
		}
	}
}

// TestSplit feeds every valid input cut at every point: each proper prefix is
// ErrNeedMore, and the whole gives the same value as in one piece.
func TestSplit(t *testing.T) {
	type parser func([]byte) (any, int, error)
	wrap := func(f func([]byte) (any, int, error)) parser { return f }
	req := wrap(func(b []byte) (any, int, error) { return ParseRequest(b) })
	a2 := wrap(func(b []byte) (any, int, error) { return ParseAlive2Resp(b) })
	p2 := wrap(func(b []byte) (any, int, error) { return ParsePort2Resp(b) })
	nl := wrap(func(b []byte) (any, int, error) { return ParseNameLine(b) })
	nh := wrap(func(b []byte) (any, int, error) { return ParseNamesHeader(b) })

	alive, _ := AppendAlive2Req(nil, NodeInfo{Port: 7, NodeType: 77, Highest: 6, Lowest: 6, Name: "añb", Extra: []byte{1, 2}})
	cases := []struct {
		name  string
		parse parser
		in    []byte
		err   error // for a complete input that decodes to an error
	}{
		{"alive2", req, alive, nil},
		{"alive2 erl", req, unhex(t, erlAlive2), nil},
		{"port_please2", req, cat(unhex(t, "0006 7a"), []byte("epmdt")), nil},
		{"names req", req, unhex(t, "0001 6e"), nil},
		{"alive2 x resp", a2, unhex(t, "76 00 6b01b913"), nil},
		{"alive2 x dup", a2, unhex(t, "76 01 00000063"), ErrNameInUse},
		{"alive2 resp", a2, unhex(t, "79 00 0001"), nil},
		{"port2", p2, unhex(t, "77 00 0001 48 00 0006 0005 0001 61 0003 010203"), nil},
		{"port2 err", p2, unhex(t, "77 01"), ErrNotRegistered},
		{"names header", nh, unhex(t, "00001111"), nil},
		{"name line", nl, []byte("name b at port 25001\n"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			whole, wn, werr := tc.parse(tc.in)
			if !errors.Is(werr, tc.err) || (tc.err == nil && werr != nil) || wn != len(tc.in) {
				t.Fatalf("whole: n=%d err=%v, want n=%d err=%v", wn, werr, len(tc.in), tc.err)
			}
			for i := 0; i < len(tc.in); i++ {
				// A fresh copy: a decoder must not read past what it is given.
				part := append([]byte(nil), tc.in[:i]...)
				if _, n, err := tc.parse(part); !errors.Is(err, ErrNeedMore) || n != 0 {
					t.Fatalf("cut at %d: n=%d err=%v, want ErrNeedMore", i, n, err)
				}
			}
			// Extra bytes after a complete input change nothing.
			got, n, err := tc.parse(cat(tc.in, []byte("\x00\xffrest")))
			if n != wn || !reflect.DeepEqual(got, whole) || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("with tail: %+v n=%d err=%v, want %+v n=%d", got, n, err, whole, wn)
			}
		})
	}
}
