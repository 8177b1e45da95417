package mongrel2

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"imperial/actors/wire/tnetstring"
)

// sink records what a response publishes.
type sink struct{ frames [][]byte }

func (s *sink) publish(f []byte) error { s.frames = append(s.frames, f); return nil }

// wire returns the bytes Mongrel2 would write to the client, and whether it
// would then close the connection; every frame must be addressed to uuid/7.
func (s *sink) wire(t *testing.T) ([]byte, bool) {
	t.Helper()
	var out []byte
	closed := false
	for i, f := range s.frames {
		r, err := tnetstring.ParseResponse(f, tnetstring.Limits{})
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if r.UUID != "uuid" || len(r.ConnIDs) != 1 || r.ConnIDs[0] != "7" {
			t.Fatalf("frame %d addressed to %s %v", i, r.UUID, r.ConnIDs)
		}
		if closed {
			t.Fatalf("frame %d after the close", i)
		}
		if len(r.Body) == 0 {
			closed = true
		}
		out = append(out, r.Body...)
	}
	return out, closed
}

func req(method, version string, hs ...string) tnetstring.Request {
	h := tnetstring.Headers{{Key: "METHOD", Value: method}, {Key: "VERSION", Value: version}}
	for i := 0; i+1 < len(hs); i += 2 {
		h = append(h, tnetstring.Header{Key: hs[i], Value: hs[i+1]})
	}
	return tnetstring.Request{UUID: "uuid", ConnID: "7", Path: "/", Headers: h}
}

func TestResponse(t *testing.T) {
	big := strings.Repeat("b", MaxHeld+10)
	tests := []struct {
		name     string
		req      tnetstring.Request
		app      func(w http.ResponseWriter)
		status   int
		body     string
		length   int64 // Content-Length the client sees (-1: none)
		closed   bool  // Mongrel2 is told to close
		messages int
	}{
		{"keep-alive", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) { io.WriteString(w, "hello") },
			200, "hello", 5, false, 1},
		{"http/1.0 closes", req("GET", "HTTP/1.0"), func(w http.ResponseWriter) { io.WriteString(w, "hello") },
			200, "hello", 5, true, 2},
		{"http/1.0 keep-alive", req("GET", "HTTP/1.0", "connection", "Keep-Alive"), func(w http.ResponseWriter) { io.WriteString(w, "x") },
			200, "x", 1, false, 1},
		{"client close", req("GET", "HTTP/1.1", "connection", "close"), func(w http.ResponseWriter) { io.WriteString(w, "x") },
			200, "x", 1, true, 2},
		{"app close", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) { w.Header().Set("Connection", "close"); io.WriteString(w, "x") },
			200, "x", 1, true, 2},
		{"status, no body", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) { w.WriteHeader(404) },
			404, "", 0, false, 1},
		{"204", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) { w.WriteHeader(204); io.WriteString(w, "dropped") },
			204, "", 0, false, 1},
		{"head", req("HEAD", "HTTP/1.1"), func(w http.ResponseWriter) { io.WriteString(w, "12345") },
			200, "", 5, false, 1},
		{"app content-length is recomputed", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) { w.Header().Set("Content-Length", "99"); io.WriteString(w, "abc") },
			200, "abc", 3, false, 1},
		{"streams past MaxHeld", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) { io.WriteString(w, big) },
			200, big, -1, true, 2},
		{"streams with the app's length", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			io.WriteString(w, big)
		}, 200, big, int64(len(big)), false, 1},
		{"flush", req("GET", "HTTP/1.1"), func(w http.ResponseWriter) {
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			io.WriteString(w, "b")
		}, 200, "ab", -1, true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{}
			w := newResponse(tc.req, s.publish, func() bool { return false })
			tc.app(w)
			if err := w.finish(); err != nil {
				t.Fatal(err)
			}
			out, closed := s.wire(t)
			if len(s.frames) != tc.messages || closed != tc.closed {
				t.Errorf("%d messages, closed %v; want %d, %v", len(s.frames), closed, tc.messages, tc.closed)
			}
			hr, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), &http.Request{Method: tc.req.Method()})
			if err != nil {
				t.Fatalf("client cannot read %q: %v", out, err)
			}
			body, err := io.ReadAll(hr.Body)
			if err != nil && !(tc.length < 0 && err == io.ErrUnexpectedEOF) {
				t.Fatalf("body: %v", err)
			}
			if hr.StatusCode != tc.status || string(body) != tc.body || hr.ContentLength != tc.length {
				t.Errorf("got %d, %d bytes, length %d; want %d, %d bytes, length %d", hr.StatusCode, len(body), hr.ContentLength,
					tc.status, len(tc.body), tc.length)
			}
			if hr.Close != tc.closed && tc.status != 204 {
				t.Errorf("Connection close %v, want %v (%v)", hr.Close, tc.closed, hr.Header)
			}
		})
	}
}

func TestResponseAbort(t *testing.T) {
	s := &sink{}
	w := newResponse(req("GET", "HTTP/1.1"), s.publish, func() bool { return false })
	w.Header().Set("X-Half", "1")
	io.WriteString(w, "partial")
	w.abort()
	out, closed := s.wire(t)
	if !closed || !bytes.HasPrefix(out, []byte("HTTP/1.1 500 Internal Server Error\r\n")) || bytes.Contains(out, []byte("partial")) {
		t.Fatalf("closed %v, %q", closed, out)
	}

	s = &sink{}
	w = newResponse(req("GET", "HTTP/1.1"), s.publish, func() bool { return false })
	io.WriteString(w, "a")
	w.Flush()
	w.abort()
	if _, closed = s.wire(t); !closed || len(s.frames) != 2 {
		t.Fatalf("streamed then aborted: %d frames, closed %v", len(s.frames), closed)
	}
}

func TestResponseGone(t *testing.T) {
	s := &sink{}
	gone := false
	w := newResponse(req("GET", "HTTP/1.1"), s.publish, func() bool { return gone })
	io.WriteString(w, "a")
	w.Flush()
	gone = true
	if _, err := io.WriteString(w, strings.Repeat("x", MaxHeld)); err != errGone {
		t.Fatalf("write after disconnect: %v", err)
	}
	if err := w.finish(); err != errGone || len(s.frames) != 1 {
		t.Fatalf("finish: %v, %d frames", err, len(s.frames))
	}
}
