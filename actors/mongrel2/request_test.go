package mongrel2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"imperial/actors/cgi"
	"imperial/actors/wire/tnetstring"
)

// sameAsToRequest checks that newRequest builds what cgi.ToRequest builds
// from the environ (the path the handler took before), or fails as it does.
func sameAsToRequest(t *testing.T, frame []byte, mustParse bool) {
	t.Helper()
	req, err := tnetstring.ParseRequest(frame, tnetstring.Limits{})
	if err != nil {
		if mustParse {
			t.Fatalf("ParseRequest: %v", err)
		}
		return
	}
	size := int64(len(req.Body))
	vars := Environ(req, "srv", size)
	want, werr := cgi.ToRequest(vars, bytes.NewReader(req.Body))
	got, gerr := newRequest(context.Background(), req, vars, "srv", size, bytes.NewReader(req.Body))
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("errors differ: ToRequest %v, newRequest %v", werr, gerr)
	}
	if werr != nil {
		if !errors.Is(gerr, cgi.ErrBadEnviron) {
			t.Fatalf("newRequest error %v, want cgi.ErrBadEnviron", gerr)
		}
		return
	}
	type view struct {
		Method, Proto, URI, URL, Host, Remote string
		Major, Minor                          int
		Length                                int64
	}
	v := func(r interface{ Context() context.Context }, m, p, uri, u, host, remote string, maj, min int, n int64) view {
		return view{m, p, uri, u, host, remote, maj, min, n}
	}
	wv := v(want, want.Method, want.Proto, want.RequestURI, want.URL.String(), want.Host, want.RemoteAddr, want.ProtoMajor, want.ProtoMinor, want.ContentLength)
	gv := v(got, got.Method, got.Proto, got.RequestURI, got.URL.String(), got.Host, got.RemoteAddr, got.ProtoMajor, got.ProtoMinor, got.ContentLength)
	if wv != gv {
		t.Fatalf("request\n got %+v\nwant %+v", gv, wv)
	}
	if len(want.Header) != 0 || len(got.Header) != 0 {
		if !reflect.DeepEqual(got.Header, want.Header) {
			t.Fatalf("header\n got %q\nwant %q", got.Header, want.Header)
		}
	}
	if !reflect.DeepEqual(cgi.Environ(got, "", "http"), vars) {
		t.Fatal("the context does not carry the environ")
	}
}

func TestNewRequestMatchesToRequest(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "wire", "tnetstring", "testdata", "capture", "req-*.bin"))
	if len(files) == 0 {
		t.Fatal("no captured requests")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(name), func(t *testing.T) { sameAsToRequest(t, b, true) })
	}
	for _, frame := range requestSeeds {
		t.Run(string(frame), func(t *testing.T) { sameAsToRequest(t, []byte(frame), true) })
	}
}

// requestSeeds: headers that take every branch of newRequest.
var requestSeeds = []string{
	"u 1 /%zz 2:{},0:,",
	"u 1 x 2:{},0:,",
	jsonFrame("/", `{"host":"[::1","x-forwarded-for":",,"}`, ""),
	jsonFrame("/a", `{"METHOD":"POST","VERSION":"HTTP/9","QUERY":"q=1","content_type":"x","content-type":"t/p"}`, "abc"),
	jsonFrame("/a", `{"VERSION":"HTTP/1.1","HOST":"a","host":"","x_y":"1","X-Y":"2","cookie":["a","b"],"accept":["c","d"]}`, ""),
	jsonFrame("/a", `{"content_length":"9","bad key":"1","x--y":"z","content-length":"3"}`, "xyz"),
	jsonFrame("/a%20b", `{"QUERY":"%zz\u0000"}`, ""),
	tnetFrame("/t", "6:METHOD,4:HEAD,4:host,3:a:1,5:x-abc,1:v,", ""),
}

func jsonFrame(path, hdr, body string) string {
	return fmt.Sprintf("u 1 %s %d:%s,%d:%s,", path, len(hdr), hdr, len(body), body)
}

func tnetFrame(path, dict, body string) string {
	return fmt.Sprintf("u 1 %s %d:%s}%d:%s,", path, len(dict), dict, len(body), body)
}

func TestNewRequestBadURI(t *testing.T) {
	req := tnetstring.Request{UUID: "u", ConnID: "1", Path: "/a b\x7f"}
	req.Headers = tnetstring.Headers{{Key: tnetstring.HeaderQuery, Value: "%zz\x00"}}
	_, err := newRequest(context.Background(), req, nil, "s", 0, nil)
	if _, werr := cgi.ToRequest(Environ(req, "s", 0), nil); (werr == nil) != (err == nil) {
		t.Fatalf("newRequest %v, ToRequest %v", err, werr)
	}
	if err != nil && !errors.Is(err, cgi.ErrBadEnviron) {
		t.Fatalf("err %v, want cgi.ErrBadEnviron", err)
	}
}
