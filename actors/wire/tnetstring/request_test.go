package tnetstring_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"imperial/actors/wire/tnetstring"
)

type H = tnetstring.Header

func TestParseRequestSpec(t *testing.T) {
	const jsonUUID = "54c6755b-9628-40a4-9a2d-cc82a816345e"
	const tnetUUID = "34f9ceee-cd52-4b7f-b197-88bf2f0ec378"
	cases := []struct {
		name       string
		in         string
		want       tnetstring.Request
		disconnect bool
		start      string // "" = no upload-start header
		done       string
	}{
		{name: "json get", in: specJSONGet, want: tnetstring.Request{
			UUID: jsonUUID, ConnID: "1", Path: "/hello/world", Protocol: tnetstring.ProtocolJSON, Body: []byte{},
			Headers: tnetstring.Headers{{Key: "PATH", Value: "/hello/world"}, {Key: "x-test", Value: "1"},
				{Key: "x-forwarded-for", Value: "127.0.0.1"}, {Key: "accept", Value: "*/*"},
				{Key: "user-agent", Value: "curl/7.88.1"}, {Key: "host", Value: "127.0.0.1:6767"},
				{Key: "METHOD", Value: "GET"}, {Key: "VERSION", Value: "HTTP/1.1"},
				{Key: "URI", Value: "/hello/world?a=1&b=2"}, {Key: "QUERY", Value: "a=1&b=2"},
				{Key: "PATTERN", Value: "/"}, {Key: "URL_SCHEME", Value: "http"}, {Key: "REMOTE_ADDR", Value: "127.0.0.1"}},
		}},
		{name: "tnet get", in: specTnetGet, want: tnetstring.Request{
			UUID: tnetUUID, ConnID: "3", Path: "/tnet/x", Protocol: tnetstring.ProtocolTNetstring, Body: []byte{},
			Headers: tnetstring.Headers{{Key: "REMOTE_ADDR", Value: "127.0.0.1"}, {Key: "METHOD", Value: "GET"},
				{Key: "URL_SCHEME", Value: "http"}, {Key: "PATTERN", Value: "/tnet/"}, {Key: "QUERY", Value: "q=1"},
				{Key: "URI", Value: "/tnet/x?q=1"}, {Key: "VERSION", Value: "HTTP/1.1"}, {Key: "PATH", Value: "/tnet/x"},
				{Key: "host", Value: "127.0.0.1:6767"}, {Key: "user-agent", Value: "curl/7.88.1"},
				{Key: "accept", Value: "*/*"}, {Key: "x-forwarded-for", Value: "127.0.0.1"}},
		}},
		{name: "json disconnect", in: specJSONDisconnect, disconnect: true, want: tnetstring.Request{
			UUID: jsonUUID, ConnID: "1", Path: "@*", Protocol: tnetstring.ProtocolJSON,
			Headers: tnetstring.Headers{{Key: "METHOD", Value: "JSON"}}, Body: []byte(`{"type":"disconnect"}`),
		}},
		{name: "tnet disconnect", in: specTnetDisconnect, disconnect: true, want: tnetstring.Request{
			UUID: tnetUUID, ConnID: "3", Path: "@*", Protocol: tnetstring.ProtocolTNetstring,
			Headers: tnetstring.Headers{{Key: "METHOD", Value: "JSON"}}, Body: []byte(`{"type":"disconnect"}`),
		}},
		{name: "json post", in: specJSONPost, want: tnetstring.Request{
			UUID: jsonUUID, ConnID: "2", Path: "/post", Protocol: tnetstring.ProtocolJSON, Body: []byte("abc=def"),
			Headers: tnetstring.Headers{{Key: "PATH", Value: "/post"},
				{Key: "content-type", Value: "application/x-www-form-urlencoded"}, {Key: "content-length", Value: "7"},
				{Key: "x-dup", Value: "a", Values: []string{"a", "b"}}, {Key: "METHOD", Value: "POST"},
				{Key: "VERSION", Value: "HTTP/1.1"}, {Key: "URI", Value: "/post"}, {Key: "PATTERN", Value: "/"},
				{Key: "URL_SCHEME", Value: "http"}, {Key: "REMOTE_ADDR", Value: "127.0.0.1"}},
		}},
		{name: "tnet post", in: specTnetPost, want: tnetstring.Request{
			UUID: tnetUUID, ConnID: "4", Path: "/tnet/post", Protocol: tnetstring.ProtocolTNetstring, Body: []byte("abc=def"),
			Headers: tnetstring.Headers{{Key: "REMOTE_ADDR", Value: "127.0.0.1"}, {Key: "METHOD", Value: "POST"},
				{Key: "QUERY", Value: "z=9"}, {Key: "PATH", Value: "/tnet/post"}, {Key: "content-length", Value: "7"},
				{Key: "x-dup", Value: "a", Values: []string{"a", "b"}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tnetstring.ParseRequest([]byte(tc.in), tnetstring.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, tc.want) {
				t.Errorf("got  %+v\nwant %+v", r, tc.want)
			}
			if r.IsDisconnect() != tc.disconnect {
				t.Errorf("IsDisconnect = %v", r.IsDisconnect())
			}
			if _, ok := r.UploadStart(); ok {
				t.Error("UploadStart found")
			}
		})
	}
}

func TestUpload(t *testing.T) {
	start, err := tnetstring.ParseRequest([]byte(specUploadStart), tnetstring.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := start.UploadStart(); !ok || p != "/tmp/upload.xYhZ15" {
		t.Errorf("start: UploadStart = %q, %v", p, ok)
	}
	if p, ok := start.UploadDone(); ok {
		t.Errorf("start: UploadDone = %q", p)
	}
	done, err := tnetstring.ParseRequest([]byte(specUploadDone), tnetstring.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s, okS := done.UploadStart()
	d, okD := done.UploadDone()
	if !okS || !okD || s != d || d != "/tmp/upload.xYhZ15" {
		t.Errorf("done: start %q %v, done %q %v", s, okS, d, okD)
	}
	if start.ConnID != done.ConnID || len(start.Body) != 0 || len(done.Body) != 0 {
		t.Errorf("conn %s/%s bodies %q/%q", start.ConnID, done.ConnID, start.Body, done.Body)
	}
	if done.Method() != "POST" || done.IsDisconnect() {
		t.Errorf("method %q disconnect %v", done.Method(), done.IsDisconnect())
	}
}

func TestIsDisconnect(t *testing.T) {
	for _, tc := range []struct {
		method, body string
		want         bool
	}{
		{"JSON", `{"type":"disconnect"}`, true},
		{"JSON", ` { "type" : "disconnect" } `, true},
		{"JSON", `{"type":"msg","x":1}`, false},
		{"JSON", `{"type":"disconnect"`, false},
		{"JSON", ``, false},
		{"XML", `{"type":"disconnect"}`, false},
		{"GET", `{"type":"disconnect"}`, false},
	} {
		r := tnetstring.Request{Headers: tnetstring.Headers{{Key: "METHOD", Value: tc.method}}, Body: []byte(tc.body)}
		if got := r.IsDisconnect(); got != tc.want {
			t.Errorf("%s %s: IsDisconnect = %v", tc.method, tc.body, got)
		}
	}
}

func TestHeaders(t *testing.T) {
	hs := tnetstring.Headers{{Key: "a", Value: "1"}, {Key: "x", Value: "p", Values: []string{"p", "q"}},
		{Key: "a", Value: "2"}, {Key: "e", Values: []string{}}}
	if hs.Get("a") != "1" || hs.Get("x") != "p" || hs.Get("e") != "" || hs.Get("A") != "" {
		t.Errorf("Get: %q %q %q %q", hs.Get("a"), hs.Get("x"), hs.Get("e"), hs.Get("A"))
	}
	if got := hs.All("a"); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("All(a) = %q", got)
	}
	if got := hs.All("x"); !reflect.DeepEqual(got, []string{"p", "q"}) {
		t.Errorf("All(x) = %q", got)
	}
	if h, ok := hs.Lookup("e"); !ok || !h.IsList() || len(h.Values) != 0 {
		t.Errorf("Lookup(e) = %+v, %v", h, ok)
	}
	if _, ok := hs.Lookup("zz"); ok {
		t.Error("Lookup(zz) found")
	}
}

func TestParseRequestInvalid(t *testing.T) {
	long := strings.Repeat("u", 100)
	cases := []struct {
		name string
		in   string
		lim  tnetstring.Limits
		want error
	}{
		{"empty", "", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"uuid only", "uuid", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"no headers", "u 1 /p ", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"no body", "u 1 /p 0:}", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"body cut", "u 1 /p 0:}3:ab", tnetstring.Limits{}, tnetstring.ErrNeedMore},
		{"empty uuid", " 1 /p 0:}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"bad conn id", "u x /p 0:}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"negative conn id", "u -1 /p 0:}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"conn id leading zero", "u 01 /p 0:}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"conn id too long", "u 1234567890123456789 /p 0:}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"empty path", "u 1  0:}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"headers int", "u 1 /p 1:1#0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"headers list", "u 1 /p 0:]0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"body dict", "u 1 /p 0:}0:}", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"trailing", "u 1 /p 0:}0:,x", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json array", "u 1 /p 2:[],0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json empty", "u 1 /p 0:,0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json number value", `u 1 /p 7:{"a":1},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json null value", `u 1 /p 10:{"a":null},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json object value", `u 1 /p 8:{"a":{}},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json nested array", `u 1 /p 10:{"a":[[]]},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json array number", `u 1 /p 9:{"a":[1]},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json trailing", `u 1 /p 3:{}x,0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json second object", `u 1 /p 4:{}{},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json cut", `u 1 /p 5:{"a":,0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"json bad escape", `u 1 /p 10:{"a":"\x"},0:,`, tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"tnet key int", "u 1 /p 8:1:1#1:a,}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"tnet no value", "u 1 /p 4:1:a,}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"tnet value int", "u 1 /p 8:1:a,1:1#}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"tnet value null", "u 1 /p 7:1:a,0:~}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"tnet list int", "u 1 /p 11:1:a,4:1:1#]}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"tnet value overruns", "u 1 /p 8:1:a,2:b,}0:,", tnetstring.Limits{}, tnetstring.ErrMalformed},
		{"body too large", "u 1 /p 0:}4:abcd,", tnetstring.Limits{MaxBody: 3}, tnetstring.ErrTooLarge},
		{"body too large early", "u 1 /p 0:}40", tnetstring.Limits{MaxBody: 3}, tnetstring.ErrTooLarge},
		{"headers too large", "u 1 /p 11:1:a,4:1:1,]}0:,", tnetstring.Limits{MaxSize: 10}, tnetstring.ErrTooLarge},
		{"too many headers", "u 1 /p 24:1:a,1:1,1:b,1:1,1:c,1:1,}0:,", tnetstring.Limits{MaxItems: 2}, tnetstring.ErrTooLarge},
		{"too many values", "u 1 /p 20:1:a,12:1:1,1:2,1:3,]}0:,", tnetstring.Limits{MaxItems: 2}, tnetstring.ErrTooLarge},
		{"too many json headers", `u 1 /p 25:{"a":"1","b":"1","c":"1"},0:,`, tnetstring.Limits{MaxItems: 2}, tnetstring.ErrTooLarge},
		{"too many json values", `u 1 /p 19:{"a":["1","2","3"]},0:,`, tnetstring.Limits{MaxItems: 2}, tnetstring.ErrTooLarge},
		{"line too long", long + " 1 /p 0:}0:,", tnetstring.Limits{MaxLine: 50}, tnetstring.ErrTooLarge},
		{"line too long early", long, tnetstring.Limits{MaxLine: 50}, tnetstring.ErrTooLarge},
		{"path too long", "u 1 /" + long + " 0:}0:,", tnetstring.Limits{MaxLine: 50}, tnetstring.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tnetstring.ParseRequest([]byte(tc.in), tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseRequest(%q) = %+v, %v; want %v", tc.in, r, err, tc.want)
			}
			if !reflect.DeepEqual(r, tnetstring.Request{}) {
				t.Errorf("error with request %+v", r)
			}
		})
	}
}

func TestParseRequestLimitsOK(t *testing.T) {
	for _, tc := range []struct {
		in  string
		lim tnetstring.Limits
	}{
		{"u 1 /p 0:}3:abc,", tnetstring.Limits{MaxBody: 3}},
		{"u 1 /p 11:1:a,4:1:1,]}0:,", tnetstring.Limits{MaxSize: 11}},
		{"u 1 /p 16:1:a,1:1,1:b,1:1,}0:,", tnetstring.Limits{MaxItems: 2}},
		{"u 123456789012345678 /p 0:}0:,", tnetstring.Limits{}},
		{"u 0 /p 2:{},0:,", tnetstring.Limits{}},
		{"u 1 /p 2:{},0:,", tnetstring.Limits{MaxLine: 7}},
	} {
		if _, err := tnetstring.ParseRequest([]byte(tc.in), tc.lim); err != nil {
			t.Errorf("ParseRequest(%q, %+v): %v", tc.in, tc.lim, err)
		}
	}
}

func allRequests(t testing.TB) [][]byte {
	var out [][]byte
	for _, s := range specRequests {
		out = append(out, []byte(s))
	}
	return append(out, captured(t, "req-")...)
}

// TestParseRequestSplit: every strict prefix of a valid message asks for
// more; none is taken for a (wrong) request.
func TestParseRequestSplit(t *testing.T) {
	for _, full := range allRequests(t) {
		if _, err := tnetstring.ParseRequest(full, tnetstring.Limits{}); err != nil {
			t.Fatalf("%q: %v", full, err)
		}
		for cut := 0; cut < len(full); cut++ {
			part := bytes.Clone(full[:cut])
			if r, err := tnetstring.ParseRequest(part, tnetstring.Limits{}); !errors.Is(err, tnetstring.ErrNeedMore) {
				t.Errorf("prefix %q: %+v, %v; want ErrNeedMore", part, r, err)
			}
		}
	}
}

// TestRequestRoundTrip: parse → AppendRequest gives back the exact bytes
// Mongrel2 sent (both encodings), and encoding a built request parses back.
func TestRequestRoundTrip(t *testing.T) {
	for _, full := range allRequests(t) {
		r, err := tnetstring.ParseRequest(full, tnetstring.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := tnetstring.AppendRequest([]byte("pre"), r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out[3:], full) || string(out[:3]) != "pre" {
			t.Errorf("round trip\n got %q\nwant %q", out[3:], full)
		}
	}
	for _, p := range []tnetstring.Protocol{tnetstring.ProtocolJSON, tnetstring.ProtocolTNetstring} {
		r := tnetstring.Request{UUID: "sender", ConnID: "42", Path: "/a/b", Protocol: p, Body: []byte("x\x00y,"),
			Headers: tnetstring.Headers{{Key: "METHOD", Value: "PUT"}, {Key: "q\"\\\n\t\x01<&>", Value: "é\u2028"},
				{Key: "x-dup", Value: "1", Values: []string{"1", "", "3"}}, {Key: "x-empty", Values: []string{}},
				{Key: "", Value: ""}}}
		b, err := tnetstring.AppendRequest(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tnetstring.ParseRequest(b, tnetstring.Limits{})
		if err != nil {
			t.Fatalf("%v: %q: %v", p, b, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%v:\n got %+v\nwant %+v", p, got, r)
		}
	}
}

func TestAppendRequestJSONText(t *testing.T) {
	r := tnetstring.Request{UUID: "u", ConnID: "1", Path: "/", Headers: tnetstring.Headers{
		{Key: "k", Value: "a&b<\"\\\x7f\n\x1f\xff"}}}
	b, err := tnetstring.AppendRequest(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	want := `u 1 / 31:{"k":"a&b<\"\\` + "\x7f" + `\n\u001f\ufffd"},0:,`
	if string(b) != want {
		t.Errorf("got  %q\nwant %q", b, want)
	}
}

func TestAppendRequestInvalid(t *testing.T) {
	good := tnetstring.Request{UUID: "u", ConnID: "1", Path: "/"}
	for _, mut := range []func(*tnetstring.Request){
		func(r *tnetstring.Request) { r.UUID = "" },
		func(r *tnetstring.Request) { r.UUID = "a b" },
		func(r *tnetstring.Request) { r.ConnID = "" },
		func(r *tnetstring.Request) { r.ConnID = "x" },
		func(r *tnetstring.Request) { r.ConnID = "007" },
		func(r *tnetstring.Request) { r.Path = "" },
		func(r *tnetstring.Request) { r.Path = "/a b" },
		func(r *tnetstring.Request) { r.Protocol = 9 },
	} {
		r := good
		mut(&r)
		out, err := tnetstring.AppendRequest([]byte("keep"), r)
		if !errors.Is(err, tnetstring.ErrUnsupported) || string(out) != "keep" {
			t.Errorf("%+v: %q, %v", r, out, err)
		}
	}
	if _, err := tnetstring.AppendRequest(nil, good); err != nil {
		t.Errorf("good: %v", err)
	}
}

func TestProtocolString(t *testing.T) {
	if tnetstring.ProtocolJSON.String() != "json" || tnetstring.ProtocolTNetstring.String() != "tnetstring" ||
		tnetstring.Protocol(7).String() != "Protocol(7)" {
		t.Error(tnetstring.ProtocolJSON, tnetstring.ProtocolTNetstring, tnetstring.Protocol(7))
	}
}

// TestCaptured checks what the real Mongrel2 frames mean, by file name.
func TestCaptured(t *testing.T) {
	names := map[string]func(t *testing.T, r tnetstring.Request){
		"disconnect": func(t *testing.T, r tnetstring.Request) {
			if !r.IsDisconnect() || r.Path != tnetstring.PathDisconnect {
				t.Errorf("not a disconnect: %+v", r)
			}
		},
		"upload-start": func(t *testing.T, r tnetstring.Request) {
			s, okS := r.UploadStart()
			_, okD := r.UploadDone()
			if !okS || okD || !strings.HasPrefix(s, "/tmp/upload.") || len(r.Body) != 0 {
				t.Errorf("start %q %v done %v body %d", s, okS, okD, len(r.Body))
			}
		},
		"upload-done": func(t *testing.T, r tnetstring.Request) {
			s, okS := r.UploadStart()
			d, okD := r.UploadDone()
			if !okS || !okD || s != d || r.Headers.Get("content-length") != "3000" {
				t.Errorf("start %q %v done %q %v", s, okS, d, okD)
			}
		},
		"dup": func(t *testing.T, r tnetstring.Request) {
			if h, ok := r.Headers.Lookup("x-dup"); !ok || !reflect.DeepEqual(h.Values, []string{"a", "b"}) {
				t.Errorf("x-dup = %+v", h)
			}
		},
		"post": func(t *testing.T, r tnetstring.Request) {
			if string(r.Body) != "abc=def" || r.Method() != "POST" {
				t.Errorf("%s %q", r.Method(), r.Body)
			}
		},
		"escapes": func(t *testing.T, r tnetstring.Request) {
			if r.Headers.Get("x-quote") != `a"b\c` || r.Headers.Get("x-utf8") != "é" {
				t.Errorf("%q %q", r.Headers.Get("x-quote"), r.Headers.Get("x-utf8"))
			}
		},
		"get": func(t *testing.T, r tnetstring.Request) {
			if r.Method() != "GET" || r.Headers.Get("x-forwarded-for") != "127.0.0.1" || r.IsDisconnect() {
				t.Errorf("%+v", r)
			}
		},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "capture", "req-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := tnetstring.ParseRequest(b, tnetstring.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			wantProto := tnetstring.ProtocolJSON
			if strings.Contains(file, "-tnet-") {
				wantProto = tnetstring.ProtocolTNetstring
			}
			if r.Protocol != wantProto {
				t.Errorf("protocol %v", r.Protocol)
			}
			for suffix, check := range names {
				if strings.HasSuffix(file, "-"+suffix+".bin") {
					check(t, r)
				}
			}
		})
	}
}
