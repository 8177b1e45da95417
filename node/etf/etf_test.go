package etf_test

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"imperial/node/etf"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func bigInt(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 0)
	if !ok {
		panic("bad big " + s)
	}
	return x
}

func pow2(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }

const nonode = "770D6E6F6E6F6465406E6F686F7374" // SMALL_ATOM_UTF8 'nonode@nohost'

// validCases are encodings that must decode to want. canonical ones are
// what erl's term_to_binary(T, [{minor_version, 2}]) emits (captured from
// OTP 25), so encoding want must give the bytes back.
var validCases = []struct {
	name      string
	hex       string
	want      any
	canonical bool
}{
	{"0", "836100", int64(0), true},
	{"255", "8361FF", int64(255), true},
	{"256", "836200000100", int64(256), true},
	{"-1", "8362FFFFFFFF", int64(-1), true},
	{"2^31", "836E040000000080", int64(1 << 31), true},
	{"-2^31", "836280000000", int64(-1 << 31), true},
	{"2^31-1", "83627FFFFFFF", int64(1<<31 - 1), true},
	{"2^63-1", "836E0800FFFFFFFFFFFFFF7F", int64(math.MaxInt64), true},
	{"-2^63", "836E08010000000000000080", int64(math.MinInt64), true},
	{"2^63", "836E08000000000000000080", pow2(63), true},
	{"2^64", "836E0900000000000000000001", pow2(64), true},
	{"-2^64", "836E0901000000000000000001", new(big.Int).Neg(pow2(64)), true},
	{"1.5", "83463FF8000000000000", 1.5, true},
	{"-0.0", "83468000000000000000", math.Copysign(0, -1), true},
	{"''", "837700", etf.Atom(""), true},
	{"abc", "837703616263", etf.Atom("abc"), true},
	{"true", "83770474727565", etf.Atom("true"), true},
	{"unicode atom", "837705C3BC6EC3AF", etf.Atom("ünï"), true},
	{"string", "836B0003616263", etf.List{int64('a'), int64('b'), int64('c')}, true},
	{"[200]", "836B0001C8", etf.List{int64(200)}, true},
	{"[a|b]", "836C00000001770161770162", etf.ImproperList{Elems: []any{etf.Atom("a")}, Tail: etf.Atom("b")}, true},
	{"[1,2|3]", "836C00000002610161026103", etf.ImproperList{Elems: []any{int64(1), int64(2)}, Tail: int64(3)}, true},
	{"{}", "836800", etf.Tuple{}, true},
	{"[]", "836A", etf.List{}, true},
	{"binary", "836D00000003010203", []byte{1, 2, 3}, true},
	{"<<>>", "836D00000000", []byte{}, true},
	{"<<1:3>>", "834D000000010320", etf.BitString{Bytes: []byte{0x20}, Bits: 3}, true},
	{"<<1,2:4>>", "834D00000002040120", etf.BitString{Bytes: []byte{1, 0x20}, Bits: 4}, true},
	{"map any keys", "8374000000036802610161027701786B0001017701796D000000016B77017A", etf.Map{
		{Key: etf.Tuple{int64(1), int64(2)}, Value: etf.Atom("x")},
		{Key: etf.List{int64(1)}, Value: etf.Atom("y")},
		{Key: []byte("k"), Value: etf.Atom("z")},
	}, true},
	{"#{}", "837400000000", etf.Map{}, true},
	{"[256,1]", "836C00000002620000010061016A", etf.List{int64(256), int64(1)}, true},
	{"fun lists:map/2", "837177056C6973747377036D61706102", etf.Export{Module: "lists", Function: "map", Arity: 2}, true},
	{"nested", "8368037701616C000000016802770162463FF00000000000006A74000000017701636A",
		etf.Tuple{etf.Atom("a"), etf.List{etf.Tuple{etf.Atom("b"), 1.0}}, etf.Map{{Key: etf.Atom("c"), Value: etf.List{}}}}, true},
	{"pid", "8358" + nonode + "000000090000000000000000", etf.Pid{Node: "nonode@nohost", ID: 9}, true},
	{"ref", "835A0003" + nonode + "000000000002BB4E2F0800017DFC17CA",
		etf.Ref{Node: "nonode@nohost", IDs: []uint32{0x2BB4E, 0x2F080001, 0x7DFC17CA}}, true},
	{"port", "8359" + nonode + "0000000000000000", etf.Port{Node: "nonode@nohost"}, true},
	{"v4 port", "8378" + nonode + "0000000100000002" + "00000003", etf.Port{Node: "nonode@nohost", ID: 1<<32 + 2, Creation: 3}, true},
	{"closure", closureHex,
		etf.Fun{Raw: mustHex(closureHex)[2:]}, true},
	{"gen_server call", "83680377092467656E5F63616C6C680258" + nonode + "0000000900000000000000006C000000017705616C6961735A0003" + nonode + "000000000002BB532F0800017DFC17CA6803770367657477036B6579612A",
		etf.Tuple{etf.Atom("$gen_call"),
			etf.Tuple{etf.Pid{Node: "nonode@nohost", ID: 9}, etf.ImproperList{Elems: []any{etf.Atom("alias")},
				Tail: etf.Ref{Node: "nonode@nohost", IDs: []uint32{0x2BB53, 0x2F080001, 0x7DFC17CA}}}},
			etf.Tuple{etf.Atom("get"), etf.Atom("key"), int64(42)}}, true},
	{"2^2100", "836F00000107" + strings.Repeat("00", 263) + "10", pow2(2100), true},
	{"255-char atom", "8377FF" + strings.Repeat("61", 255), etf.Atom(strings.Repeat("a", 255)), true},
	{"255 4-byte chars", "837603FC" + strings.Repeat("F09F9880", 255), etf.Atom(strings.Repeat("😀", 255)), true},
	{"5 id ref", "835A0005" + nonode + "00000001" + "0000000100000002000000030000000400000005",
		etf.Ref{Node: "nonode@nohost", Creation: 1, IDs: []uint32{1, 2, 3, 4, 5}}, true},

	// Non-canonical forms erl accepts.
	{"small big 5", "836E010005", int64(5), false},
	{"small big 0 digits", "836E0000", int64(0), false},
	{"small big negative zero", "836E010100", int64(0), false},
	{"small big sign 2", "836E010205", int64(-5), false},
	{"small big high zeros", "836E040005000000", int64(5), false},
	{"large big 1 digit", "836F000000010007", int64(7), false},
	{"large big 2^64", "836F00000009" + "00" + strings.Repeat("00", 8) + "01", pow2(64), false},
	{"integer 5", "836200000005", int64(5), false},
	{"ATOM_EXT", "83640003616263", etf.Atom("abc"), false},
	{"SMALL_ATOM_EXT", "837303616263", etf.Atom("abc"), false},
	{"ATOM_EXT latin-1", "83640001E9", etf.Atom("é"), false},
	{"ATOM_UTF8 short", "8376000161", etf.Atom("a"), false},
	{"FLOAT_EXT", "8363312E3530303030303030303030303030303030303030652B30300000000000", 1.5, false},
	{"FLOAT_EXT ruby", "8363" + hex.EncodeToString(append([]byte("1.500000000000000e+00"), make([]byte, 10)...)), 1.5, false},
	{"FLOAT_EXT -0", "8363" + hex.EncodeToString(append([]byte("-0.00000000000000000000e+00"), make([]byte, 4)...)), math.Copysign(0, -1), false},
	{"LIST len0 tail 1", "836C000000006101", int64(1), false},
	{"LIST len0 NIL", "836C000000006A", etf.List{}, false},
	{"STRING len0", "836B0000", etf.List{}, false},
	{"list of bytes as LIST", "836C00000002610161026A", etf.List{int64(1), int64(2)}, false},
	{"[a|[b]]", "836C00000001770161" + "6C00000001770162" + "6A", etf.List{etf.Atom("a"), etf.Atom("b")}, false},
	{"[a|\"bc\"]", "836C000000017701616B00026263", etf.List{etf.Atom("a"), int64('b'), int64('c')}, false},
	{"[a|[b|c]]", "836C00000001770161" + "6C00000001770162770163", etf.ImproperList{Elems: []any{etf.Atom("a"), etf.Atom("b")}, Tail: etf.Atom("c")}, false},
	{"BIT_BINARY bits 8", "834D000000020801FF", []byte{1, 0xFF}, false},
	{"BIT_BINARY empty", "834D0000000000", []byte{}, false},
	{"BIT_BINARY unused bits set", "834D00000001033F", etf.BitString{Bytes: []byte{0x20}, Bits: 3}, false},
	{"LARGE_TUPLE arity 1", "83690000000161 01", etf.Tuple{int64(1)}, false},
	{"old PID", "8367" + nonode + "000000010000000203", etf.Pid{Node: "nonode@nohost", ID: 1, Serial: 2, Creation: 3}, false},
	{"PID node ATOM_EXT", "8358640001610000000100000002" + "00000003", etf.Pid{Node: "a", ID: 1, Serial: 2, Creation: 3}, false},
	{"old PORT", "8366" + nonode + "0000000703", etf.Port{Node: "nonode@nohost", ID: 7, Creation: 3}, false},
	{"V4_PORT small id", "8378" + nonode + "0000000000000007" + "00000003", etf.Port{Node: "nonode@nohost", ID: 7, Creation: 3}, false},
	{"NEW_REFERENCE", "83720002" + nonode + "03" + "0000000100000002", etf.Ref{Node: "nonode@nohost", Creation: 3, IDs: []uint32{1, 2}}, false},
	{"REFERENCE", "8365" + nonode + "0000000703", etf.Ref{Node: "nonode@nohost", Creation: 3, IDs: []uint32{7}}, false},
	{"export INTEGER arity", "837177016177016262" + "00000001", etf.Export{Module: "a", Function: "b", Arity: 1}, false},
	{"compressed", "83500000025E789CCB616060484961604E4C4A1E254749EA92590051A09C4F", repeatAtom(100, "abc"), false}, // ATOM_EXT inside
	{"compressed canonical", "835000000136789CCB602A674CCC656060D4A91805440300EDA48E7E",
		etf.Tuple{etf.Atom("a"), bytes.Repeat([]byte("x"), 300)}, false},
}

