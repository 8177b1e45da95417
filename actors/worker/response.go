package worker

import (
	"bufio"
	"net/http"
	"strconv"
)

// uwsgiResponse writes a native app's answer on a uwsgi connection: a raw
// HTTP response (spec §1.3) that ends when the connection closes. A body the
// app finishes within the first buffer gets a Content-Length.
type uwsgiResponse struct {
	w       *bufio.Writer
	proto   string
	header  http.Header
	status  int
	body    []byte // held back until finish or the buffer fills
	wrote   bool   // status line and headers are out
	err     error
	written int64
}

// maxHeld is how much body is held back to compute Content-Length.
const maxHeld = 8 << 10

func newUWSGIResponse(w *bufio.Writer, proto string) *uwsgiResponse {
	if proto == "" {
		proto = "HTTP/1.0"
	}
	return &uwsgiResponse{w: w, proto: proto, header: make(http.Header, 4)}
}

func (r *uwsgiResponse) Header() http.Header { return r.header }

func (r *uwsgiResponse) WriteHeader(code int) {
	if r.status != 0 || code < 100 || code > 999 {
		return
	}
	r.status = code
}

func (r *uwsgiResponse) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.err != nil {
		return 0, r.err
	}
	if !r.wrote && len(r.body)+len(p) <= maxHeld {
		r.body = append(r.body, p...)
		return len(p), nil
	}
	if !r.wrote {
		r.writeHead(-1)
		r.w.Write(r.body)
		r.body = nil
	}
	n, err := r.w.Write(p)
	r.written += int64(n)
	r.err = err
	return n, err
}

// Flush sends what is buffered (http.Flusher).
func (r *uwsgiResponse) Flush() {
	if !r.wrote {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		r.writeHead(-1)
		r.w.Write(r.body)
		r.body = nil
	}
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = err
	}
}

// writeHead writes the status line and headers; length >= 0 adds a
// Content-Length unless the app set one.
func (r *uwsgiResponse) writeHead(length int) {
	r.wrote = true
	w := r.w
	w.WriteString(r.proto)
	w.WriteByte(' ')
	w.WriteString(strconv.Itoa(r.status))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(r.status))
	w.WriteString("\r\n")
	if length >= 0 && r.header.Get("Content-Length") == "" && bodyAllowed(r.status) {
		r.header.Set("Content-Length", strconv.Itoa(length))
	}
	if r.header.Get("Content-Type") == "" && length != 0 && bodyAllowed(r.status) {
		if length > 0 {
			r.header.Set("Content-Type", http.DetectContentType(r.body))
		}
	}
	_ = r.header.Write(w)
	w.WriteString("\r\n")
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// finish completes the response after the app returned.
func (r *uwsgiResponse) finish() error {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.wrote {
		r.writeHead(len(r.body))
		r.w.Write(r.body)
		r.written += int64(len(r.body))
	}
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = err
	}
	return r.err
}
