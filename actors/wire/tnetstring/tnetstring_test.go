package tnetstring_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"imperial/actors/wire/tnetstring"
)

type V = tnetstring.Value
type D = tnetstring.Dict
type P = tnetstring.Pair

// equal compares decoded values, treating NaN as equal to NaN.
func equal(a, b V) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case []V:
		y, ok := b.([]V)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case D:
		y, ok := b.(D)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !equal(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func nest(depth int) string {
	s := "0:]"
	for i := 1; i < depth; i++ {
		s = itoa(len(s)) + ":" + s + "]"
	}
	return s
}

func itoa(n int) string {
	b, _ := tnetstring.Append(nil, int64(n))
	s := string(b)
	return s[strings.IndexByte(s, ':')+1 : len(s)-1]
}

var validCases = []struct {
	name      string
	in        string
	want      V
	n         int  // 0: len(in)
	canonical bool // Append(want) == in[:n]
}{
	{"empty string", "0:,", "", 0, true},
	{"string", "5:hello,", "hello", 0, true},
	{"binary string", "4:\x00\xff,:,", "\x00\xff,:", 0, true},
	{"trailing bytes left", "1:a,1:b,", "a", 4, true},
	{"zero", "1:0#", int64(0), 0, true},
	{"negative", "2:-7#", int64(-7), 0, true},
	{"max int64", "19:9223372036854775807#", int64(math.MaxInt64), 0, true},
	{"min int64", "20:-9223372036854775808#", int64(math.MinInt64), 0, true},
	{"float", "3:1.5^", 1.5, 0, true},
	{"float zero", "1:0^", 0.0, 0, true},
	{"float negative zero", "2:-0^", math.Copysign(0, -1), 0, true},
	{"float exponent", "6:1e+100^", 1e100, 0, true},
	{"float exp upper", "4:1E-5^", 1e-5, 0, false},
	{"float trailing zero", "4:1.50^", 1.5, 0, false},
	{"nan", "3:nan^", math.NaN(), 0, true},
	{"inf", "3:inf^", math.Inf(1), 0, true},
	{"-inf", "4:-inf^", math.Inf(-1), 0, true},
	{"true", "4:true!", true, 0, true},
	{"false", "5:false!", false, 0, true},
	{"null", "0:~", nil, 0, true},
	{"empty list", "0:]", []V{}, 0, true},
	{"empty dict", "0:}", D{}, 0, true},
	{"list", "11:1:a,1:1#0:~]", []V{"a", int64(1), nil}, 0, true},
	{"dict", "15:1:a,1:1#1:b,0:]}", D{{"a", int64(1)}, {"b", []V{}}}, 0, true},
	{"dict repeated key", "16:1:a,1:1,1:a,1:2,}", D{{"a", "1"}, {"a", "2"}}, 0, true},
	{"nested", "20:4:1:x,]7:1:k,0:~}0:]]", []V{[]V{"x"}, D{{"k", nil}}, []V{}}, 0, true},
	{"max default depth", nest(tnetstring.DefaultMaxDepth), nil, 0, true},
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			v, n, err := tnetstring.Parse([]byte(tc.in), tnetstring.Limits{})
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			wantN := tc.n
			if wantN == 0 {
				wantN = len(tc.in)
			}
			if n != wantN {
				t.Errorf("n = %d, want %d", n, wantN)
			}
			if tc.name != "max default depth" && !equal(v, tc.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tc.in, v, tc.want)
			}
			if tc.canonical {
				out, err := tnetstring.Append([]byte("pre"), v)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(out); got != "pre"+tc.in[:n] {
					t.Errorf("Append = %q, want %q", got, "pre"+tc.in[:n])
				}
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	cases := []struct {
		name string
		in   string
		lim  tnetstring.Limits
		want error
	}{
		{"empty", "", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"length only", "5", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"short data", "5:hel", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"no tag", "5:hello", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"letter length", "x:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"missing length", ":a,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"negative length", "-1:a,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"plus length", "+1:a,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"space in length", " 1:a,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"leading zero", "01:a,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"double zero", "00:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"ten digits", "1000000000:", tnetstring.Limits{MaxSize: tnetstring.MaxLength}, tnetstring.ErrTooLarge},
		{"ten digits no colon yet", "0000000001", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"over default size", "999999999:", tnetstring.Limits{}, tnetstring.ErrTooLarge},
		{"over size early", "99", tnetstring.Limits{MaxSize: 10}, tnetstring.ErrTooLarge},
		{"over size", "5:hello,", tnetstring.Limits{MaxSize: 4}, tnetstring.ErrTooLarge},
		{"unknown tag", "5:hello?", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int leading zero", "2:01#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int minus zero", "2:-0#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int minus only", "1:-#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int plus", "2:+1#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int empty", "0:#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int space", "3:1 2#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"int overflow", "19:9223372036854775808#", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float dot end", "2:1.^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float dot start", "2:.5^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float hex", "5:0x1p1^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float NaN case", "3:NaN^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float Infinity", "8:Infinity^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float underscore", "3:1_0^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float exp empty", "2:1e^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float overflow", "5:1e999^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"float empty", "0:^", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"bool yes", "3:yes!", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"bool True", "4:True!", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"null with data", "1:x~", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"list item overruns", "3:1:a]", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"list item bad", "3:1:a?]", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"dict key not string", "8:1:1#1:a,}", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"dict key without value", "4:1:a,}", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"dict value overruns", "8:1:a,2:b,}", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"too deep default", nest(tnetstring.DefaultMaxDepth + 1), tnetstring.Limits{}, tnetstring.ErrTooDeep},
		{"too deep", "6:3:0:]]]", tnetstring.Limits{MaxDepth: 2}, tnetstring.ErrTooDeep},
		{"dict too deep", "7:1:k,0:}}", tnetstring.Limits{MaxDepth: 1}, tnetstring.ErrTooDeep},
		{"too many items", "9:0:~0:~0:~]", tnetstring.Limits{MaxItems: 2}, tnetstring.ErrTooLarge},
		{"too many pairs", "21:1:a,0:~1:b,0:~1:c,0:~}", tnetstring.Limits{MaxItems: 2}, tnetstring.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, n, err := tnetstring.Parse([]byte(tc.in), tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) = %#v, %d, %v; want %v", tc.in, v, n, err, tc.want)
			}
			if v != nil || n != 0 {
				t.Errorf("error with value %#v, n %d", v, n)
			}
		})
	}
}

func TestParseLimitsOK(t *testing.T) {
	for _, tc := range []struct {
		in  string
		lim tnetstring.Limits
	}{
		{"3:0:]]", tnetstring.Limits{MaxDepth: 2}},
		{"6:0:~0:~]", tnetstring.Limits{MaxItems: 2}},
		{"4:hell,", tnetstring.Limits{MaxSize: 4}},
	} {
		if _, _, err := tnetstring.Parse([]byte(tc.in), tc.lim); err != nil {
			t.Errorf("Parse(%q, %+v): %v", tc.in, tc.lim, err)
		}
	}
}

// TestSplit cuts every valid input at every point: each strict prefix of the
// value must ask for more, and the full input must give the same result.
func TestSplit(t *testing.T) {
	for _, tc := range validCases {
		full := []byte(tc.in)
		want, wantN, err := tnetstring.Parse(full, tnetstring.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for cut := 0; cut <= len(full); cut++ {
			part := bytes.Clone(full[:cut]) // exact capacity: reads past cut would panic
			v, n, err := tnetstring.Parse(part, tnetstring.Limits{})
			if cut < wantN {
				if !errors.Is(err, tnetstring.ErrNeedMore) {
					t.Errorf("%s: prefix %q: %#v, %d, %v; want ErrNeedMore", tc.name, part, v, n, err)
				}
				continue
			}
			if err != nil || n != wantN || !equal(v, want) {
				t.Errorf("%s: cut %d: %#v, %d, %v; want %#v, %d", tc.name, cut, v, n, err, want, wantN)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	values := []V{
		"", "x", strings.Repeat("\x00", 300), int64(0), int64(-1), int64(1) << 40, 3.25, -1e-300, 1e21,
		math.SmallestNonzeroFloat64, math.MaxFloat64, true, false, nil,
		[]V{}, D{}, []V{"a", []V{"b", []V{"c", D{{"d", 1.5}}}}},
		D{{"METHOD", "GET"}, {"x-dup", []V{"1", "2"}}, {"", ""}, {"n", nil}, {"i", int64(7)}},
	}
	for _, v := range values {
		b, err := tnetstring.Append(nil, v)
		if err != nil {
			t.Fatalf("Append(%#v): %v", v, err)
		}
		got, n, err := tnetstring.Parse(b, tnetstring.Limits{})
		if err != nil || n != len(b) || !equal(got, v) {
			t.Errorf("round trip %#v: %q -> %#v, %d, %v", v, b, got, n, err)
		}
	}
	// Append's conveniences decode to the canonical types.
	b, err := tnetstring.Append(nil, []V{[]byte("raw"), 42})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "11:3:raw,2:42#]" {
		t.Errorf("Append([]byte, int) = %q", b)
	}
}

func TestStream(t *testing.T) {
	in := []byte("5:hello,1:1#0:~4:true!0:]")
	want := []V{"hello", int64(1), nil, true, []V{}}
	var got []V
	for len(in) > 0 {
		v, n, err := tnetstring.Parse(in, tnetstring.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		in = in[n:]
	}
	if !equal(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestAppendErrors(t *testing.T) {
	cyclic := []V{nil}
	cyclic[0] = cyclic
	deep := V(nil)
	for i := 0; i < tnetstring.MaxAppendDepth+1; i++ {
		deep = []V{deep}
	}
	for _, tc := range []struct {
		v    V
		want error
	}{
		{struct{}{}, tnetstring.ErrUnsupported},
		{map[string]V{"a": "b"}, tnetstring.ErrUnsupported},
		{[]V{"ok", uint8(1)}, tnetstring.ErrUnsupported},
		{D{{"k", []string{"x"}}}, tnetstring.ErrUnsupported},
		{cyclic, tnetstring.ErrTooDeep},
		{deep, tnetstring.ErrTooDeep},
	} {
		buf := []byte("keep")
		out, err := tnetstring.Append(buf, tc.v)
		if !errors.Is(err, tc.want) {
			t.Errorf("Append(%T): %v, want %v", tc.v, err, tc.want)
		}
		if string(out) != "keep" {
			t.Errorf("Append(%T) changed buf to %q", tc.v, out)
		}
	}
}

func TestDictGet(t *testing.T) {
	d := D{{"a", "1"}, {"b", nil}, {"a", "2"}}
	if v, ok := d.Get("a"); !ok || v != "1" {
		t.Errorf("Get(a) = %v, %v", v, ok)
	}
	if v, ok := d.Get("b"); !ok || v != nil {
		t.Errorf("Get(b) = %v, %v", v, ok)
	}
	if _, ok := d.Get("c"); ok {
		t.Error("Get(c) found")
	}
}
