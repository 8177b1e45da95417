package bert_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	atom   = func(s string) etf.Atom { return etf.Atom(s) }
	tsTime = time.Unix(1255295581, 446228000).UTC() // the spec example, 2009-10-11 14:12:01.446228 PDT
)

// Expected bytes produced by Erlang/OTP 25 term_to_binary(T, [{minor_version,0}]),
// which writes the BERT subset (ATOM_EXT, FLOAT_EXT with %.20e).
var encodeTable = []struct {
	name string
	in   any
	hex  string
}{
	{"nil", nil, "836802640004626572746400036e696c"},
	{"true", true, "8368026400046265727464000474727565"},
	{"false", false, "8368026400046265727464000566616c7365"},
	{"empty dict", bert.Dict{}, "83680364000462657274640004646963746a"},
	{"dict", bert.Dict{{Key: "a", Value: 1}, {Key: atom("b"), Value: []any{nil}}},
		"83680364000462657274640004646963746c0000000268026d000000016161016802640001626c000000016802640004626572746400036e696c6a6a"},
	{"time", tsTime, "8368056400046265727464000474696d6562000004e7620004829d620006cf14"},
	{"regex", bert.Regex{Source: "^c(a)t$", Options: []string{"caseless", "extended"}},
		"8368046400046265727464000572656765786d000000075e6328612974246c00000002640008636173656c657373640008657874656e6465646a"},
	{"float", 1.5, "8363312e3530303030303030303030303030303030303030652b30300000000000"},
	{"negative float", -0.1, "83632d312e3030303030303030303030303030303035353531652d303100000000"},
	{"call", bert.Request{Kind: bert.Call, Module: "ext", Function: "add", Args: []any{1, 2}},
		"83680464000463616c6c6400036578746400036164646b00020102"},
	{"reply", bert.Reply{Result: 3}, "8368026400057265706c796103"},
	{"noreply", bert.NoReply{}, "8368016400076e6f7265706c79"},
	{"info", bert.Info{Command: "priority", Args: []any{atom("low")}},
		"836803640004696e666f6400087072696f726974796c000000016400036c6f776a"},
	{"error", &bert.Error{Type: "user", Code: 0, Class: "RuntimeError", Detail: "abandon hope!", Backtrace: []string{"a.rb:1"}},
		"8368026400056572726f7268056400047573657261006d0000000c52756e74696d654572726f726d0000000d6162616e646f6e20686f7065216c000000016d00000006612e72623a316a"},
	{"list", []any{1, 300, []byte("x"), etf.Tuple{}}, "836c000000046101620000012c6d000000017868006a"},
	{"big", new(big.Int).SetUint64(12345678901234567890), "836e0800d20a1feb8ca954ab"},
	{"uint64 big", uint64(12345678901234567890), "836e0800d20a1feb8ca954ab"},
	{"below int32", int64(-2147483649), "836e040101000080"},
	{"max int32", 2147483647, "83627fffffff"},
	{"minus one", -1, "8362ffffffff"},
	{"256", 256, "836200000100"},
	// Go-only conveniences.
	{"go map sorted", map[string]int{"b": 2, "a": 1},
		"83680364000462657274640004646963746c0000000268026d0000000161610168026d000000016261026a"},
	{"nil map", map[string]int(nil), "836802640004626572746400036e696c"},
	{"etf map", etf.Map{{Key: atom("k"), Value: true}},
		"83680364000462657274640004646963746c0000000168026400016b680264000462657274640004747275656a"},
	{"string slice", []string{"x"}, "836c000000016d00000001786a"},
	{"empty list", etf.List{}, "836a"},
	{"nil args", bert.Request{Kind: bert.Cast, Module: "m", Function: "f"},
		"836804640004636173746400016d640001666a"},
	{"go regexp", regexp.MustCompile("a+"), "8368046400046265727464000572656765786d00000002612b6a"},
	{"typed nil error", (*bert.Error)(nil), "836802640004626572746400036e696c"},
}

func TestEncode(t *testing.T) {
	for _, tt := range encodeTable {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bert.Encode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.hex); !bytes.Equal(got, want) {
				t.Fatalf("Encode = %x\nwant     %x", got, want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	type cyc []any
	loop := make([]any, 1)
	loop[0] = loop
	tests := []struct {
		name string
		in   any
		want error
	}{
		{"pid", etf.Pid{Node: "a@b"}, bert.ErrNotBERT},
		{"ref in list", []any{etf.Ref{Node: "a@b", IDs: []uint32{1}}}, bert.ErrNotBERT},
		{"fun", etf.Fun{}, bert.ErrNotBERT},
		{"bitstring", etf.BitString{Bytes: []byte{1}, Bits: 3}, bert.ErrNotBERT},
		{"struct", struct{ A int }{1}, bert.ErrNotBERT},
		{"channel", make(chan int), bert.ErrNotBERT},
		{"nan", math.NaN(), etf.ErrBadFloat},
		{"inf in dict", bert.Dict{{Key: 1, Value: math.Inf(1)}}, etf.ErrBadFloat},
		{"non latin-1 atom", atom("日本"), etf.ErrBadAtom},
		{"cyclic", loop, bert.ErrTooDeep},
		{"bad kind", bert.Request{Module: "m", Function: "f"}, bert.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := bert.Encode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("Encode = %x, %v; want %v", b, err, tt.want)
			}
		})
	}
}

