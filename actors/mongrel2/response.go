package mongrel2

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"imperial/actors/wire/tnetstring"
)

// Response sizes.
const (
	// MaxHeld is how much body a response holds back to send it in one
	// message with a Content-Length (the client may then keep its
	// connection). A longer body streams in messages of up to MaxHeld bytes.
	MaxHeld = 256 << 10
)

// errGone: the client's connection closed (Mongrel2 said so) or the handler
// stopped; nothing more is sent.
var errGone = errors.New("mongrel2: connection gone")

// response is the http.ResponseWriter of one Mongrel2 request: the HTTP
// response travels as the bodies of response messages addressed to the
// request's connection (spec §4.4), and an empty-body message closes it
// when it cannot stay open.
type response struct {
	publish func(frame []byte) error // one message to Mongrel2
	gone    func() bool              // the connection is known to be closed
	uuid    string                   // the request's sender (matches recv_ident)
	ids     []string                 // the request's connection id
	proto   string                   // HTTP version of the status line
	head    bool                     // HEAD: no body bytes are sent
	keep    bool                     // the connection may stay open after the response

	header   http.Header
	status   int
	body     []byte // held back, not yet sent
	sent     bool   // the status line and headers are out
	declared int64  // Content-Length sent while streaming, -1 if none
	written  int64  // body bytes the app wrote
	err      error
}

func newResponse(req tnetstring.Request, publish func([]byte) error, gone func() bool) *response {
	proto := req.Headers.Get(tnetstring.HeaderVersion)
	conn := strings.ToLower(strings.Join(req.Headers.All("connection"), ","))
	keep := false
	switch proto {
	case "HTTP/1.1":
		keep = !hasToken(conn, "close")
	default:
		proto = "HTTP/1.0"
		keep = hasToken(conn, "keep-alive")
	}
	return &response{
		publish: publish, gone: gone, uuid: req.UUID, ids: []string{req.ConnID}, proto: proto,
		head: req.Headers.Get(tnetstring.HeaderMethod) == http.MethodHead, keep: keep,
		header: make(http.Header, 4), declared: -1,
	}
}

// hasToken reports whether the comma-separated list s contains tok.
func hasToken(s, tok string) bool {
	for s != "" {
		var t string
		t, s, _ = strings.Cut(s, ",")
		if strings.TrimSpace(t) == tok {
			return true
		}
	}
	return false
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.status != 0 || code < 100 || code > 999 {
		return
	}
	w.status = code
}

func (w *response) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.err != nil {
		return 0, w.err
	}
	w.written += int64(len(p))
	if w.head || !bodyAllowed(w.status) {
		return len(p), nil
	}
	w.body = append(w.body, p...)
	if len(w.body) >= MaxHeld {
		w.flush()
	}
	return len(p), w.err
}

// Flush sends what is held (http.Flusher): the response then streams.
func (w *response) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.err == nil {
		w.flush()
	}
}

func (w *response) flush() {
	frame := w.start(len(w.body))
	if !w.sent {
		w.sent = true
		if cl, err := strconv.ParseInt(w.header.Get("Content-Length"), 10, 64); err == nil && cl >= 0 && !w.head {
			w.declared = cl
		} else {
			w.header.Del("Content-Length")
			w.keep = false
		}
		frame = w.appendHead(frame)
	}
	frame = append(frame, w.body...)
	w.body = w.body[:0]
	w.send(frame)
}

// finish completes the response after the app returned; the connection is
// closed unless the response was framed and the client may keep it.
func (w *response) finish() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.err != nil {
		return w.err
	}
	if !w.sent {
		w.sent = true
		frame := w.start(len(w.body))
		switch {
		case !bodyAllowed(w.status):
			w.header.Del("Content-Length")
		case w.head:
			if w.header.Get("Content-Length") == "" && w.written > 0 {
				w.header.Set("Content-Length", strconv.FormatInt(w.written, 10))
			}
		default:
			w.header.Set("Content-Length", strconv.Itoa(len(w.body)))
		}
		frame = w.appendHead(frame)
		frame = append(frame, w.body...)
		w.send(frame)
	} else {
		if len(w.body) > 0 {
			w.send(append(w.start(len(w.body)), w.body...))
		}
		if w.declared >= 0 && w.written != w.declared {
			w.keep = false
		}
	}
	if !w.keep {
		w.send(tnetstring.AppendClose(nil, w.uuid, w.ids))
	}
	return w.err
}

// abort ends a response the app could not complete (it panicked): a 500 if
// nothing was sent yet, then the connection closes.
func (w *response) abort() {
	if w.err != nil {
		return
	}
	if !w.sent {
		w.header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
		w.status, w.body, w.written, w.head = http.StatusInternalServerError, w.body[:0], 0, false
		w.keep = false
		w.Write([]byte("Internal Server Error\n"))
		w.finish()
		return
	}
	w.send(tnetstring.AppendClose(nil, w.uuid, w.ids))
}

// start returns a new message holding the envelope, with room for n more bytes.
func (w *response) start(n int) []byte {
	buf := make([]byte, 0, len(w.uuid)+len(w.ids[0])+16+n+256+64*len(w.header))
	return tnetstring.AppendResponse(buf, w.uuid, w.ids, nil)
}

// appendHead writes the status line and headers.
func (w *response) appendHead(buf []byte) []byte {
	h := w.header
	if h.Get("Content-Type") == "" && len(w.body) > 0 && bodyAllowed(w.status) {
		h.Set("Content-Type", http.DetectContentType(w.body))
	}
	if hasToken(strings.ToLower(strings.Join(h.Values("Connection"), ",")), "close") {
		w.keep = false
	}
	switch {
	case !w.keep:
		h.Set("Connection", "close")
	case w.proto == "HTTP/1.0":
		h.Set("Connection", "keep-alive")
	}
	buf = append(buf, w.proto...)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(w.status), 10)
	buf = append(buf, ' ')
	buf = append(buf, tnetstring.StatusText(w.status)...)
	buf = append(buf, "\r\n"...)
	var keys [16]string
	ks := keys[:0]
	for k := range h {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		if !token(k) {
			continue // as net/http: an invalid name is not sent
		}
		for _, v := range h[k] {
			buf = appendHeaderText(buf, k)
			buf = append(buf, ": "...)
			buf = appendHeaderText(buf, strings.TrimSpace(v))
			buf = append(buf, "\r\n"...)
		}
	}
	return append(buf, "\r\n"...)
}

// appendHeaderText appends s with CR and LF turned into spaces, so a header
// cannot split the response (as net/http does).
func appendHeaderText(buf []byte, s string) []byte {
	if strings.IndexAny(s, "\r\n") < 0 {
		return append(buf, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		buf = append(buf, c)
	}
	return buf
}

func (w *response) send(frame []byte) {
	if w.err != nil {
		return
	}
	if w.gone() {
		w.err = errGone
		return
	}
	w.err = w.publish(frame)
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
