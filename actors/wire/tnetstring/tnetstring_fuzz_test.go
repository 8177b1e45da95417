package tnetstring_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"imperial/actors/wire/tnetstring"
)

// maxFuzzInput keeps the mutator's inputs small: a long input that reaches
// a new branch (a limit) is otherwise minimised for a minute, byte by byte,
// with no execs counted. Every limit used by the fuzzers is below it.
const maxFuzzInput = 8 << 10

// checkErr fails unless err wraps one of the package's decode sentinels.
func checkErr(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{tnetstring.ErrNeedMore, tnetstring.ErrMalformed, tnetstring.ErrTooLarge, tnetstring.ErrTooDeep} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error without a sentinel: %v", err)
}

// headerBlobs returns the headers frames of the spec requests: real tnetstring
// dicts and JSON netstrings.
func headerBlobs() []string {
	var out []string
	for _, m := range specRequests {
		parts := strings.SplitN(m, " ", 4)
		out = append(out, parts[3])
	}
	return out
}

func FuzzTnetstring(f *testing.F) {
	for _, tc := range validCases {
		f.Add([]byte(tc.in))
	}
	for _, s := range headerBlobs() {
		f.Add([]byte(s))
	}
	for _, s := range []string{"", "01:a,", "1000000000:", "5:hello?", "3:1:a]", "4:1:a,}", "2:-0#",
		"5:1e999^", "8:1:1#1:a,}", "9:0:~0:~0:~]", nest(20)} {
		f.Add([]byte(s))
	}
	lim := tnetstring.Limits{MaxSize: 4 << 10, MaxDepth: 16, MaxItems: 256}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		v, n, err := tnetstring.Parse(data, lim)
		if err != nil {
			checkErr(t, err)
			if v != nil || n != 0 {
				t.Fatalf("error %v with value %#v, n %d", err, v, n)
			}
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("n = %d of %d", n, len(data))
		}
		// A strict prefix of a value never parses.
		for _, cut := range []int{0, n / 2, n - 1} {
			if pv, pn, err := tnetstring.Parse(bytes.Clone(data[:cut]), lim); !errors.Is(err, tnetstring.ErrNeedMore) {
				t.Fatalf("prefix %q of %q: %#v, %d, %v", data[:cut], data[:n], pv, pn, err)
			}
		}
		// Re-encoding is canonical and decodes to the same value. Canonical
		// floats may be a few bytes longer ("1e9" → "1e+09"), so re-parse
		// without the size limit.
		b, err := tnetstring.Append(nil, v)
		if err != nil {
			t.Fatalf("Append(%#v): %v", v, err)
		}
		relim := lim
		relim.MaxSize = tnetstring.MaxLength
		v2, n2, err := tnetstring.Parse(b, relim)
		if err != nil || n2 != len(b) || !equal(v, v2) {
			t.Fatalf("re-parse %q: %#v, %d, %v; want %#v", b, v2, n2, err, v)
		}
		b2, err := tnetstring.Append(nil, v2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("Append not stable: %q then %q (%v)", b, b2, err)
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, m := range allRequests(f) {
		f.Add(m)
	}
	for _, s := range []string{"", "u 1 /p 0:}0:,", "u 1 /p 2:{},0:,", "u 1 /p 0:}0:,x", `u 1 /p 7:{"a":1},0:,`,
		`u 1 /p 10:{"a":[[]]},0:,`, "u 1 /p 8:1:a,1:1#}0:,", "u 01 /p 0:}0:,", `u 1 /p 13:{"a":"\u00e9"},0:,`,
		"u 1 /p 11:1:a,4:1:1,]}3:abc,"} {
		f.Add([]byte(s))
	}
	lim := tnetstring.Limits{MaxSize: 4 << 10, MaxItems: 256, MaxBody: 4 << 10, MaxLine: 1 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		r, err := tnetstring.ParseRequest(data, lim)
		if err != nil {
			checkErr(t, err)
			if !reflect.DeepEqual(r, tnetstring.Request{}) {
				t.Fatalf("error %v with request %+v", err, r)
			}
			return
		}
		_ = r.IsDisconnect()
		_, _ = r.UploadStart()
		_, _ = r.UploadDone()
		for _, cut := range []int{0, len(data) / 2, len(data) - 1} {
			if pr, err := tnetstring.ParseRequest(bytes.Clone(data[:cut]), lim); !errors.Is(err, tnetstring.ErrNeedMore) {
				t.Fatalf("prefix %q: %+v, %v", data[:cut], pr, err)
			}
		}
		out, err := tnetstring.AppendRequest(nil, r)
		if err != nil {
			t.Fatalf("AppendRequest(%+v): %v", r, err)
		}
		// tnetstring headers have one canonical encoding; JSON may differ in
		// spacing and escapes but must decode the same.
		if r.Protocol == tnetstring.ProtocolTNetstring && !bytes.Equal(out, data) {
			t.Fatalf("tnetstring round trip\n got %q\nwant %q", out, data)
		}
		relim := lim
		relim.MaxSize = tnetstring.MaxLength
		r2, err := tnetstring.ParseRequest(out, relim)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("re-parse %q: %+v, %v; want %+v", out, r2, err, r)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(specBroadcast))
	f.Add([]byte(specClose))
	for _, m := range captured(f, "resp-") {
		f.Add(m)
	}
	for _, s := range []string{"", " 1:0, x", "u 0:, x", "u 3:X 4, 7:1:1#0:~]", "u 4:4  5, x", "u 3:4 5,x"} {
		f.Add([]byte(s))
	}
	lim := tnetstring.Limits{MaxBody: 4 << 10, MaxLine: 1 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		r, err := tnetstring.ParseResponse(data, lim)
		if err != nil {
			checkErr(t, err)
			if !reflect.DeepEqual(r, tnetstring.Response{}) {
				t.Fatalf("error %v with response %+v", err, r)
			}
			return
		}
		if len(r.ConnIDs) == 0 || len(r.ConnIDs) > tnetstring.MaxTargets {
			t.Fatalf("%d ids", len(r.ConnIDs))
		}
		if out := tnetstring.AppendResponse(nil, r.UUID, r.ConnIDs, r.Body); !bytes.Equal(out, data) {
			t.Fatalf("round trip\n got %q\nwant %q", out, data)
		}
	})
}
