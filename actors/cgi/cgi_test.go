package cgi

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"imperial/actors/wire/uwsgi"
)

// nginxVars is the environ nginx 1.22 sent in shared/specs/uwsgi.md §1.5.
func nginxVars() uwsgi.Vars {
	return uwsgi.Vars{}.
		Add("QUERY_STRING", "q=1").Add("REQUEST_METHOD", "POST").
		Add("CONTENT_TYPE", "application/x-www-form-urlencoded").Add("CONTENT_LENGTH", "7").
		Add("REQUEST_URI", "/path/x?q=1").Add("PATH_INFO", "/path/x").Add("DOCUMENT_ROOT", "/usr/share/nginx/html").
		Add("SERVER_PROTOCOL", "HTTP/1.1").Add("REQUEST_SCHEME", "http").Add("REMOTE_ADDR", "127.0.0.1").
		Add("REMOTE_PORT", "46214").Add("SERVER_PORT", "8080").Add("SERVER_NAME", "").
		Add("HTTP_HOST", "example.com").Add("HTTP_USER_AGENT", "curl/7.88.1").Add("HTTP_ACCEPT", "*/*").
		Add("HTTP_X_FOO", "bar").Add("HTTP_CONTENT_LENGTH", "7").Add("HTTP_CONTENT_TYPE", "application/x-www-form-urlencoded")
}

func TestToRequest(t *testing.T) {
	r, err := ToRequest(nginxVars(), strings.NewReader("a=1&b=2trailing"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method != "POST", r.Proto != "HTTP/1.1", r.ProtoMinor != 1, r.URL.Path != "/path/x", r.URL.RawQuery != "q=1",
		r.Host != "example.com", r.RemoteAddr != "127.0.0.1:46214", r.ContentLength != 7, string(body) != "a=1&b=2",
		r.Header.Get("X-Foo") != "bar", r.Header.Get("User-Agent") != "curl/7.88.1",
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded", len(r.Header["Content-Length"]) != 0:
		t.Fatalf("request %+v body %q", r, body)
	}
	if vs := Environ(r, "", ""); len(vs) != len(nginxVars()) {
		t.Fatalf("environ not kept: %d vars", len(vs))
	}
	for _, tc := range []struct {
		name string
		vars uwsgi.Vars
		want error
	}{
		{"bad length", uwsgi.Vars{}.Add("CONTENT_LENGTH", "x"), ErrBadEnviron},
		{"negative length", uwsgi.Vars{}.Add("CONTENT_LENGTH", "-1"), ErrBadEnviron},
		{"bad uri", uwsgi.Vars{}.Add("REQUEST_URI", "::"), ErrBadEnviron},
		{"empty", uwsgi.Vars{}, nil},
	} {
		if _, err := ToRequest(tc.vars, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	r, _ = ToRequest(uwsgi.Vars{}.Add("PATH_INFO", "/p").Add("QUERY_STRING", "a=b").Add("SERVER_NAME", "srv"), nil)
	if r.Method != "GET" || r.Proto != "HTTP/1.0" || r.URL.String() != "/p?a=b" || r.Host != "srv" {
		t.Fatalf("defaults: %+v", r)
	}
}

// TestRoundTrip: an HTTP request → environ → request keeps what an app sees.
func TestRoundTrip(t *testing.T) {
	in, _ := http.NewRequest("PUT", "http://h.example:8080/a%20b/c?x=1&y=2", strings.NewReader("payload"))
	in.Header.Set("X-Multi", "1")
	in.Header.Add("X-Multi", "2")
	in.Header.Set("Content-Type", "text/plain")
	in.RemoteAddr = "10.0.0.1:5555"
	vs := FromRequest(in, "127.0.0.1:8080", "http")
	out, err := ToRequest(vs, strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	if out.Method != "PUT" || out.URL.Path != "/a b/c" || out.URL.RawQuery != "x=1&y=2" || out.Host != "h.example:8080" ||
		out.Header.Get("X-Multi") != "1, 2" || out.Header.Get("Content-Type") != "text/plain" || string(body) != "payload" ||
		out.RemoteAddr != "10.0.0.1:5555" {
		t.Fatalf("round trip %+v body %q", out, body)
	}
	get := func(k string) string { v, _ := vs.Get(k); return string(v) }
	if get("SERVER_NAME") != "h.example" || get("SERVER_PORT") != "8080" || get("SCRIPT_NAME") != "" || get("HTTP_HOST") != "h.example:8080" {
		t.Fatalf("environ %v", vs)
	}
}

func TestHeaderVar(t *testing.T) {
	if got := HeaderVar("X-Forwarded-For"); got != "HTTP_X_FORWARDED_FOR" {
		t.Fatal(got)
	}
}
