package accesslog

import (
	"bytes"
	"testing"
	"time"

	"imperial/node/etf"
)

// FuzzAppendLine decodes the input as an external term and logs it as a
// request: the printer must not panic, the line must be one line ending in
// exactly one newline, and the request field must respect the cut.
func FuzzAppendLine(f *testing.F) {
	seeds := []any{
		etf.Tuple{etf.Atom("call"), etf.Atom("tnat"), etf.Atom("add"), etf.List{int64(1), int64(2)}},
		etf.List{int64('a'), int64('\n')},
		[]byte("x\ny"),
		etf.Atom("a\nb"),
		etf.Map{{Key: etf.Atom("k"), Value: 1.5}},
		etf.BitString{Bytes: []byte{1, 2}, Bits: 3},
		etf.ImproperList{Elems: []any{int64(1)}, Tail: etf.Atom("t")},
	}
	for _, s := range seeds {
		b, err := etf.Encode(s, etf.EncodeOptions{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "", int64(1500))
	}
	f.Add([]byte{131, 106}, "boom\n", int64(-1))
	f.Fuzz(func(t *testing.T, data []byte, errText string, ns int64) {
		term, _, err := etf.Decode(data, etf.DecodeOptions{Limits: etf.Limits{MaxSize: 1 << 16}})
		if err != nil {
			return
		}
		e := Entry{Accepted: time.Unix(0, ns), Wait: time.Duration(ns), Run: time.Duration(-ns),
			Request: term, Error: errText, Handler: Handler(ns & 3), Priority: Priority(ns & 1)}
		line := AppendLine(nil, e)
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("line is not one line: %q", line)
		}
		req := AppendRequest(nil, term)
		if len(req) > MaxRequestChars+3 {
			t.Fatalf("request field %d bytes", len(req))
		}
		if full := AppendTerm(nil, term); len(full) <= MaxRequestChars && !bytes.Equal(full, req) {
			t.Fatalf("short request changed: %q vs %q", req, full)
		} else if len(full) > MaxRequestChars && !bytes.Equal(append(full[:MaxRequestChars:MaxRequestChars], "..."...), req) {
			t.Fatalf("cut request %q is not the prefix of %q", req, full)
		}
	})
}