const closureHex = "83700000004901A3B2E51CEE118AD457772B6C77DA70FB0000000000000000770765746667656E32610062051D972858770D6E6F6E6F6465406E6F686F7374000000090000000000000000"

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func repeatAtom(n int, a etf.Atom) etf.List {
	l := make(etf.List, n)
	for i := range l {
		l[i] = a
	}
	return l
}

// sameShape reports whether a and b have the same Go types all the way
// down (Equal alone would not tell List from []any or int64 from *big.Int).
func sameShape(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case etf.Tuple:
		y := b.(etf.Tuple)
		return sameSlice(x, y)
	case etf.List:
		y := b.(etf.List)
		return (x == nil) == (y == nil) && sameSlice(x, y)
	case etf.ImproperList:
		y := b.(etf.ImproperList)
		return sameSlice(x.Elems, y.Elems) && sameShape(x.Tail, y.Tail)
	case etf.Map:
		y := b.(etf.Map)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameShape(x[i].Key, y[i].Key) || !sameShape(x[i].Value, y[i].Value) {
				return false
			}
		}
	case float64:
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	}
	return true
}

func sameSlice(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !sameShape(x[i], y[i]) {
			return false
		}
	}
	return true
}

func checkSame(t *testing.T, got, want any) {
	t.Helper()
	if !etf.Equal(got, want) || !sameShape(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestDecodeValid(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, c.hex)
			got, n, err := etf.Decode(b, etf.DecodeOptions{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if n != len(b) {
				t.Fatalf("consumed %d of %d bytes", n, len(b))
			}
			checkSame(t, got, c.want)
			// Trailing bytes are left for the caller.
			got2, n2, err := etf.Decode(append(b, 0xEE, 0xFF), etf.DecodeOptions{})
			if err != nil || n2 != len(b) || !etf.Equal(got2, got) {
				t.Fatalf("with trailing bytes: %v, n=%d", err, n2)
			}
			// Without the version byte (not for compressed, a top-level form).
			if b[1] != 80 {
				got3, n3, err := etf.DecodeTerm(b[1:], etf.DecodeOptions{})
				if err != nil || n3 != len(b)-1 || !etf.Equal(got3, got) {
					t.Fatalf("DecodeTerm: %v, n=%d", err, n3)
				}
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, c.hex)
			term, _, err := etf.Decode(b, etf.DecodeOptions{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			enc, err := etf.Encode(term, etf.EncodeOptions{})
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if c.canonical && !bytes.Equal(enc, b) {
				t.Fatalf("encode(decode(erl bytes)) differs:\n got %X\nwant %X", enc, b)
			}
			back, n, err := etf.Decode(enc, etf.DecodeOptions{})
			if err != nil || n != len(enc) {
				t.Fatalf("decode(encode): %v n=%d", err, n)
			}
			checkSame(t, back, term)
			// Encoding the expected Go value gives the canonical bytes too.
			want, err := etf.Encode(c.want, etf.EncodeOptions{})
			if err != nil || !bytes.Equal(want, enc) {
				t.Fatalf("encode(want) = %X, %v; want %X", want, err, enc)
			}
		})
	}
}

// TestSplit cuts every valid encoding at every point: each strict prefix
// must give ErrNeedMore, never a value or another error.
func TestSplit(t *testing.T) {
	for _, c := range validCases {
		b := unhex(t, c.hex)
		for i := 0; i < len(b); i++ {
			v, n, err := etf.Decode(b[:i], etf.DecodeOptions{})
			if !errors.Is(err, etf.ErrNeedMore) {
				t.Fatalf("%s: prefix %d/%d: got %v, n=%d, err=%v", c.name, i, len(b), v, n, err)
			}
			if i > 0 && b[1] != 80 {
				_, _, err = etf.DecodeTerm(b[1:i], etf.DecodeOptions{})
				if !errors.Is(err, etf.ErrNeedMore) {
					t.Fatalf("%s: DecodeTerm prefix %d: %v", c.name, i-1, err)
				}
			}
		}
	}
}

func nested(depth int, open, close string) string {
	return "83" + strings.Repeat(open, depth) + "6A" + strings.Repeat(close, depth)
}

var invalidCases = []struct {
	name string
	hex  string
	err  error
	opts etf.DecodeOptions
}{
	{"empty", "", etf.ErrNeedMore, etf.DecodeOptions{}},
	{"no version", "6101", etf.ErrVersion, etf.DecodeOptions{}},
	{"version only", "83", etf.ErrNeedMore, etf.DecodeOptions{}},
	{"unknown tag", "8300", etf.ErrMalformed, etf.DecodeOptions{}},
	{"tag 255", "83FF", etf.ErrMalformed, etf.DecodeOptions{}},
	{"LOCAL_EXT", "8379000000", etf.ErrMalformed, etf.DecodeOptions{}},
	{"old FUN_EXT", "83750000000000", etf.ErrMalformed, etf.DecodeOptions{}},
	{"nested compressed", "836801500000000178", etf.ErrMalformed, etf.DecodeOptions{}},
	{"LIST 2^32-1 in 10 bytes", "836CFFFFFFFF6A6A6A6A", etf.ErrTooLarge, etf.DecodeOptions{}},
	{"LIST 1000 in 10 bytes", "836C000003E86A6A6A6A", etf.ErrNeedMore, etf.DecodeOptions{}},
	{"LIST over MaxSize", "836C000003E86A6A6A6A", etf.ErrTooLarge, etf.DecodeOptions{Limits: etf.Limits{MaxSize: 100}}},
	{"tuple 2^32-1", "8369FFFFFFFF61", etf.ErrTooLarge, etf.DecodeOptions{}},
	{"map 2^31 pairs", "837480000000", etf.ErrTooLarge, etf.DecodeOptions{}},
	{"binary 4GB", "836DFFFFFFFF00", etf.ErrTooLarge, etf.DecodeOptions{}},
	{"binary short", "836D0000006401", etf.ErrNeedMore, etf.DecodeOptions{}},
	{"LARGE_BIG 4GB", "836FFFFFFFFF00", etf.ErrTooLarge, etf.DecodeOptions{}},
	{"elements over limit", "8368036101610261036A", etf.ErrTooLarge, etf.DecodeOptions{Limits: etf.Limits{MaxElements: 2}}},
	{"depth over limit", nested(3, "6801", ""), etf.ErrTooDeep, etf.DecodeOptions{Limits: etf.Limits{MaxDepth: 2}}},
	{"input capped by MaxSize", "836D000000100102030405060708090A0B0C0D0E0F10", etf.ErrTooLarge, etf.DecodeOptions{Limits: etf.Limits{MaxSize: 10}}},
	{"atom 256 chars", "8376 0100" + strings.Repeat("61", 256), etf.ErrBadAtom, etf.DecodeOptions{}},
	{"ATOM_EXT 256", "8364 0100" + strings.Repeat("61", 256), etf.ErrBadAtom, etf.DecodeOptions{}},
	{"atom 256 emoji", "8376 0400" + strings.Repeat("F09F9880", 256), etf.ErrBadAtom, etf.DecodeOptions{}},
	{"atom 1021 bytes", "8376 03FD" + strings.Repeat("61", 4), etf.ErrBadAtom, etf.DecodeOptions{}},
	{"atom invalid UTF-8", "837702C328", etf.ErrBadAtom, etf.DecodeOptions{}},
	{"atom overlong UTF-8", "837702C080", etf.ErrBadAtom, etf.DecodeOptions{}},
	{"atom over MaxAtomChars", "8377036162 63", etf.ErrBadAtom, etf.DecodeOptions{Limits: etf.Limits{MaxAtomChars: 2}}},
	{"atom cache without cache", "835200", etf.ErrMalformed, etf.DecodeOptions{}},
	{"atom cache index out of range", "835205", etf.ErrMalformed, etf.DecodeOptions{AtomCache: []etf.Atom{"a"}}},
	{"NaN", "83467FF8000000000000", etf.ErrBadFloat, etf.DecodeOptions{}},
	{"+Inf", "83467FF0000000000000", etf.ErrBadFloat, etf.DecodeOptions{}},
	{"-Inf", "8346FFF0000000000000", etf.ErrBadFloat, etf.DecodeOptions{}},
	{"FLOAT_EXT nan", "8363" + hex.EncodeToString(append([]byte("nan"), make([]byte, 28)...)), etf.ErrBadFloat, etf.DecodeOptions{}},
	{"FLOAT_EXT 1e400", "8363" + hex.EncodeToString(append([]byte("1e400"), make([]byte, 26)...)), etf.ErrBadFloat, etf.DecodeOptions{}},
	{"FLOAT_EXT garbage", "8363" + hex.EncodeToString(append([]byte("1.5x"), make([]byte, 27)...)), etf.ErrMalformed, etf.DecodeOptions{}},
	{"BIT_BINARY bits 0", "834D000000010001", etf.ErrMalformed, etf.DecodeOptions{}},
	{"BIT_BINARY bits 9", "834D000000010901", etf.ErrMalformed, etf.DecodeOptions{}},
	{"BIT_BINARY empty bits 1", "834D0000000001", etf.ErrMalformed, etf.DecodeOptions{}},
	{"ref 0 ids", "835A0000" + nonode + "00000000", etf.ErrMalformed, etf.DecodeOptions{}},
	{"ref 6 ids", "835A0006" + nonode + "00000000" + strings.Repeat("00000001", 6), etf.ErrMalformed, etf.DecodeOptions{}},
	{"pid node not an atom", "8358610100000001000000020000000300", etf.ErrMalformed, etf.DecodeOptions{}},
	{"dup keys", "837400000002770161610177016161 02", etf.ErrDuplicateKey, etf.DecodeOptions{}},
	{"dup keys ATOM_EXT vs UTF8", "8374000000026400016161017701616102", etf.ErrDuplicateKey, etf.DecodeOptions{}},
	{"dup keys 5 as big", "83740000000261056101" + "6E0100056102", etf.ErrDuplicateKey, etf.DecodeOptions{}},
	{"dup keys string vs list", "837400000002" + "6B0002010261 01" + "6C00000002610161026A6102", etf.ErrDuplicateKey, etf.DecodeOptions{}},
	{"dup keys maps in other order", "837400000002" +
		"74000000027701616101770162610261 01" + "74000000027701626102770161610161 02", etf.ErrDuplicateKey, etf.DecodeOptions{}},
	{"dup keys nested map", "8368017400000002770161610177016161 02", etf.ErrDuplicateKey, etf.DecodeOptions{}},
	{"export arity atom", "83717701617701627701 63", etf.ErrMalformed, etf.DecodeOptions{}},
	{"export arity 256", "837177016177016262 00000100", etf.ErrMalformed, etf.DecodeOptions{}},
	{"fun size too small", "837000000004", etf.ErrMalformed, etf.DecodeOptions{}},
	{"fun size past free vars", "8370" + "0000004A" + "01A3B2E51CEE118AD457772B6C77DA70FB0000000000000000770765746667656E32610062051D972858770D6E6F6E6F6465406E6F686F7374000000090000000000000000" + "6A", etf.ErrMalformed, etf.DecodeOptions{}},
	{"fun free var truncated", "8370" + "00000049" + "01A3B2E51CEE118AD457772B6C77DA70FB0000000000000001770765746667656E32610062051D972858770D6E6F6E6F6465406E6F686F7374000000090000000000000000", etf.ErrMalformed, etf.DecodeOptions{}},
	{"compressed over MaxSize", "8350FFFFFFFF78", etf.ErrTooLarge, etf.DecodeOptions{}},
	{"compressed wrong size", "83500000025F789CCB616060484961604E4C4A1E254749EA92590051A09C4F", etf.ErrMalformed, etf.DecodeOptions{}},
	{"compressed too short", "83500000025D789CCB616060484961604E4C4A1E254749EA92590051A09C4F", etf.ErrMalformed, etf.DecodeOptions{}},
	{"compressed bad checksum", "83500000025E789CCB616060484961604E4C4A1E254749EA92590051A09C4E", etf.ErrMalformed, etf.DecodeOptions{}},
	{"compressed bad header", "83500000025E889CCB616060484961604E4C4A1E254749EA92590051A09C4F", etf.ErrMalformed, etf.DecodeOptions{}},
}

func TestDecodeInvalid(t *testing.T) {
	for _, c := range invalidCases {
		t.Run(c.name, func(t *testing.T) {
			v, n, err := etf.Decode(unhex(t, c.hex), c.opts)
			if !errors.Is(err, c.err) {
				t.Fatalf("got %#v n=%d err=%v, want %v", v, n, err, c.err)
			}
			if v != nil || n != 0 {
				t.Fatalf("error with a value: %#v n=%d", v, n)
			}
		})
	}
}

// TestDeepNesting: 10^6 nested containers are refused by the depth limit
// (an explicit stack, so no Go stack growth either way).
func TestDeepNesting(t *testing.T) {
	for _, c := range []struct{ name, open, close string }{
		{"lists", "6C00000001", "6A"},
		{"tuples", "6801", ""},
		{"maps", "74000000016101", ""},
		{"improper list heads", "6C00000001", "6101"},
	} {
		b := unhex(t, nested(1_000_000, c.open, c.close))
		if _, _, err := etf.Decode(b, etf.DecodeOptions{}); !errors.Is(err, etf.ErrTooDeep) {
			t.Errorf("%s: %v", c.name, err)
		}
		// With the limit raised, the explicit stack copes without recursion.
		b = unhex(t, nested(50_000, c.open, c.close))
		v, _, err := etf.Decode(b, etf.DecodeOptions{Limits: etf.Limits{MaxDepth: 50_000}})
		if err != nil || v == nil {
			t.Errorf("%s with MaxDepth 5e4: %v", c.name, err)
		}
		if _, err := etf.Encode(v, etf.EncodeOptions{}); err != nil {
			t.Errorf("%s: re-encode 5e4 deep: %v", c.name, err)
		}
	}
	// Long tail chains [a|[a|[a|...]]] take no depth at all: they extend one list.
	b := unhex(t, "83"+strings.Repeat("6C00000001770161", 1_000_000)+"6A")
	v, _, err := etf.Decode(b, etf.DecodeOptions{Limits: etf.Limits{MaxDepth: 1}})
	if err != nil || len(v.(etf.List)) != 1_000_000 {
		t.Fatalf("tail chain: %v", err)
	}
}

func TestDecodeHooksAndCache(t *testing.T) {
	type myAtom string
	type myPid struct{ id uint32 }
	b := unhex(t, "8368035200"+"58"+nonode+"000000090000000000000000"+"6C000000017701786A")
	opts := etf.DecodeOptions{
		Atom:      func(a etf.Atom) any { return myAtom(a) },
		Pid:       func(p etf.Pid) any { return myPid{p.ID} },
		AtomCache: []etf.Atom{"cached"},
	}
	got, _, err := etf.Decode(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := etf.Tuple{myAtom("cached"), myPid{9}, etf.List{myAtom("x")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	// Encode maps them back through the hook.
	enc, err := etf.Encode(got, etf.EncodeOptions{Hook: func(v any) (any, bool) {
		switch x := v.(type) {
		case myAtom:
			return etf.Atom(x), true
		case myPid:
			return etf.Pid{Node: "nonode@nohost", ID: x.id}, true
		}
		return nil, false
	}})
	if err != nil {
		t.Fatal(err)
	}
	want2 := unhex(t, "836803770663616368656458"+nonode+"000000090000000000000000"+"6C000000017701786A")
	if !bytes.Equal(enc, want2) {
		t.Fatalf("got %X\nwant %X", enc, want2)
	}
	// Duplicate detection works on wire bytes, not on hooked values.
	dup := unhex(t, "8374000000025200610177066361636865646102")
	if _, _, err := etf.Decode(dup, opts); !errors.Is(err, etf.ErrDuplicateKey) {
		t.Fatalf("cached vs inline dup key: %v", err)
	}
}

func TestEncode(t *testing.T) {
	type unknown struct{}
	cases := []struct {
		name string
		in   any
		opts etf.EncodeOptions
		hex  string
		err  error
	}{
		{"bool", true, etf.EncodeOptions{}, "83770474727565", nil},
		{"int", 300, etf.EncodeOptions{}, "83620000012C", nil},
		{"int8 -1", int8(-1), etf.EncodeOptions{}, "8362FFFFFFFF", nil},
		{"uint64 max", uint64(math.MaxUint64), etf.EncodeOptions{}, "836E0800FFFFFFFFFFFFFFFF", nil},
		{"big.Int value", *big.NewInt(5), etf.EncodeOptions{}, "836105", nil},
		{"float32", float32(1.5), etf.EncodeOptions{}, "83463FF8000000000000", nil},
		{"string is binary", "ab", etf.EncodeOptions{}, "836D000000026162", nil},
		{"[]any is a list", []any{1, 2}, etf.EncodeOptions{}, "836B00020102", nil},
		{"list of uint8", etf.List{uint8(1), 300}, etf.EncodeOptions{}, "836C0000000261016200000" + "12C6A", nil},
		{"list with a nil element", etf.List(make([]any, 3)), etf.EncodeOptions{}, "", etf.ErrNil},
		{"improper with list tail", etf.ImproperList{Elems: []any{1}, Tail: etf.List{2}}, etf.EncodeOptions{}, "836B00020102", nil},
		{"improper with improper tail", etf.ImproperList{Elems: []any{etf.Atom("a")}, Tail: etf.ImproperList{Elems: []any{etf.Atom("b")}, Tail: etf.Atom("c")}},
			etf.EncodeOptions{}, "836C00000002770161770162770163", nil},
		{"improper nil tail", etf.ImproperList{Elems: []any{1}}, etf.EncodeOptions{}, "", etf.ErrNil},
		{"bitstring 8 bits", etf.BitString{Bytes: []byte{1}, Bits: 8}, etf.EncodeOptions{}, "836D0000000101", nil},
		{"bitstring masks", etf.BitString{Bytes: []byte{0xFF}, Bits: 1}, etf.EncodeOptions{}, "834D000000010180", nil},
		{"bitstring 0 bits", etf.BitString{Bytes: []byte{1}, Bits: 0}, etf.EncodeOptions{}, "", etf.ErrMalformed},
		{"ref 6 ids", etf.Ref{Node: "a", IDs: make([]uint32, 6)}, etf.EncodeOptions{}, "", etf.ErrMalformed},
		{"ref 0 ids", etf.Ref{Node: "a"}, etf.EncodeOptions{}, "", etf.ErrMalformed},
		{"fun bad size", etf.Fun{Raw: []byte{0, 0, 0, 9}}, etf.EncodeOptions{}, "", etf.ErrMalformed},
		{"NaN", math.NaN(), etf.EncodeOptions{}, "", etf.ErrBadFloat},
		{"Inf", math.Inf(-1), etf.EncodeOptions{}, "", etf.ErrBadFloat},
		{"NaN BERT", math.NaN(), etf.EncodeOptions{BERT: true}, "", etf.ErrBadFloat},
		{"nil", nil, etf.EncodeOptions{}, "", etf.ErrNil},
		{"nil *big.Int", (*big.Int)(nil), etf.EncodeOptions{}, "", etf.ErrNil},
		{"unknown", unknown{}, etf.EncodeOptions{}, "", etf.ErrUnsupportedType},
		{"hook declines", unknown{}, etf.EncodeOptions{Hook: func(any) (any, bool) { return nil, false }}, "", etf.ErrUnsupportedType},
		{"hook result not hooked again", unknown{}, etf.EncodeOptions{Hook: func(v any) (any, bool) { return v, true }}, "", etf.ErrUnsupportedType},
		{"atom 256 chars", etf.Atom(strings.Repeat("a", 256)), etf.EncodeOptions{}, "", etf.ErrBadAtom},
		{"atom invalid UTF-8", etf.Atom("\xff"), etf.EncodeOptions{}, "", etf.ErrBadAtom},
		{"atom 100 emoji", etf.Atom(strings.Repeat("😀", 100)), etf.EncodeOptions{}, "83760190" + strings.Repeat("F09F9880", 100), nil},
		{"pid bad node", etf.Pid{Node: "\xff"}, etf.EncodeOptions{}, "", etf.ErrBadAtom},
		{"dup keys", etf.Map{{Key: 1, Value: 1}, {Key: int64(1), Value: 2}}, etf.EncodeOptions{}, "", etf.ErrDuplicateKey},
		{"dup keys big", etf.Map{{Key: etf.Atom("x"), Value: 1}, {Key: 1, Value: 1}, {Key: 2, Value: 1}, {Key: 3, Value: 1},
			{Key: 4, Value: 1}, {Key: 5, Value: 1}, {Key: 6, Value: 1}, {Key: 7, Value: 1}, {Key: 8, Value: 1},
			{Key: 9, Value: 1}, {Key: 10, Value: 1}, {Key: 11, Value: 1}, {Key: 12, Value: 1}, {Key: 13, Value: 1},
			{Key: 14, Value: 1}, {Key: 15, Value: 1}, {Key: 16, Value: 1}, {Key: true, Value: 1}, {Key: etf.Atom("true"), Value: 1}},
			etf.EncodeOptions{}, "", etf.ErrDuplicateKey},
		{"port small id", etf.Port{Node: "a", ID: 5, Creation: 1}, etf.EncodeOptions{}, "8359770161000000050000000" + "1", nil},
		// BERT mode: ATOM_EXT and FLOAT_EXT only.
		{"BERT atom", etf.Tuple{etf.Atom("reply"), int64(3)}, etf.EncodeOptions{BERT: true}, "83680264000572657" + "06C79610" + "3", nil},
		{"BERT latin-1 atom", etf.Atom("é"), etf.EncodeOptions{BERT: true}, "83640001E9", nil},
		{"BERT non-latin-1 atom", etf.Atom("😀"), etf.EncodeOptions{BERT: true}, "", etf.ErrBadAtom},
		{"BERT float", 1.5, etf.EncodeOptions{BERT: true}, "8363" + hex.EncodeToString(append([]byte("1.50000000000000000000e+00"), make([]byte, 5)...)), nil},
		{"BERT -0.0", math.Copysign(0, -1), etf.EncodeOptions{BERT: true}, "8363" + hex.EncodeToString(append([]byte("-0.00000000000000000000e+00"), make([]byte, 4)...)), nil},
		{"BERT bool", false, etf.EncodeOptions{BERT: true}, "8364000566616C7365", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := etf.Encode(c.in, c.opts)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got %X, %v; want %v", got, err, c.err)
				}
				// AppendTerm leaves the buffer as it was.
				buf, err := etf.AppendTerm([]byte{1, 2}, c.in, c.opts)
				if err == nil || !bytes.Equal(buf, []byte{1, 2}) {
					t.Fatalf("AppendTerm on error: %X, %v", buf, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if want := unhex(t, c.hex); !bytes.Equal(got, want) {
				t.Fatalf("got  %X\nwant %X", got, want)
			}
			back, _, err := etf.Decode(got, etf.DecodeOptions{})
			if err != nil {
				t.Fatalf("decode back: %v", err)
			}
			if !etf.Equal(back, c.in) {
				t.Fatalf("decode back: %#v", back)
			}
		})
	}
}

func TestBERTFloatsRoundTrip(t *testing.T) {
	for _, f := range []float64{0, 1.5, -2.25, 0.1, 1e-300, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 123456789.123456789, 1.0 / 3} {
		b, err := etf.Encode(f, etf.EncodeOptions{BERT: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 2+31 || b[1] != 99 {
			t.Fatalf("%v: %X", f, b)
		}
		v, _, err := etf.Decode(b, etf.DecodeOptions{})
		if err != nil || v.(float64) != f {
			t.Fatalf("%v: decoded %v, %v", f, v, err)
		}
	}
}

func TestAppendTermNoVersion(t *testing.T) {
	buf, err := etf.AppendTerm([]byte("hdr"), etf.Tuple{etf.Atom("a")}, etf.EncodeOptions{})
	if err != nil || string(buf) != "hdr\x68\x01\x77\x01a" {
		t.Fatalf("%q %v", buf, err)
	}
}

func TestMapGetAndEqual(t *testing.T) {
	m := etf.Map{
		{Key: etf.Atom("a"), Value: 1},
		{Key: etf.Tuple{etf.Atom("connection_id"), etf.Atom("n@h")}, Value: 2},
		{Key: []byte("k"), Value: 3},
		{Key: pow2(70), Value: 4},
		{Key: int64(7), Value: 5},
		{Key: etf.List{int64(1)}, Value: 6},
		{Key: etf.Atom("true"), Value: 7},
		{Key: false, Value: 8},
	}
	for _, c := range []struct {
		key  any
		want any
	}{
		{etf.Atom("a"), 1},
		{etf.Tuple{etf.Atom("connection_id"), etf.Atom("n@h")}, 2},
		{[]byte("k"), 3},
		{new(big.Int).Lsh(big.NewInt(1), 70), 4},
		{7, 5},
		{big.NewInt(7), 5},
		{[]any{1}, 6},
		{true, 7},
		{etf.Atom("false"), 8},
	} {
		if v, ok := m.Get(c.key); !ok || v != c.want {
			t.Errorf("Get(%v) = %v, %v; want %v", c.key, v, ok, c.want)
		}
	}
	for _, k := range []any{etf.Atom("b"), "kk", 8, etf.List{}, struct{}{}} {
		if v, ok := m.Get(k); ok {
			t.Errorf("Get(%v) = %v, want missing", k, v)
		}
	}
	if !etf.Equal(etf.Map{{Key: 1, Value: 2}, {Key: 3, Value: 4}}, etf.Map{{Key: 3, Value: 4}, {Key: 1, Value: 2}}) {
		t.Error("maps differing only in order are not Equal")
	}
	if etf.Equal(0.0, math.Copysign(0, -1)) {
		t.Error("0.0 and -0.0 are Equal (OTP 27 =:= says no)")
	}
	if etf.Equal("abc", etf.List{97, 98, 99}) {
		t.Error("a Go string is a binary, not a list")
	}
	if !etf.Equal(true, etf.Atom("true")) {
		t.Error("true is the atom true")
	}
}

// TestHostileNoHugeAllocation makes sure length fields are checked before
// allocating: a 10-byte input claiming a huge container allocates nothing big.
func TestHostileNoHugeAllocation(t *testing.T) {
	for _, h := range []string{"836C00FFFFFF6A6A6A6A", "836900FFFFFF6A6A6A6A", "837400FFFFFF6A6A6A6A", "836B FFFF 6A6A", "836D00FFFFFF6A6A"} {
		b := unhex(t, h)
		allocs := testing.AllocsPerRun(10, func() {
			if _, _, err := etf.Decode(b, etf.DecodeOptions{}); !errors.Is(err, etf.ErrNeedMore) {
				t.Fatalf("%s: %v", h, err)
			}
		})
		if allocs > 2 {
			t.Fatalf("%s: %v allocations", h, allocs)
		}
	}
}

// TestCompressedBombBounded: a compressed term claiming 100 MB that inflates
// to a few bytes fails without allocating the claimed size.
func TestCompressedBombBounded(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte{97, 1})
	zw.Close()
	b := append([]byte{131, 80, 0x05, 0xF5, 0xE1, 0x00}, z.Bytes()...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := etf.Decode(b, etf.DecodeOptions{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, etf.ErrMalformed) {
		t.Fatalf("got %v", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("allocated %d bytes", d)
	}
	// The same stream with the right size decodes.
	b[2], b[3], b[4], b[5] = 0, 0, 0, 2
	if v, n, err := etf.Decode(b, etf.DecodeOptions{}); err != nil || n != len(b) || v != int64(1) {
		t.Fatalf("got %v %d %v", v, n, err)
	}
}

// TestBERTRoundTrip: BERT mode output decodes to the same terms (atoms that
// are not Latin-1 are refused).
func TestBERTRoundTrip(t *testing.T) {
	for _, c := range validCases {
		v, _, err := etf.Decode(mustHex(c.hex), etf.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := etf.Encode(v, etf.EncodeOptions{BERT: true})
		if errors.Is(err, etf.ErrBadAtom) && strings.Contains(c.name, "4-byte") {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		back, _, err := etf.Decode(b, etf.DecodeOptions{})
		if err != nil || !etf.Equal(back, v) {
			t.Fatalf("%s: %X decodes to %#v, %v", c.name, b, back, err)
		}
	}
}

func TestLongListOfInts(t *testing.T) {
	l := make(etf.List, 70000)
	for i := range l {
		l[i] = int64(i % 300)
	}
	b, err := etf.Encode(l, etf.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b[1] != 108 {
		t.Fatalf("tag %d", b[1])
	}
	v, n, err := etf.Decode(b, etf.DecodeOptions{})
	if err != nil || n != len(b) {
		t.Fatal(err)
	}
	checkSame(t, v, l)
	// 65535 bytes is the longest STRING_EXT, 65536 is a LIST_EXT.
	for _, n := range []int{65535, 65536} {
		l := make(etf.List, n)
		for i := range l {
			l[i] = int64(1)
		}
		b, _ := etf.Encode(l, etf.EncodeOptions{})
		if want := map[int]byte{65535: 107, 65536: 108}[n]; b[1] != want {
			t.Fatalf("%d: tag %d", n, b[1])
		}
	}
}

func TestCyclicValueRefused(t *testing.T) {
	l := make([]any, 1)
	l[0] = l
	if _, err := etf.Encode(l, etf.EncodeOptions{}); !errors.Is(err, etf.ErrTooDeep) {
		t.Fatalf("got %v", err)
	}
}

func TestBigMapDecode(t *testing.T) {
	m := make(etf.Map, 40)
	for i := range m {
		m[i] = etf.Pair{Key: etf.Tuple{etf.Atom("k"), int64(i)}, Value: int64(i)}
	}
	b, err := etf.Encode(m, etf.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := etf.Decode(b, etf.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, v, m)
	if x, ok := v.(etf.Map).Get(etf.Tuple{etf.Atom("k"), 39}); !ok || x != int64(39) {
		t.Fatalf("Get: %v %v", x, ok)
	}
	// Same bytes with the last key ({k,39}, 7 bytes before its 2-byte value) made {k,0}.
	b2 := bytes.Clone(b)
	copy(b2[len(b)-9:len(b)-2], b[6:13])
	if _, _, err := etf.Decode(b2, etf.DecodeOptions{}); !errors.Is(err, etf.ErrDuplicateKey) {
		t.Fatalf("dup in 40-key map: %v", err)
	}
}

// Fun bodies: the closure of validCases with its module atom spelled three ways.
const (
	funFixed  = "01A3B2E51CEE118AD457772B6C77DA70FB0000000000000000"
	funTail   = "610062051D972858770D6E6F6E6F6465406E6F686F7374000000090000000000000000"
	funUTF8   = "8370" + "00000049" + funFixed + "770765746667656E32" + funTail
	funLatin1 = "8370" + "0000004A" + funFixed + "64000765746667656E32" + funTail
	funCached = "8370" + "00000042" + funFixed + "5200" + funTail
)

func TestFunForms(t *testing.T) {
	utf8v, _, err := etf.Decode(unhex(t, funUTF8), etf.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	latin, _, err := etf.Decode(unhex(t, funLatin1), etf.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Opaque: re-encoded byte-exactly, but still the same term.
	if enc, _ := etf.Encode(latin, etf.EncodeOptions{}); !bytes.Equal(enc, unhex(t, funLatin1)) {
		t.Fatalf("latin-1 fun not echoed byte-exactly: %X", enc)
	}
	if !etf.Equal(utf8v, latin) {
		t.Fatal("the same fun with ATOM_EXT and SMALL_ATOM_UTF8 module is not Equal")
	}
	// As map keys they are duplicates.
	m := "837400000002" + funUTF8[2:] + "6101" + funLatin1[2:] + "6102"
	if _, _, err := etf.Decode(unhex(t, m), etf.DecodeOptions{}); !errors.Is(err, etf.ErrDuplicateKey) {
		t.Fatalf("fun keys: %v", err)
	}
	// Atom cache refs inside a fun are resolved: Raw must make sense elsewhere.
	cached, _, err := etf.Decode(unhex(t, funCached), etf.DecodeOptions{AtomCache: []etf.Atom{"etfgen2"}})
	if err != nil {
		t.Fatal(err)
	}
	if enc, _ := etf.Encode(cached, etf.EncodeOptions{}); !bytes.Equal(enc, unhex(t, funUTF8)) {
		t.Fatalf("cached fun re-encoded as %X", enc)
	}
	if _, _, err := etf.Decode(unhex(t, funCached), etf.DecodeOptions{}); !errors.Is(err, etf.ErrMalformed) {
		t.Fatalf("cache ref in fun without a cache: %v", err)
	}
}
