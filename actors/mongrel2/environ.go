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
	vs := make(uwsgi.Vars, 0, 14+len(h))
	method := h.Get(tnetstring.HeaderMethod)
	if method == "" {
		method = "GET"
	}
	vs = vs.Add("REQUEST_METHOD", method)
	proto := h.Get(tnetstring.HeaderVersion)
	if proto == "" {
		proto = "HTTP/1.0"
	}
	vs = vs.Add("SERVER_PROTOCOL", proto)
	query := h.Get(tnetstring.HeaderQuery)
	vs = vs.Add("QUERY_STRING", query)
	path := r.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	info, err := url.PathUnescape(path)
	if err != nil {
		info = path
	}
	vs = vs.Add("PATH_INFO", info)
	uri := path
	if query != "" {
		uri += "?" + query
	}
	vs = vs.Add("REQUEST_URI", uri)
	vs = vs.Add("SCRIPT_NAME", "")
	scheme := h.Get(tnetstring.HeaderURLScheme)
	if scheme == "" {
		scheme = "http"
	}
	vs = vs.Add("UWSGI_SCHEME", scheme).Add("REQUEST_SCHEME", scheme)
	if scheme == "https" {
		vs = vs.Add("HTTPS", "on")
	}
	vs = vs.Add("REMOTE_ADDR", remoteAddr(h))
	vs = vs.Add("SERVER_NAME", serverName)
	vs = vs.Add("SERVER_PORT", serverPort(h.Get("host"), scheme))
	if _, ok := h.Lookup("content-length"); ok || bodyLen > 0 {
		vs = vs.Add("CONTENT_LENGTH", strconv.FormatInt(bodyLen, 10))
	}
	if ct := h.Get("content-type"); ct != "" {
		vs = vs.Add("CONTENT_TYPE", ct)
	}
	for _, hd := range h {
		if mongrel2Keys[hd.Key] || hd.Key == "content-length" || hd.Key == "content-type" || !token(hd.Key) {
			continue
		}
		v := hd.Value
		if hd.IsList() {
			sep := ", "
			if hd.Key == "cookie" {
				sep = "; "
			}
			v = strings.Join(hd.Values, sep)
		}
		vs = append(vs, uwsgi.Var{Key: headerVar(hd.Key), Value: []byte(v)})
	}
	return vs
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

// headerVar is the environ name of a lower-case header key:
// "x-test" → "HTTP_X_TEST".
func headerVar(k string) []byte {
	b := make([]byte, 0, 5+len(k))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-':
			c = '_'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
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
