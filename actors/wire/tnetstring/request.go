package tnetstring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Header keys and values with a meaning in the handler protocol (spec §4.2,
// §4.3). Client headers arrive lower-cased, Mongrel2's own keys upper-case.
const (
	HeaderMethod      = "METHOD"
	HeaderVersion     = "VERSION"
	HeaderURI         = "URI"
	HeaderPath        = "PATH"
	HeaderQuery       = "QUERY"
	HeaderFragment    = "FRAGMENT"
	HeaderPattern     = "PATTERN"
	HeaderURLScheme   = "URL_SCHEME"
	HeaderRemoteAddr  = "REMOTE_ADDR"
	HeaderUploadStart = "x-mongrel2-upload-start"
	HeaderUploadDone  = "x-mongrel2-upload-done"

	// MethodJSON marks JSON socket messages and the disconnect notice
	// (path "@*"); handlers must not answer them.
	MethodJSON = "JSON"
	// MethodXML marks XML socket messages.
	MethodXML = "XML"
	// PathDisconnect is the path of a disconnect notice.
	PathDisconnect = "@*"
)

// Protocol is how a request's headers are encoded: the `protocol` setting of
// the Mongrel2 Handler. The zero value is Mongrel2's default, JSON.
type Protocol uint8

const (
	ProtocolJSON       Protocol = iota // headers are a JSON object inside a netstring: `LEN:{…},`
	ProtocolTNetstring                 // headers are a tnetstring dict: `LEN:…}`
)

func (p Protocol) String() string {
	switch p {
	case ProtocolJSON:
		return "json"
	case ProtocolTNetstring:
		return "tnetstring"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// Header is one header entry as sent. A header the client repeated arrives
// as a list (a JSON array, a tnetstring list); then Values holds the whole
// list (non-nil, possibly empty) and Value its first element.
type Header struct {
	Key    string
	Value  string
	Values []string
}

// IsList reports whether the header arrived as a list.
func (h Header) IsList() bool { return h.Values != nil }

// Headers keeps every header of a request in wire order. Keys compare
// exactly: Mongrel2 already lower-cases client headers.
type Headers []Header

// Lookup returns the first header with key.
func (hs Headers) Lookup(key string) (Header, bool) {
	for _, h := range hs {
		if h.Key == key {
			return h, true
		}
	}
	return Header{}, false
}

// Get returns the value of the first header with key ("" if none; the first
// element for a list).
func (hs Headers) Get(key string) string {
	h, _ := hs.Lookup(key)
	return h.Value
}

// All returns every value sent under key, in order, lists flattened.
func (hs Headers) All(key string) []string {
	var out []string
	for _, h := range hs {
		if h.Key != key {
			continue
		}
		if h.IsList() {
			out = append(out, h.Values...)
		} else {
			out = append(out, h.Value)
		}
	}
	return out
}

// Request is one Mongrel2 → handler message (spec §4.2):
//
//	UUID SP CONN_ID SP PATH SP HEADERS BODY
type Request struct {
	UUID     string   // the sender: Mongrel2's send_ident for this handler
	ConnID   string   // decimal connection id
	Path     string   // URL path (no query) or "@*"/"@route" for socket messages
	Headers  Headers  // every header, in wire order
	Body     []byte   // a sub-slice of the parsed message (not a copy)
	Protocol Protocol // how the headers were encoded
}

// Method returns the METHOD header.
func (r Request) Method() string { return r.Headers.Get(HeaderMethod) }

// IsDisconnect reports whether r is Mongrel2's notice that the client
// connection closed: METHOD "JSON" and body {"type":"disconnect"}. Handlers
// must not answer it.
func (r Request) IsDisconnect() bool {
	if r.Method() != MethodJSON {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(r.Body, &m) != nil {
		return false
	}
	return string(m["type"]) == `"disconnect"`
}

// UploadStart returns the x-mongrel2-upload-start header: the temp file (a
// path relative to Mongrel2's chroot) a large body is being written to.
func (r Request) UploadStart() (string, bool) {
	h, ok := r.Headers.Lookup(HeaderUploadStart)
	return h.Value, ok
}

// UploadDone returns the x-mongrel2-upload-done header, set (to the same
// path as UploadStart) once the body is complete on disk. Answer only a
// request that carries both, with equal paths.
func (r Request) UploadDone() (string, bool) {
	h, ok := r.Headers.Lookup(HeaderUploadDone)
	return h.Value, ok
}

// ParseRequest decodes one whole request message (one ZeroMQ frame). The
// header encoding is detected from the headers frame: a tnetstring dict
// (`LEN:…}`) or a netstring holding a JSON object (`LEN:{…},`). Bytes after
// the body are an error. A message that stops early yields an error wrapping
// ErrNeedMore.
func ParseRequest(msg []byte, lim Limits) (Request, error) {
	lim = lim.norm()
	var r Request
	rest, budget := msg, lim.MaxLine
	var fields [3][]byte
	for i, what := range [3]string{"sender uuid", "connection id", "path"} {
		f, n, err := field(rest, budget, what)
		if err != nil {
			return Request{}, err
		}
		fields[i], rest, budget = f, rest[n:], budget-n
	}
	if !connID(fields[1]) {
		return Request{}, fmt.Errorf("%w: connection id %q", ErrMalformed, fields[1])
	}
	r.UUID, r.ConnID, r.Path = string(fields[0]), string(fields[1]), string(fields[2])

	hdr, tag, n, err := readFrame(rest, lim.MaxSize)
	if err != nil {
		return Request{}, fmt.Errorf("headers: %w", err)
	}
	rest = rest[n:]
	switch tag {
	case TagDict:
		r.Protocol = ProtocolTNetstring
		r.Headers, err = parseTnetHeaders(hdr, lim)
	case TagString:
		r.Protocol = ProtocolJSON
		r.Headers, err = parseJSONHeaders(hdr, lim)
	default:
		err = fmt.Errorf("%w: headers have type %q, want '}' or ','", ErrMalformed, tag)
	}
	if err != nil {
		return Request{}, err
	}

	body, tag, n, err := readFrame(rest, lim.MaxBody)
	if err != nil {
		return Request{}, fmt.Errorf("body: %w", err)
	}
	if tag != TagString {
		return Request{}, fmt.Errorf("%w: body has type %q, want ','", ErrMalformed, tag)
	}
	if n != len(rest) {
		return Request{}, fmt.Errorf("%w: %d bytes after the body", ErrMalformed, len(rest)-n)
	}
	r.Body = body
	return r, nil
}

// field returns the non-empty bytes before the next space and how much to
// skip (including the space). At most max bytes may precede the space.
func field(b []byte, max int, what string) ([]byte, int, error) {
	look := b
	if len(look) > max {
		look = look[:max]
	}
	i := bytes.IndexByte(look, ' ')
	switch {
	case i < 0 && len(b) > max:
		return nil, 0, fmt.Errorf("%w: envelope prefix longer than max %d at %s", ErrTooLarge, max, what)
	case i < 0:
		return nil, 0, ErrNeedMore
	case i == 0:
		return nil, 0, fmt.Errorf("%w: empty %s", ErrMalformed, what)
	}
	return b[:i], i + 1, nil
}

// connID accepts canonical decimal: 0 or [1-9][0-9]*, at most
// MaxConnIDDigits digits.
func connID(b []byte) bool {
	return isDigits(b) && len(b) <= MaxConnIDDigits && (b[0] != '0' || len(b) == 1)
}

func parseTnetHeaders(b []byte, lim Limits) (Headers, error) {
	var hs Headers
	for len(b) > 0 {
		if len(hs) >= lim.MaxItems {
			return nil, fmt.Errorf("%w: more than %d headers", ErrTooLarge, lim.MaxItems)
		}
		key, tag, n, err := readFrame(b, lim.MaxSize)
		if err != nil {
			return nil, inner(err, "header key")
		}
		if tag != TagString {
			return nil, fmt.Errorf("%w: header key has type %q, want ','", ErrMalformed, tag)
		}
		b = b[n:]
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: header %q has no value", ErrMalformed, key)
		}
		val, tag, n, err := readFrame(b, lim.MaxSize)
		if err != nil {
			return nil, inner(err, "header value")
		}
		b = b[n:]
		h := Header{Key: string(key)}
		switch tag {
		case TagString:
			h.Value = string(val)
		case TagList:
			h.Values = []string{}
			for len(val) > 0 {
				if len(h.Values) >= lim.MaxItems {
					return nil, fmt.Errorf("%w: header %q has more than %d values", ErrTooLarge, key, lim.MaxItems)
				}
				v, tag, n, err := readFrame(val, lim.MaxSize)
				if err != nil {
					return nil, inner(err, "header list item")
				}
				if tag != TagString {
					return nil, fmt.Errorf("%w: header %q list item has type %q, want ','", ErrMalformed, key, tag)
				}
				h.Values = append(h.Values, string(v))
				val = val[n:]
			}
			if len(h.Values) > 0 {
				h.Value = h.Values[0]
			}
		default:
			return nil, fmt.Errorf("%w: header %q has type %q, want ',' or ']'", ErrMalformed, key, tag)
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// AppendRequest encodes r as Mongrel2 would send it, with the headers in
// r.Protocol's encoding. It is what a test playing Mongrel2 sends. UUID and
// Path must be non-empty without spaces and ConnID canonical decimal, or it
// fails with ErrUnsupported and returns buf unchanged. In JSON mode invalid
// UTF-8 in headers becomes U+FFFD, as encoding/json does.
func AppendRequest(buf []byte, r Request) ([]byte, error) {
	if r.UUID == "" || r.Path == "" || bytes.IndexByte([]byte(r.UUID), ' ') >= 0 ||
		bytes.IndexByte([]byte(r.Path), ' ') >= 0 || !connID([]byte(r.ConnID)) {
		return buf, fmt.Errorf("%w: request envelope %q %q %q", ErrUnsupported, r.UUID, r.ConnID, r.Path)
	}
	out := append(buf, r.UUID...)
	out = append(out, ' ')
	out = append(out, r.ConnID...)
	out = append(out, ' ')
	out = append(out, r.Path...)
	out = append(out, ' ')
	start := len(out)
	var err error
	switch r.Protocol {
	case ProtocolTNetstring:
		for _, h := range r.Headers {
			out = AppendString(out, h.Key)
			if !h.IsList() {
				out = AppendString(out, h.Value)
				continue
			}
			ls := len(out)
			for _, v := range h.Values {
				out = AppendString(out, v)
			}
			if out, err = frame(out, ls, TagList); err != nil {
				return buf, err
			}
		}
		if out, err = frame(out, start, TagDict); err != nil {
			return buf, err
		}
	case ProtocolJSON:
		out = append(out, '{')
		for i, h := range r.Headers {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendJSONString(out, h.Key)
			out = append(out, ':')
			if !h.IsList() {
				out = appendJSONString(out, h.Value)
				continue
			}
			out = append(out, '[')
			for j, v := range h.Values {
				if j > 0 {
					out = append(out, ',')
				}
				out = appendJSONString(out, v)
			}
			out = append(out, ']')
		}
		out = append(out, '}')
		if out, err = frame(out, start, TagString); err != nil {
			return buf, err
		}
	default:
		return buf, fmt.Errorf("%w: %v", ErrUnsupported, r.Protocol)
	}
	if len(r.Body) > MaxLength {
		return buf, fmt.Errorf("%w: body of %d bytes", ErrTooLarge, len(r.Body))
	}
	return appendScalar(out, r.Body, TagString), nil
}

// appendJSONString quotes s as a JSON string, escaping only what JSON
// requires (no HTML escaping, so `&` stays `&` as Mongrel2 sends it); invalid
// UTF-8 becomes U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
		i++
	}
	return append(buf, '"')
}