// Bytes written by Ruby's bert 1.1.6 (BERT.encode), with the Go value Decode
// must return.
var rubyTable = []struct {
	name string
	hex  string
	want any
}{
	{"nil", "836802640004626572746400036e696c", nil},
	{"true", "8368026400046265727464000474727565", true},
	{"false", "8368026400046265727464000566616c7365", false},
	{"empty hash", "83680364000462657274640004646963746a", bert.Dict{}},
	{"hash", "83680364000462657274640004646963746c0000000268026d000000016161016802640001626c000000016802640004626572746400036e696c6a6a",
		bert.Dict{{Key: []byte("a"), Value: int64(1)}, {Key: atom("b"), Value: etf.List{nil}}}},
	{"time", "8368056400046265727464000474696d6562000004e7620004829d620006cf14", tsTime},
	{"regexp", "8368046400046265727464000572656765786d000000075e6328612974246c00000002640008636173656c657373640008657874656e6465646a",
		bert.Regex{Source: "^c(a)t$", Options: []string{"caseless", "extended"}}},
	{"float %15.15e", "8363312e353030303030303030303030303030652b303000000000000000000000", 1.5},
	{"negative float", "83632d312e303030303030303030303030303030652d3031000000000000000000", -0.1},
	{"call", "83680464000463616c6c6400036578746400036164646c00000002610161026a",
		etf.Tuple{atom("call"), atom("ext"), atom("add"), etf.List{int64(1), int64(2)}}},
	{"array", "836c000000046101620000012c6d000000017868006a", etf.List{int64(1), int64(300), []byte("x"), etf.Tuple{}}},
	{"2**27 as bignum", "836e040000000008", int64(1 << 27)},
	{"-1", "8362ffffffff", int64(-1)},
	{"utf-8 string", "836d00000002c3a9", []byte("é")},
	{"symbol", "8364000373796d", atom("sym")},
	{"empty array", "836a", etf.List{}},
	{"nested", "836c000000016c0000000261016c0000000261026c0000000161036a6a6a6a",
		etf.List{etf.List{int64(1), etf.List{int64(2), etf.List{int64(3)}}}}},
	{"2**70", "836e0900000000000000000040", new(big.Int).Lsh(big.NewInt(1), 70)},
	// Forms real Erlang peers send outside the BERT subset.
	{"new float", "8346" + "3ff8000000000000", 1.5},
	{"utf8 atom", "8377" + "03" + "616263", atom("abc")},
	{"string ext", "836b00020102", etf.List{int64(1), int64(2)}},
	{"map as dict", "8374000000016400016b" + "6b000100", bert.Dict{{Key: atom("k"), Value: etf.List{int64(0)}}}},
	{"complex inside tuple", "83680268026400046265727464000474727565" + "6a", etf.Tuple{true, etf.List{}}},
}

func TestDecodeRuby(t *testing.T) {
	for _, tt := range rubyTable {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bert.Decode(unhex(t, tt.hex))
			if err != nil {
				t.Fatal(err)
			}
			if !equalValue(got, tt.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// equalValue compares decoded values; big.Int and time.Time need their own
// comparison.
func equalValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb) && ta.Location() == time.UTC
	}
	if ba, ok := a.(*big.Int); ok {
		bb, ok := b.(*big.Int)
		return ok && ba.Cmp(bb) == 0
	}
	return reflect.DeepEqual(a, b)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		lim  etf.Limits
		want error
	}{
		{"empty", "", etf.Limits{}, bert.ErrMalformed},
		{"no version", "6a", etf.Limits{}, bert.ErrMalformed},
		{"magic 132 (bert v2)", "846a", etf.Limits{}, etf.ErrVersion},
		{"truncated", "836802640004626572", etf.Limits{}, etf.ErrNeedMore},
		{"trailing", "836a6a", etf.Limits{}, bert.ErrMalformed},
		{"unknown complex", "83680264000462657274640003666f6f", etf.Limits{}, bert.ErrMalformed},
		{"bare bert tuple", "83680164000462657274", etf.Limits{}, bert.ErrMalformed},
		{"nil with extra", "836803640004626572746400036e696c6a", etf.Limits{}, bert.ErrMalformed},
		{"dict not list", "8368036400046265727464000464696374" + "6103", etf.Limits{}, bert.ErrMalformed},
		{"dict element not pair", "83680364000462657274640004646963746c00000001" + "6101" + "6a", etf.Limits{}, bert.ErrMalformed},
		{"dict string ext", "8368036400046265727464000464696374" + "6b000101", etf.Limits{}, bert.ErrMalformed},
		{"time float", "8368056400046265727464000474696d65" + "6101" + "6101" + "46" + "3ff8000000000000", etf.Limits{}, bert.ErrMalformed},
		{"time huge", "8368056400046265727464000474696d65" + "6e080000000000000000ff" + "6101" + "6101", etf.Limits{}, bert.ErrMalformed},
		{"regex source atom", "83680464000462657274640005726567657864000161" + "6a", etf.Limits{}, bert.ErrMalformed},
		{"regex opts not atoms", "8368046400046265727464000572656765786d0000000161" + "6c00000001" + "6101" + "6a", etf.Limits{}, bert.ErrMalformed},
		{"regex opts not list", "8368046400046265727464000572656765786d0000000161" + "6101", etf.Limits{}, bert.ErrMalformed},
		{"bad complex deep inside", "836c00000001" + "68026400046265727464000178" + "6a", etf.Limits{}, bert.ErrMalformed},
		{"too large", "836d00000010" + strings.Repeat("00", 16), etf.Limits{MaxSize: 8}, bert.ErrTooLarge},
		{"too deep", "83" + strings.Repeat("6c00000001", 20) + "6a" + strings.Repeat("6a", 20), etf.Limits{MaxDepth: 5}, bert.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := bert.DecodeLimits(unhex(t, tt.hex), tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %#v, %v; want %v", v, err, tt.want)
			}
			if !errors.Is(err, bert.ErrMalformed) && !errors.Is(err, bert.ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
		})
	}
}

