package mongrel2

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"

	"imperial/actors/cgi"
	"imperial/actors/wire/tnetstring"
	"imperial/actors/wire/uwsgi"
)

// newRequest builds the server-side request of a Mongrel2 request straight
// from its headers: the request cgi.ToRequest would build from
// Environ(req, serverName, bodyLen), without turning every variable back
// into strings (the header values already are), its context carrying vars
// (that environ) for the apps that read it.
func newRequest(ctx context.Context, req tnetstring.Request, vars uwsgi.Vars, serverName string, bodyLen int64, body io.Reader) (*http.Request, error) {
	h := req.Headers
	r := &http.Request{Method: h.Get(tnetstring.HeaderMethod), Proto: "HTTP/1.0", ProtoMajor: 1,
		Header: make(http.Header, len(h))}
	if r.Method == "" {
		r.Method = "GET"
	}
	if v := h.Get(tnetstring.HeaderVersion); v != "" {
		if maj, min, ok := http.ParseHTTPVersion(v); ok {
			r.Proto, r.ProtoMajor, r.ProtoMinor = v, maj, min
		}
	}
	path := req.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	raw := path
	if q := h.Get(tnetstring.HeaderQuery); q != "" {
		raw = path + "?" + q
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: request uri %q: %w", cgi.ErrBadEnviron, raw, err)
	}
	r.URL, r.RequestURI = u, raw
	if ct := h.Get("content-type"); ct != "" {
		r.Header["Content-Type"] = []string{ct}
	}
	host := ""
	var name [64]byte
	for _, hd := range h {
		v, ok := passedHeader(hd)
		if !ok {
			continue
		}
		// the name cgi.ToRequest gives HTTP_<KEY>: '_' and '-' both become '-'
		n := append(name[:0], hd.Key...)
		for i, c := range n {
			switch {
			case c == '_':
				n[i] = '-'
			case c >= 'a' && c <= 'z':
				n[i] = c - ('a' - 'A')
			}
		}
		switch string(n) {
		case "HOST":
			host = v
			continue
		case "CONTENT-LENGTH", "CONTENT-TYPE":
			continue // CONTENT_* are authoritative
		}
		k := textproto.CanonicalMIMEHeaderKey(string(n))
		r.Header[k] = append(r.Header[k], v)
	}
	if host != "" {
		r.Host = host
	} else {
		r.Host = serverName
	}
	r.RemoteAddr = remoteAddr(h)
	r.ContentLength = bodyLen
	if bodyLen > 0 && body != nil {
		r.Body = io.NopCloser(io.LimitReader(body, bodyLen))
	} else {
		r.Body = http.NoBody
	}
	return r.WithContext(cgi.WithEnviron(ctx, vars)), nil
}
