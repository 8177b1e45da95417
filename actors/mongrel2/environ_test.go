package mongrel2_test

import (
	"os"
	"path/filepath"
	"testing"

	"imperial/actors/cgi"
	"imperial/actors/mongrel2"
	"imperial/actors/wire/tnetstring"
	"imperial/actors/wire/uwsgi"
)

// captureDir holds the frames real Mongrel2 1.12 sent (actors/wire/tnetstring).
const captureDir = "../wire/tnetstring/testdata/capture"

func captured(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, frame []byte) tnetstring.Request {
	t.Helper()
	r, err := tnetstring.ParseRequest(frame, tnetstring.Limits{})
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	return r
}

func envMap(vs uwsgi.Vars) map[string]string {
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		if _, dup := m[string(v.Key)]; dup {
			m[string(v.Key)] = "DUPLICATE"
			continue
		}
		m[string(v.Key)] = string(v.Value)
	}
	return m
}

func TestEnvironCaptured(t *testing.T) {
	absent := "<absent>"
	tests := []struct {
		file string
		body int64
		want map[string]string
	}{
		{"req-json-get.bin", 0, map[string]string{
			// spec §4.5, captured against uWSGI's plugin
			"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "a=1&b=2",
			"PATH_INFO": "/hello/world", "REQUEST_URI": "/hello/world?a=1&b=2", "SCRIPT_NAME": "",
			"UWSGI_SCHEME": "http", "REQUEST_SCHEME": "http", "SERVER_PORT": "26767", "REMOTE_ADDR": "127.0.0.1",
			"SERVER_NAME": "gonode", "HTTP_HOST": "127.0.0.1:26767", "HTTP_X_TEST": "1", "HTTP_ACCEPT": "*/*",
			"HTTP_USER_AGENT": "curl/7.88.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1",
			"CONTENT_LENGTH": absent, "CONTENT_TYPE": absent, "HTTP_URI": absent, "HTTP_PATTERN": absent,
			"HTTPS": absent, "HTTP_METHOD": absent,
		}},
		{"req-tnet-get.bin", 0, map[string]string{
			"REQUEST_METHOD": "GET", "QUERY_STRING": "q=1", "PATH_INFO": "/tnet/x", "REQUEST_URI": "/tnet/x?q=1",
			"SERVER_PORT": "26767", "HTTP_HOST": "127.0.0.1:26767", "HTTP_REMOTE_ADDR": absent,
		}},
		{"req-json-post.bin", 7, map[string]string{
			"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "7", "CONTENT_TYPE": "application/x-www-form-urlencoded",
			"HTTP_CONTENT_LENGTH": absent, "HTTP_CONTENT_TYPE": absent, "QUERY_STRING": "", "REQUEST_URI": "/post",
		}},
		{"req-tnet-post.bin", 7, map[string]string{
			"REQUEST_URI": "/tnet/post?z=9", "CONTENT_LENGTH": "7", "HTTP_CONTENT_LENGTH": absent,
		}},
		{"req-json-dup.bin", 0, map[string]string{"HTTP_X_DUP": "a, b", "HTTP_COOKIE": "c=1"}},
		{"req-tnet-dup.bin", 0, map[string]string{"HTTP_X_DUP": "a, b"}},
		{"req-json-upload-done.bin", 3000, map[string]string{
			"CONTENT_LENGTH": "3000", "HTTP_X_MONGREL2_UPLOAD_DONE": "/tmp/upload.JI31lk",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			vs := mongrel2.Environ(parse(t, captured(t, tc.file)), "gonode", tc.body)
			m := envMap(vs)
			for k, want := range tc.want {
				got, ok := m[k]
				if !ok {
					got = absent
				}
				if got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for k, v := range m {
				if v == "DUPLICATE" {
					t.Errorf("%s appears twice", k)
				}
			}
			// the environ is a valid request for the worker's apps
			r, err := cgi.ToRequest(vs, nil)
			if err != nil {
				t.Fatalf("ToRequest: %v", err)
			}
			if r.Method != m["REQUEST_METHOD"] || r.URL.Path != m["PATH_INFO"] || r.URL.RawQuery != m["QUERY_STRING"] {
				t.Errorf("request %s %s?%s does not match the environ", r.Method, r.URL.Path, r.URL.RawQuery)
			}
		})
	}
}

// TestEnvironProtocols: the JSON and tnetstring handlers of the same request
// give the same environ.
func TestEnvironProtocols(t *testing.T) {
	hs := tnetstring.Headers{
		{Key: "PATH", Value: "/a%20b/c"}, {Key: "METHOD", Value: "PUT"}, {Key: "VERSION", Value: "HTTP/1.0"},
		{Key: "QUERY", Value: "x=%20y"}, {Key: "URL_SCHEME", Value: "https"}, {Key: "REMOTE_ADDR", Value: "10.0.0.9"},
		{Key: "host", Value: "[::1]:8443"}, {Key: "x-forwarded-for", Value: "10.1.1.1, 10.2.2.2"},
		{Key: "cookie", Values: []string{"a=1", "b=2"}, Value: "a=1"}, {Key: "bad key", Value: "x"},
		{Key: "content-length", Value: "3"},
	}
	var envs []map[string]string
	for _, p := range []tnetstring.Protocol{tnetstring.ProtocolJSON, tnetstring.ProtocolTNetstring} {
		frame, err := tnetstring.AppendRequest(nil, tnetstring.Request{UUID: "u", ConnID: "7", Path: "/a%20b/c",
			Headers: hs, Body: []byte("abc"), Protocol: p})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, envMap(mongrel2.Environ(parse(t, frame), "h", 3)))
	}
	want := map[string]string{"PATH_INFO": "/a b/c", "REQUEST_URI": "/a%20b/c?x=%20y", "REQUEST_METHOD": "PUT",
		"SERVER_PROTOCOL": "HTTP/1.0", "HTTPS": "on", "REQUEST_SCHEME": "https", "SERVER_PORT": "8443",
		"REMOTE_ADDR": "10.1.1.1", "HTTP_COOKIE": "a=1; b=2", "CONTENT_LENGTH": "3"}
	for i, m := range envs {
		for k, v := range want {
			if m[k] != v {
				t.Errorf("protocol %d: %s = %q, want %q", i, k, m[k], v)
			}
		}
		if _, ok := m["HTTP_BAD KEY"]; ok {
			t.Errorf("protocol %d: a header name with a space became a variable", i)
		}
	}
	if len(envs[0]) != len(envs[1]) {
		t.Errorf("json environ has %d vars, tnetstring %d", len(envs[0]), len(envs[1]))
	}
}

func TestEnvironDefaults(t *testing.T) {
	m := envMap(mongrel2.Environ(tnetstring.Request{UUID: "u", ConnID: "1", Path: "x"}, "h", 0))
	want := map[string]string{"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.0", "PATH_INFO": "/x",
		"REQUEST_URI": "/x", "SERVER_PORT": "80", "REMOTE_ADDR": "", "UWSGI_SCHEME": "http"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
}