// TestDecodeEveryCut cuts each valid input at every point: every strict
// prefix is refused (as truncated, wrapping etf.ErrNeedMore), and the whole
// input always gives the same value.
func TestDecodeEveryCut(t *testing.T) {
	for _, tt := range rubyTable {
		b := unhex(t, tt.hex)
		for cut := 0; cut < len(b); cut++ {
			v, err := bert.Decode(b[:cut])
			if !errors.Is(err, bert.ErrMalformed) {
				t.Fatalf("%s cut %d: Decode = %#v, %v", tt.name, cut, v, err)
			}
			if cut > 0 && !errors.Is(err, etf.ErrNeedMore) {
				t.Fatalf("%s cut %d: %v does not wrap etf.ErrNeedMore", tt.name, cut, err)
			}
		}
		v, err := bert.Decode(bytes.Clone(b))
		if err != nil || !equalValue(v, tt.want) {
			t.Fatalf("%s: whole input gives %#v, %v", tt.name, v, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	values := []any{
		nil, true, false, int64(0), int64(-5), int64(1 << 40), 1.5, -2.25e-300, math.MaxFloat64,
		[]byte{}, []byte("bin\x00\xff"), atom("ok"), atom(""), etf.List{}, etf.Tuple{},
		etf.List{nil, etf.List{}, true}, // nil and [] stay distinct
		bert.Dict{}, bert.Dict{{Key: bert.Dict{}, Value: etf.Tuple{nil}}},
		tsTime, time.Unix(-1, 5000).UTC(), time.Unix(0, 0).UTC(), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		bert.Regex{Source: "x", Options: []string{}},
		etf.ImproperList{Elems: []any{int64(1)}, Tail: true},
		etf.Tuple{atom("a"), etf.List{int64(1), int64(2), int64(300)}, new(big.Int).Lsh(big.NewInt(-1), 100)},
	}
	for _, v := range values {
		b, err := bert.Encode(v)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", v, err)
		}
		got, err := bert.Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%#v)): %v", v, err)
		}
		if !equalValue(got, v) {
			t.Fatalf("round trip of %#v gave %#v", v, got)
		}
		if !bert.Equal(got, v) {
			t.Fatalf("bert.Equal(%#v, %#v) is false", got, v)
		}
	}
}

func TestTimeTruncatesToMicroseconds(t *testing.T) {
	in := time.Date(2024, 2, 29, 1, 2, 3, 123456789, time.FixedZone("X", 3600))
	b, err := bert.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := bert.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := in.Truncate(time.Microsecond).UTC(); !got.(time.Time).Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDictGet(t *testing.T) {
	d := bert.Dict{{Key: []byte("a"), Value: 1}, {Key: int64(7), Value: 2}, {Key: nil, Value: 3}, {Key: tsTime, Value: 4}}
	for _, tt := range []struct {
		key  any
		want any
	}{{"a", 1}, {[]byte("a"), 1}, {7, 2}, {nil, 3}, {tsTime.In(time.Local), 4}} {
		if v, ok := d.Get(tt.key); !ok || v != tt.want {
			t.Fatalf("Get(%#v) = %v, %v; want %v", tt.key, v, ok, tt.want)
		}
	}
	if _, ok := d.Get(atom("a")); ok {
		t.Fatal("atom a found a binary key")
	}
}
