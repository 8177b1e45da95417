package tnetstring_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"imperial/actors/wire/tnetstring"
)

// oracleJSONHeaders is the encoding/json Decoder.Token parser that
// tnetstring used for JSON headers before its hand-written scanner. It stays
// here as the differential oracle: the scanner must return the same headers,
// or an error wrapping the same sentinel, for every input.
func oracleJSONHeaders(b []byte, maxItems int) (tnetstring.Headers, error) {
	if maxItems <= 0 {
		maxItems = tnetstring.DefaultMaxItems
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	bad := func(err error) error {
		return fmt.Errorf("%w: json headers: %v", tnetstring.ErrMalformed, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(err)
	}
	if tok != json.Delim('{') {
		return nil, bad(fmt.Errorf("got %v, want an object", tok))
	}
	var hs tnetstring.Headers
	for dec.More() {
		if len(hs) >= maxItems {
			return nil, fmt.Errorf("%w: more than %d headers", tnetstring.ErrTooLarge, maxItems)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, bad(fmt.Errorf("key %v", tok))
		}
		h := tnetstring.Header{Key: key}
		tok, err = dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		switch v := tok.(type) {
		case string:
			h.Value = v
		case json.Delim:
			if v != '[' {
				return nil, bad(fmt.Errorf("header %q: value %v", key, v))
			}
			h.Values = []string{}
			for dec.More() {
				if len(h.Values) >= maxItems {
					return nil, fmt.Errorf("%w: header %q has more than %d values", tnetstring.ErrTooLarge, key, maxItems)
				}
				tok, err := dec.Token()
				if err != nil {
					return nil, bad(err)
				}
				s, ok := tok.(string)
				if !ok {
					return nil, bad(fmt.Errorf("header %q: list item %v", key, tok))
				}
				h.Values = append(h.Values, s)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, bad(err)
			}
			if len(h.Values) > 0 {
				h.Value = h.Values[0]
			}
		default:
			return nil, bad(fmt.Errorf("header %q: value %v", key, tok))
		}
		hs = append(hs, h)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, bad(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad(errors.New("data after the object"))
	}
	return hs, nil
}

// sentinel names the one sentinel err wraps ("" for nil, "?" for none).
func sentinel(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range []error{tnetstring.ErrMalformed, tnetstring.ErrTooLarge, tnetstring.ErrNeedMore, tnetstring.ErrTooDeep} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "?"
}

// checkAgainstOracle fails unless the scanner and the oracle agree on in.
func checkAgainstOracle(t *testing.T, in []byte, maxItems int) (tnetstring.Headers, error) {
	t.Helper()
	got, err := tnetstring.ParseJSONHeaders(in, tnetstring.Limits{MaxItems: maxItems})
	want, werr := oracleJSONHeaders(in, maxItems)
	if sentinel(err) != sentinel(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q (MaxItems %d):\n scanner %#v, %v\n  oracle %#v, %v", in, maxItems, got, err, want, werr)
	}
	if err != nil && got != nil {
		t.Fatalf("%q: error %v with headers %#v", in, err, got)
	}
	for _, h := range got {
		for _, s := range append([]string{h.Key, h.Value}, h.Values...) {
			if !utf8.ValidString(s) {
				t.Fatalf("%q: invalid UTF-8 in %q", in, s)
			}
		}
	}
	return got, err
}

// jsonHeaderBlob returns the JSON object inside the headers netstring of a
// JSON-protocol request message.
func jsonHeaderBlob(msg []byte) ([]byte, bool) {
	parts := bytes.SplitN(msg, []byte(" "), 4)
	if len(parts) != 4 {
		return nil, false
	}
	rest := parts[3]
	colon := bytes.IndexByte(rest, ':')
	if colon < 0 {
		return nil, false
	}
	n, err := strconv.Atoi(string(rest[:colon]))
	if err != nil || colon+1+n >= len(rest) || rest[colon+1+n] != ',' {
		return nil, false
	}
	return rest[colon+1 : colon+1+n], true
}

func jsonBlobs(t testing.TB) [][]byte {
	var out [][]byte
	for _, m := range allRequests(t) {
		if b, ok := jsonHeaderBlob(m); ok {
			out = append(out, b)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d JSON header blobs in the spec requests and captures", len(out))
	}
	return out
}

type jsonCase struct {
	name     string
	in       string
	maxItems int
	want     tnetstring.Headers // for valid input
	err      error              // for invalid input
}

var jsonCases = []jsonCase{
	{name: "empty object", in: `{}`, want: nil},
	{name: "whitespace", in: " \t\r\n{ \n\"a\" :\t\"b\" ,\r\"c\":[ \"d\" , \"e\" ] } \n",
		want: tnetstring.Headers{{Key: "a", Value: "b"}, {Key: "c", Value: "d", Values: []string{"d", "e"}}}},
	{name: "empty array", in: `{"a":[],"b":[ ]}`,
		want: tnetstring.Headers{{Key: "a", Values: []string{}}, {Key: "b", Values: []string{}}}},
	{name: "repeats in order", in: `{"b":"1","a":"2","b":"3"}`,
		want: tnetstring.Headers{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}, {Key: "b", Value: "3"}}},
	{name: "empty strings", in: `{"":"","x":[""]}`,
		want: tnetstring.Headers{{Key: "", Value: ""}, {Key: "x", Value: "", Values: []string{""}}}},
	{name: "simple escapes", in: `{"k\"":"a\"\\\/\b\f\n\r\tz"}`,
		want: tnetstring.Headers{{Key: "k\"", Value: "a\"\\/\b\f\n\r\tz"}}},
	{name: "unicode escapes", in: `{"k":"\u00e9\u20AC\u0000\u007F"}`,
		want: tnetstring.Headers{{Key: "k", Value: "é€\x00\x7f"}}},
	{name: "surrogate pair", in: `{"k":"\ud83d\ude00!"}`, want: tnetstring.Headers{{Key: "k", Value: "😀!"}}},
	{name: "lone high surrogate", in: `{"k":"\ud83dx"}`, want: tnetstring.Headers{{Key: "k", Value: "\uFFFDx"}}},
	{name: "lone low surrogate", in: `{"k":"\uDE00"}`, want: tnetstring.Headers{{Key: "k", Value: "\uFFFD"}}},
	{name: "high then not low", in: `{"k":"\ud83d\u0041"}`, want: tnetstring.Headers{{Key: "k", Value: "\uFFFDA"}}},
	{name: "high high low", in: `{"k":"\ud83d\ud83d\ude00"}`, want: tnetstring.Headers{{Key: "k", Value: "\uFFFD😀"}}},
	{name: "high then plain escape", in: `{"k":"\ud83d\n"}`, want: tnetstring.Headers{{Key: "k", Value: "\uFFFD\n"}}},
	{name: "raw utf-8", in: `{"é":"日本\u00e9"}`, want: tnetstring.Headers{{Key: "é", Value: "日本é"}}},
	{name: "invalid utf-8", in: "{\"k\":\"a\xffb\xc3\"}", want: tnetstring.Headers{{Key: "k", Value: "a\uFFFDb\uFFFD"}}},
	{name: "utf-8 surrogate bytes", in: "{\"k\":\"\xed\xa0\x80\"}", want: tnetstring.Headers{{Key: "k", Value: "\uFFFD\uFFFD\uFFFD"}}},
	{name: "raw U+FFFD", in: "{\"\xef\xbf\xbd\":\"\"}", want: tnetstring.Headers{{Key: "\uFFFD"}}},
	{name: "raw DEL", in: "{\"k\":\"\x7f\"}", want: tnetstring.Headers{{Key: "k", Value: "\x7f"}}},
	{name: "at MaxItems", in: `{"a":"1","b":["1","2"]}`, maxItems: 2,
		want: tnetstring.Headers{{Key: "a", Value: "1"}, {Key: "b", Value: "1", Values: []string{"1", "2"}}}},

	{name: "nothing", in: ``, err: tnetstring.ErrMalformed},
	{name: "only space", in: "  \n", err: tnetstring.ErrMalformed},
	{name: "array", in: `[]`, err: tnetstring.ErrMalformed},
	{name: "string", in: `"a"`, err: tnetstring.ErrMalformed},
	{name: "number", in: `1`, err: tnetstring.ErrMalformed},
	{name: "open", in: `{`, err: tnetstring.ErrMalformed},
	{name: "key only", in: `{"a"`, err: tnetstring.ErrMalformed},
	{name: "no value", in: `{"a":`, err: tnetstring.ErrMalformed},
	{name: "not closed", in: `{"a":"b"`, err: tnetstring.ErrMalformed},
	{name: "trailing comma", in: `{"a":"b",}`, err: tnetstring.ErrMalformed},
	{name: "leading comma", in: `{,"a":"b"}`, err: tnetstring.ErrMalformed},
	{name: "lone comma", in: `{,}`, err: tnetstring.ErrMalformed},
	{name: "no colon", in: `{"a" "b"}`, err: tnetstring.ErrMalformed},
	{name: "double colon", in: `{"a"::"b"}`, err: tnetstring.ErrMalformed},
	{name: "no comma", in: `{"a":"b" "c":"d"}`, err: tnetstring.ErrMalformed},
	{name: "number value", in: `{"a":1}`, err: tnetstring.ErrMalformed},
	{name: "null value", in: `{"a":null}`, err: tnetstring.ErrMalformed},
	{name: "true value", in: `{"a":true}`, err: tnetstring.ErrMalformed},
	{name: "object value", in: `{"a":{}}`, err: tnetstring.ErrMalformed},
	{name: "nested array", in: `{"a":[[]]}`, err: tnetstring.ErrMalformed},
	{name: "array number", in: `{"a":[1]}`, err: tnetstring.ErrMalformed},
	{name: "array null after string", in: `{"a":["b",null]}`, err: tnetstring.ErrMalformed},
	{name: "array trailing comma", in: `{"a":["b",]}`, err: tnetstring.ErrMalformed},
	{name: "array leading comma", in: `{"a":[,"b"]}`, err: tnetstring.ErrMalformed},
	{name: "array no comma", in: `{"a":["b" "c"]}`, err: tnetstring.ErrMalformed},
	{name: "array closed by brace", in: `{"a":["b"}`, err: tnetstring.ErrMalformed},
	{name: "empty array closed by brace", in: `{"a":[}`, err: tnetstring.ErrMalformed},
	{name: "object closed by bracket", in: `{"a":"b"]`, err: tnetstring.ErrMalformed},
	{name: "empty object closed by bracket", in: `{]`, err: tnetstring.ErrMalformed},
	{name: "number key", in: `{1:"a"}`, err: tnetstring.ErrMalformed},
	{name: "single quotes", in: `{'a':"b"}`, err: tnetstring.ErrMalformed},
	{name: "data after", in: `{}x`, err: tnetstring.ErrMalformed},
	{name: "second object", in: `{}{}`, err: tnetstring.ErrMalformed},
	{name: "nul after", in: "{}\x00", err: tnetstring.ErrMalformed},
	{name: "vertical tab", in: "\v{}", err: tnetstring.ErrMalformed},
	{name: "byte order mark", in: "\xef\xbb\xbf{}", err: tnetstring.ErrMalformed},
	{name: "bad escape", in: `{"a":"\x"}`, err: tnetstring.ErrMalformed},
	{name: "single quote escape", in: `{"a":"\'"}`, err: tnetstring.ErrMalformed},
	{name: "short unicode escape", in: `{"a":"\u12"}`, err: tnetstring.ErrMalformed},
	{name: "bad hex", in: `{"a":"\u12g4"}`, err: tnetstring.ErrMalformed},
	{name: "bad hex after high", in: `{"a":"\ud83d\u12g4"}`, err: tnetstring.ErrMalformed},
	{name: "escape at end", in: `{"a":"\`, err: tnetstring.ErrMalformed},
	{name: "unterminated key", in: `{"a`, err: tnetstring.ErrMalformed},
	{name: "raw control", in: "{\"a\":\"\x01\"}", err: tnetstring.ErrMalformed},
	{name: "raw newline", in: "{\"a\":\"x\ny\"}", err: tnetstring.ErrMalformed},
	{name: "raw control in key", in: "{\"\t\":\"\"}", err: tnetstring.ErrMalformed},

	// The limit is checked where Decoder.More saw a further entry.
	{name: "too many headers", in: `{"a":"1","b":"1","c":"1"}`, maxItems: 2, err: tnetstring.ErrTooLarge},
	{name: "too many, trailing comma", in: `{"a":"1","b":"1",}`, maxItems: 2, err: tnetstring.ErrTooLarge},
	{name: "too many, junk", in: `{"a":"1","b":"1" x`, maxItems: 2, err: tnetstring.ErrTooLarge},
	{name: "junk below the limit", in: `{"a":"1","b":"1" x`, maxItems: 3, err: tnetstring.ErrMalformed},
	{name: "at limit, bracket", in: `{"a":"1","b":"1"]`, maxItems: 2, err: tnetstring.ErrMalformed},
	{name: "at limit, cut", in: `{"a":"1","b":"1"`, maxItems: 2, err: tnetstring.ErrMalformed},
	{name: "too many values", in: `{"a":["1","2","3"]}`, maxItems: 2, err: tnetstring.ErrTooLarge},
	{name: "too many values, no comma", in: `{"a":["1","2" "3"]}`, maxItems: 2, err: tnetstring.ErrTooLarge},
	{name: "values at limit, brace", in: `{"a":["1","2"}`, maxItems: 2, err: tnetstring.ErrMalformed},
	{name: "values at limit, cut", in: `{"a":["1","2"`, maxItems: 2, err: tnetstring.ErrMalformed},
	{name: "one header max", in: `{"a":"1","b":"2"}`, maxItems: 1, err: tnetstring.ErrTooLarge},
}

// TestJSONHeaders: the table, each case also checked against the oracle.
func TestJSONHeaders(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkAgainstOracle(t, []byte(tc.in), tc.maxItems)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("%q: %#v, %v; want %v", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%q:\n got %#v, %v\nwant %#v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestJSONHeadersCaptured: the real Mongrel2 header objects, against the
// oracle; then every strict prefix of each (a cut frame) is ErrMalformed,
// never a shorter header list.
func TestJSONHeadersCaptured(t *testing.T) {
	for _, blob := range jsonBlobs(t) {
		if _, err := checkAgainstOracle(t, blob, 0); err != nil {
			t.Fatalf("%q: %v", blob, err)
		}
		for cut := 0; cut < len(blob); cut++ {
			part := bytes.Clone(blob[:cut])
			if hs, err := checkAgainstOracle(t, part, 0); !errors.Is(err, tnetstring.ErrMalformed) {
				t.Fatalf("prefix %q: %#v, %v", part, hs, err)
			}
		}
	}
}

// TestJSONHeadersAllocs holds the allocation budget: one Headers slice and
// one string for all text, plus one []string when some header is an array.
func TestJSONHeadersAllocs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{`{}`, 0},
		{specJSONGet, 2},
		{specJSONPost, 3},
		{`{"k\"":"\u00e9\ud83d\ude00","x":["\n",""]}`, 3},
	} {
		in := []byte(tc.in)
		if b, ok := jsonHeaderBlob(in); ok {
			in = b
		}
		if _, err := tnetstring.ParseJSONHeaders(in, tnetstring.Limits{}); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		n := testing.AllocsPerRun(20, func() { _, _ = tnetstring.ParseJSONHeaders(in, tnetstring.Limits{}) })
		if n != tc.want {
			t.Errorf("%.40q…: %v allocs, want %v", in, n, tc.want)
		}
	}
}

// FuzzJSONHeaders feeds the same bytes to the scanner and to the
// encoding/json oracle, with MaxItems 1..7 or the default (0), and requires
// the same headers or errors with the same sentinel.
func FuzzJSONHeaders(f *testing.F) {
	for _, blob := range jsonBlobs(f) {
		f.Add(blob, uint8(0))
		f.Add(blob, uint8(3))
	}
	for _, tc := range jsonCases {
		f.Add([]byte(tc.in), uint8(tc.maxItems))
	}
	for _, s := range []string{`{"a":["b","c"],"a":"d"}`, `{"\ud800\udbff\udc00":"\uDFFF\uD800"}`,
		"{\"\xf4\x90\x80\x80\xc0\xaf\":\"\xe2\x82\"}", strings.Repeat(`{"a":"b",`, 3)} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxItems uint8) {
		if len(data) > maxFuzzInput {
			return
		}
		checkAgainstOracle(t, data, int(maxItems%8))
	})
}
