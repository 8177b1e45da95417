package mongrel2

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"imperial/actors/wire/tnetstring"
	"imperial/actors/wire/uwsgi"
)

// mongrel2Keys are the header keys Mongrel2 adds itself (upper case); they
// become CGI variables or are dropped, never HTTP_* variables.
var mongrel2Keys = map[string]bool{
	tnetstring.HeaderMethod: true, tnetstring.HeaderVersion: true, tnetstring.HeaderURI: true,
	tnetstring.HeaderPath: true, tnetstring.HeaderQuery: true, tnetstring.HeaderFragment: true,
	tnetstring.HeaderPattern: true, tnetstring.HeaderURLScheme: true, tnetstring.HeaderRemoteAddr: true,
}

// Environ builds the CGI/WSGI environ of a Mongrel2 request the way uWSGI's
// mongrel2 plugin does (spec §4.5), with three deliberate differences:
// PATH_INFO is percent-decoded (CGI semantics; uWSGI passes Mongrel2's raw
// PATH), a header the client repeated is joined with ", " ("; " for cookie)
// instead of dropped, and CONTENT_LENGTH is the length of the body the app
// will read (bodyLen; the temp file's size for an upload) rather than the
// header's text. REQUEST_SCHEME and HTTPS are added for the WSGI adapter.
// serverName is SERVER_NAME (uWSGI: the handler's host name).
func Environ(r tnetstring.Request, serverName string, bodyLen int64) uwsgi.Vars {
	h := r.Headers
	e := newEnv(14+len(h), 512+64*len(h))
	method := h.Get(tnetstring.HeaderMethod)
	if method == "" {
		method = "GET"
	}
	e.add("REQUEST_METHOD", method)
	proto := h.Get(tnetstring.HeaderVersion)
	if proto == "" {
		proto = "HTTP/1.0"
	}
	e.add("SERVER_PROTOCOL", proto)
	query := h.Get(tnetstring.HeaderQuery)
	e.add("QUERY_STRING", query)
	path := r.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	info := path
	if strings.IndexByte(path, '%') >= 0 {
		if p, err := url.PathUnescape(path); err == nil {
			info = p
		}
	}
	e.add("PATH_INFO", info)
	if query != "" {
		e.add3("REQUEST_URI", path, "?", query)
	} else {
		e.add("REQUEST_URI", path)
	}
	e.add("SCRIPT_NAME", "")
	scheme := h.Get(tnetstring.HeaderURLScheme)
	if scheme == "" {
		scheme = "http"
	}
	e.add("UWSGI_SCHEME", scheme)
	e.add("REQUEST_SCHEME", scheme)
	if scheme == "https" {
		e.add("HTTPS", "on")
	}
	e.add("REMOTE_ADDR", remoteAddr(h))
	e.add("SERVER_NAME", serverName)
	e.add("SERVER_PORT", serverPort(h.Get("host"), scheme))
	if _, ok := h.Lookup("content-length"); ok || bodyLen > 0 {
		e.addInt("CONTENT_LENGTH", bodyLen)
	}
	if ct := h.Get("content-type"); ct != "" {
		e.add("CONTENT_TYPE", ct)
	}
	for _, hd := range h {
		v, ok := passedHeader(hd)
		if !ok {
			continue
		}
		e.addHeader(hd.Key, v)
	}
	return e.vs
}

// env builds an environ in one arena: every key and value is a slice of it.
type env struct {
	vs    uwsgi.Vars
	arena []byte
}

func newEnv(vars, bytes int) *env {
	return &env{vs: make(uwsgi.Vars, 0, vars), arena: make([]byte, 0, bytes)}
}

// take returns the bytes appended since mark, capacity-capped so that a
// later append never writes into them.
func (e *env) take(mark int) []byte { return e.arena[mark:len(e.arena):len(e.arena)] }

func (e *env) add(k, v string) {
	m := len(e.arena)
	e.arena = append(e.arena, k...)
	key := e.take(m)
	m = len(e.arena)
	e.arena = append(e.arena, v...)
	e.vs = append(e.vs, uwsgi.Var{Key: key, Value: e.take(m)})
}

func (e *env) add3(k, v1, v2, v3 string) {
	m := len(e.arena)
	e.arena = append(e.arena, k...)
	key := e.take(m)
	m = len(e.arena)
	e.arena = append(append(append(e.arena, v1...), v2...), v3...)
	e.vs = append(e.vs, uwsgi.Var{Key: key, Value: e.take(m)})
}

func (e *env) addInt(k string, n int64) {
	m := len(e.arena)
	e.arena = append(e.arena, k...)
	key := e.take(m)
	m = len(e.arena)
	e.arena = strconv.AppendInt(e.arena, n, 10)
	e.vs = append(e.vs, uwsgi.Var{Key: key, Value: e.take(m)})
}

// addHeader adds HTTP_<KEY> for a lower-case header key: "x-test" →
// "HTTP_X_TEST".
func (e *env) addHeader(k, v string) {
	m := len(e.arena)
	e.arena = append(e.arena, "HTTP_"...)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-':
			c = '_'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		e.arena = append(e.arena, c)
	}
	key := e.take(m)
	m = len(e.arena)
	e.arena = append(e.arena, v...)
	e.vs = append(e.vs, uwsgi.Var{Key: key, Value: e.take(m)})
}

// remoteAddr is the client address: x-forwarded-for, which Mongrel2
// overwrites with the peer address (uWSGI reads it too), else REMOTE_ADDR.
func remoteAddr(h tnetstring.Headers) string {
	if xff := h.Get("x-forwarded-for"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if first = strings.TrimSpace(first); first != "" {
			return first
		}
	}
	return h.Get(tnetstring.HeaderRemoteAddr)
}

// serverPort is the port part of the Host header, else the scheme's default
// (uWSGI: "80").
func serverPort(host, scheme string) string {
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return port
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// passedHeader is how a Mongrel2 header reaches the app as HTTP_*: its value
// (a repeated header joined as HTTP joins it, cookies with "; "), or !ok for
// Mongrel2's own keys, the two that have CGI names of their own, and names
// that are not HTTP tokens.
func passedHeader(hd tnetstring.Header) (v string, ok bool) {
	if mongrel2Keys[hd.Key] || hd.Key == "content-length" || hd.Key == "content-type" || !token(hd.Key) {
		return "", false
	}
	if !hd.IsList() {
		return hd.Value, true
	}
	sep := ", "
	if hd.Key == "cookie" {
		sep = "; "
	}
	return strings.Join(hd.Values, sep), true
}

// token reports whether k is a non-empty HTTP header name (RFC 9110 token).
func token(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
