// Package cgi converts between the CGI/WSGI environ that uwsgi requests carry
// (a uwsgi.Vars block) and Go's *http.Request: the HTTP front builds the
// environ nginx's uwsgi_params would send, the workers turn an environ back
// into a request for native Go apps, and keep the original environ in the
// request's context for apps that show or forward it.
//
// It does no I/O and owns no state. It imports net/http (types only) and
// actors/wire/uwsgi; it must not import ergo or any actor package. It is
// imported by actors/http and actors/worker.
package cgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"imperial/actors/wire/uwsgi"
)

// Errors of ToRequest; test them with errors.Is.
var (
	ErrBadEnviron = errors.New("cgi: bad environ")
)

// FromRequest builds the environ for r as nginx's uwsgi_params sends it
// (shared/specs/uwsgi.md §1.5): the CGI variables first, then every header as
// HTTP_<NAME>. local is the address the request arrived on ("host:port"),
// scheme "http" or "https". CONTENT_LENGTH is set when the body length is
// known (r.ContentLength >= 0 and a body is expected).
func FromRequest(r *http.Request, local, scheme string) uwsgi.Vars {
	vs := make(uwsgi.Vars, 0, 16+len(r.Header))
	add := func(k, v string) { vs = append(vs, uwsgi.Var{Key: []byte(k), Value: []byte(v)}) }
	add("QUERY_STRING", r.URL.RawQuery)
	add("REQUEST_METHOD", r.Method)
	if ct := r.Header.Get("Content-Type"); ct != "" {
		add("CONTENT_TYPE", ct)
	}
	if r.ContentLength > 0 {
		add("CONTENT_LENGTH", strconv.FormatInt(r.ContentLength, 10))
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	add("REQUEST_URI", uri)
	add("PATH_INFO", r.URL.Path)
	add("SCRIPT_NAME", "")
	add("SERVER_PROTOCOL", r.Proto)
	add("REQUEST_SCHEME", scheme)
	if scheme == "https" {
		add("HTTPS", "on")
	}
	rhost, rport, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		rhost = r.RemoteAddr
	}
	add("REMOTE_ADDR", rhost)
	add("REMOTE_PORT", rport)
	shost, sport, err := net.SplitHostPort(local)
	if err != nil {
		shost = local
	}
	add("SERVER_PORT", sport)
	name := r.Host
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	if name == "" {
		name = shost
	}
	add("SERVER_NAME", name)
	if r.Host != "" {
		add("HTTP_HOST", r.Host)
	}
	for k, vals := range r.Header {
		if k == "Host" {
			continue
		}
		add(HeaderVar(k), strings.Join(vals, ", "))
	}
	return vs
}

// HeaderVar is the environ name of an HTTP header: "X-Foo" → "HTTP_X_FOO".
func HeaderVar(h string) string {
	b := make([]byte, 0, 5+len(h))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '-':
			c = '_'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// varHeader is the inverse of HeaderVar for the part after "HTTP_".
func varHeader(v []byte) string {
	b := make([]byte, len(v))
	for i, c := range v {
		if c == '_' {
			c = '-'
		}
		b[i] = c
	}
	return textproto.CanonicalMIMEHeaderKey(string(b))
}

// MaxBody bounds CONTENT_LENGTH in ToRequest.
const MaxBody = 1 << 40

// ToRequest builds a server-side request from an environ and the body that
// follows it (read at most CONTENT_LENGTH bytes of it). The environ is kept
// in the request's context (Environ). Missing REQUEST_METHOD means GET,
// missing SERVER_PROTOCOL means HTTP/1.0; the URL comes from REQUEST_URI, or
// PATH_INFO and QUERY_STRING.
func ToRequest(vars uwsgi.Vars, body io.Reader) (*http.Request, error) {
	r := &http.Request{Method: "GET", Proto: "HTTP/1.0", ProtoMajor: 1, Header: make(http.Header, 8)}
	var uri, path, query, remoteAddr, remotePort, serverName, host []byte
	var cl int64
	for _, v := range vars {
		k := v.Key
		switch string(k) {
		case "REQUEST_METHOD":
			if len(v.Value) > 0 {
				r.Method = string(v.Value)
			}
		case "SERVER_PROTOCOL":
			if maj, min, ok := http.ParseHTTPVersion(string(v.Value)); ok {
				r.Proto, r.ProtoMajor, r.ProtoMinor = string(v.Value), maj, min
			}
		case "REQUEST_URI":
			uri = v.Value
		case "PATH_INFO":
			path = v.Value
		case "QUERY_STRING":
			query = v.Value
		case "REMOTE_ADDR":
			remoteAddr = v.Value
		case "REMOTE_PORT":
			remotePort = v.Value
		case "SERVER_NAME":
			serverName = v.Value
		case "CONTENT_TYPE":
			if len(v.Value) > 0 {
				r.Header.Set("Content-Type", string(v.Value))
			}
		case "CONTENT_LENGTH":
			if len(v.Value) > 0 {
				n, err := uwsgi.ParseNumber(v.Value, MaxBody)
				if err != nil {
					return nil, fmt.Errorf("%w: CONTENT_LENGTH: %w", ErrBadEnviron, err)
				}
				cl = int64(n)
			}
		case "HTTP_HOST":
			host = v.Value
		case "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE":
			// nginx repeats them; CONTENT_* are authoritative
		default:
			if len(k) > 5 && string(k[:5]) == "HTTP_" {
				r.Header.Add(varHeader(k[5:]), string(v.Value))
			}
		}
	}
	raw := string(uri)
	if raw == "" {
		raw = string(path)
		if raw == "" {
			raw = "/"
		}
		if len(query) > 0 {
			raw += "?" + string(query)
		}
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: request uri %q: %w", ErrBadEnviron, raw, err)
	}
	r.URL, r.RequestURI = u, raw
	if len(host) > 0 {
		r.Host = string(host)
	} else {
		r.Host = string(serverName)
	}
	r.RemoteAddr = string(remoteAddr)
	if len(remotePort) > 0 {
		r.RemoteAddr = net.JoinHostPort(string(remoteAddr), string(remotePort))
	}
	r.ContentLength = cl
	if cl > 0 && body != nil {
		r.Body = io.NopCloser(io.LimitReader(body, cl))
	} else {
		r.Body = http.NoBody
	}
	return r.WithContext(WithEnviron(context.Background(), vars)), nil
}

type environKey struct{}

// WithEnviron returns ctx carrying the environ of a request.
func WithEnviron(ctx context.Context, vars uwsgi.Vars) context.Context {
	return context.WithValue(ctx, environKey{}, vars)
}

// Environ returns the environ a request came with (ToRequest or
// WithEnviron), or builds one with FromRequest.
func Environ(r *http.Request, local, scheme string) uwsgi.Vars {
	if vs, ok := r.Context().Value(environKey{}).(uwsgi.Vars); ok {
		return vs
	}
	return FromRequest(r, local, scheme)
}
