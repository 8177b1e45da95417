package accesslog

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"imperial/node/etf"
)

func call(mod, fun string, args ...any) etf.Tuple {
	return etf.Tuple{etf.Atom("call"), etf.Atom(mod), etf.Atom(fun), etf.List(args)}
}

// at builds a time in a fixed zone so the test does not depend on TZ.
func at(y int, mo time.Month, d, h, mi, s, us int) time.Time {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.FixedZone("test", 3600))
}

func TestAppendLine(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{
			name: "spec ACC line",
			e: Entry{Accepted: at(2026, 11, 21, 15, 23, 30, 208184), Wait: 2686 * time.Microsecond,
				Run: 1312 * time.Microsecond, Handler: Native, Request: call("tnat", "add", int64(1), int64(2))},
			want: "ACC [2026-11-21T15:23:30.208184] 0.002686 0.001312 - 0 0 nat high - {call,tnat,add,[1,2]}\n",
		},
		{
			name: "spec ERR line",
			e: Entry{Accepted: at(2026, 11, 21, 15, 25, 3, 891678), Wait: 137 * time.Microsecond,
				Run: 1001900 * time.Microsecond, Handler: External,
				Error:   ExternalError("error", "{badmatch,{error,closed}}"),
				Request: call("tnat", "slow", int64(1))},
			want: "ERR [2026-11-21T15:25:03.891678] 0.000137 1.001900 - 0 0 ext high - External process error error: {badmatch,{error,closed}} : {call,tnat,slow,[1]}\n",
		},
		{
			// Ernie prints 85559 µs as 855590; the fix pads on the left.
			name: "microseconds padded on the left",
			e: Entry{Accepted: at(2026, 1, 2, 3, 4, 47, 85559), Handler: External, Priority: Low,
				QueueHigh: 3, QueueLow: 12, Request: call("ext", "f")},
			want: "ACC [2026-01-02T03:04:47.085559] 0.000000 0.000000 - 3 12 ext low - {call,ext,f,[]}\n",
		},
		{
			name: "53 microseconds",
			e:    Entry{Accepted: at(2026, 1, 2, 3, 4, 5, 53), Handler: Native, Request: etf.Tuple{etf.Atom("cast"), etf.Atom("m"), etf.Atom("f"), etf.List{}}},
			want: "ACC [2026-01-02T03:04:05.000053] 0.000000 0.000000 - 0 0 nat high - {cast,m,f,[]}\n",
		},
		{
			name: "zero handler is unk, strings and binaries",
			e: Entry{Accepted: at(2026, 12, 31, 23, 59, 59, 999999), Wait: 2 * time.Second,
				Request: call("m", "f", etf.List{int64('h'), int64('i')}, []byte("hi"), etf.Tuple{etf.Atom("bert"), etf.Atom("nil")})},
			want: "ACC [2026-12-31T23:59:59.999999] 2.000000 0.000000 - 0 0 unk high - {call,m,f,[\"hi\",<<\"hi\">>,{bert,nil}]}\n",
		},
		{
			name: "newlines in the error become spaces",
			e:    Entry{Accepted: at(2026, 1, 1, 0, 0, 0, 0), Handler: External, Error: "a\nb\r", Request: call("m", "f")},
			want: "ERR [2026-01-01T00:00:00.000000] 0.000000 0.000000 - 0 0 ext high - a b  : {call,m,f,[]}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendLine(nil, tt.e))
			if got != tt.want {
				t.Errorf("AppendLine:\n got %q\nwant %q", got, tt.want)
			}
			// Appending keeps what is already in the buffer.
			if got2 := string(AppendLine([]byte("x"), tt.e)); got2 != "x"+tt.want {
				t.Errorf("AppendLine onto a prefix: %q", got2)
			}
		})
	}
}

func TestAppendSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000000"},
		{499, "0.000000"},
		{500, "0.000001"},
		{1499, "0.000001"},
		{time.Millisecond, "0.001000"},
		{85559 * time.Microsecond, "0.085559"},
		{3*time.Second + 200*time.Microsecond, "3.000200"},
		{1234 * time.Second, "1234.000000"},
		{-1500, "-0.000002"},
		{-2 * time.Second, "-2.000000"},
		{math.MaxInt64, "9223372036.854776"},
	}
	for _, tt := range tests {
		if got := string(appendSeconds(nil, tt.d)); got != tt.want {
			t.Errorf("appendSeconds(%d) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRequestTruncation(t *testing.T) {
	// {call,m,f,[<<"xxx...">>]}: 19 characters around the binary's bytes.
	mk := func(n int) etf.Tuple { return call("m", "f", []byte(strings.Repeat("x", n))) }
	exact := string(AppendRequest(nil, mk(150-19)))
	if len(exact) != 150 || strings.HasSuffix(exact, "...") {
		t.Fatalf("150-character request changed: %q (%d)", exact, len(exact))
	}
	cut := string(AppendRequest(nil, mk(151-19)))
	want := strings.TrimSuffix(string(AppendTerm(nil, mk(151-19))), "}") + "..."
	if cut != want {
		t.Fatalf("151-character request:\n got %q\nwant %q", cut, want)
	}
	huge := string(AppendRequest([]byte("p"), mk(8<<20)))
	want = `{call,m,f,[<<"` + strings.Repeat("x", 150-14) + "..."
	if huge != "p"+want {
		t.Fatalf("8 MiB request: got %d bytes %q...", len(huge), huge[:40])
	}
	// Many small elements: the printer stops early but the cut is the same.
	long := make(etf.List, 100000)
	for i := range long {
		long[i] = int64(i)
	}
	got := string(AppendRequest(nil, long))
	full := string(AppendTerm(nil, long))
	if got != full[:150]+"..." {
		t.Fatalf("list cut differs from full rendering: %q", got)
	}
}

func TestAppendTerm(t *testing.T) {
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	tests := []struct {
		name string
		term any
		want string
	}{
		{"atom", etf.Atom("ok"), "ok"},
		{"atom with @ and digits", etf.Atom("node@host_1"), "node@host_1"},
		{"capital atom", etf.Atom("Foo"), "'Foo'"},
		{"atom with space", etf.Atom("a b"), "'a b'"},
		{"empty atom", etf.Atom(""), "''"},
		{"reserved word", etf.Atom("and"), "'and'"},
		{"maybe is an atom in OTP 25", etf.Atom("maybe"), "maybe"},
		{"atom quote and backslash", etf.Atom(`it's\`), `'it\'s\\'`},
		{"atom newline", etf.Atom("a\nb"), `'a\nb'`},
		{"latin-1 atom", etf.Atom("ßé"), "\xdf\xe9"},
		{"latin-1 capital atom", etf.Atom("Éa"), "'\xc9a'"},
		{"unicode atom", etf.Atom("a€"), `'a\x{20AC}'`},
		{"control char atom", etf.Atom("a\x01\x7f\u0085"), `'a\001\d\205'`},
		{"bools", etf.Tuple{true, false}, "{true,false}"},
		{"integers", etf.List{int64(-1), int64(0), int64(255), int64(256)}, "[-1,0,255,256]"},
		{"big integer", big1, "-123456789012345678901234567890"},
		{"empty list", etf.List{}, "[]"},
		{"string", etf.List{int64('a'), int64('"'), int64('\\'), int64('\n'), int64(0xE9)}, "\"a\\\"\\\\\\n\xe9\""},
		{"string with escapes", etf.List{int64('\t'), int64('\r'), int64('\v'), int64('\b'), int64('\f'), int64(27)}, `"\t\r\v\b\f\e"`},
		{"non-printable list", etf.List{int64(1), int64(2), int64(3)}, "[1,2,3]"},
		{"list with 127", etf.List{int64('a'), int64(127)}, "[97,127]"},
		{"list above latin-1", etf.List{int64('a'), int64(256)}, "[97,256]"},
		{"mixed list", etf.List{etf.Atom("a"), int64(1)}, "[a,1]"},
		{"improper", etf.ImproperList{Elems: []any{int64(97), int64(98)}, Tail: etf.Atom("c")}, "[97,98|c]"},
		{"nested", etf.List{etf.List{int64('x')}, etf.List{}}, `["x",[]]`},
		{"tuple", etf.Tuple{}, "{}"},
		{"binary", []byte("hello world"), `<<"hello world">>`},
		{"empty binary", []byte{}, "<<>>"},
		{"binary bytes", []byte{1, 2, 255}, "<<1,2,255>>"},
		{"binary utf-8", []byte("é"), "<<\"\xc3\xa9\">>"},
		{"binary escapes", []byte("a\"\\\n"), `<<"a\"\\\n">>`},
		{"Go string is a binary", "ab", `<<"ab">>`},
		{"bitstring", etf.BitString{Bytes: []byte{1, 0xA0}, Bits: 3}, "<<1,5:3>>"},
		{"bitstring one byte", etf.BitString{Bytes: []byte{0x80}, Bits: 1}, "<<1:1>>"},
		{"map", etf.Map{{Key: etf.Atom("a"), Value: int64(1)}, {Key: []byte("b"), Value: etf.List{}}}, `#{a => 1,<<"b">> => []}`},
		{"empty map", etf.Map{}, "#{}"},
		{"floats", etf.List{1.0, 0.1, 100.0, 1000.0, 12345.678, -2.5, 0.0, 1e-5, 0.0001, 1.5e-4, 9007199254740991.0, 9007199254740992.0, 1e21, 5e-324},
			"[1.0,0.1,100.0,1.0e3,12345.678,-2.5,0.0,1.0e-5,0.0001,1.5e-4,9007199254740991.0,9.007199254740992e15,1.0e21,5.0e-324]"},
		{"export", etf.Export{Module: "lists", Function: "map", Arity: 2}, "fun lists:map/2"},
		{"pid", etf.Pid{Node: "n@h", ID: 80, Serial: 0}, "#Pid<n@h.80.0>"},
		{"go value", struct{}{}, "#Go<struct {}>"},
		{"nil", nil, "#Go<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendTerm(nil, tt.term)); got != tt.want {
				t.Errorf("AppendTerm = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendTermCyclic(t *testing.T) {
	l := make([]any, 1)
	l[0] = l
	got := AppendTerm(nil, l)
	if !strings.Contains(string(got), "[...]") || len(got) > 3*maxPrintDepth {
		t.Fatalf("cyclic list: %d bytes", len(got))
	}
}
