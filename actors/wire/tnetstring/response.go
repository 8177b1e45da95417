package tnetstring

import (
	"bytes"
	"fmt"
	"strconv"
)

// Response is one handler → Mongrel2 message (spec §4.4):
//
//	UUID SP LEN ':' ID [SP ID]* ',' SP BODY
//
// Mongrel2 writes BODY raw to every listed connection; an empty BODY closes
// them.
type Response struct {
	UUID    string   // must match Mongrel2's recv_ident prefix ("" matches all)
	ConnIDs []string // decimal connection ids, at most MaxTargets
	Body    []byte   // a sub-slice of the parsed message (not a copy)
}

// AppendResponse appends a response message that writes body to the
// connections connIDs. The ids must be decimal (no spaces) and at most
// MaxTargets, which Mongrel2 enforces; the caller checks this. An empty body
// closes the connections (see AppendClose).
func AppendResponse(buf []byte, uuid string, connIDs []string, body []byte) []byte {
	buf = append(buf, uuid...)
	buf = append(buf, ' ')
	size := 0
	for i, id := range connIDs {
		if i > 0 {
			size++
		}
		size += len(id)
	}
	buf = strconv.AppendInt(buf, int64(size), 10)
	buf = append(buf, ':')
	for i, id := range connIDs {
		if i > 0 {
			buf = append(buf, ' ')
		}
		buf = append(buf, id...)
	}
	buf = append(buf, ',', ' ')
	return append(buf, body...)
}

// AppendClose appends the message that makes Mongrel2 close connIDs: a
// response with an empty body (`UUID 3:4 5, `).
func AppendClose(buf []byte, uuid string, connIDs []string) []byte {
	return AppendResponse(buf, uuid, connIDs, nil)
}

// AppendHTTPResponse appends a response message whose body is a complete
// HTTP/1.1 response, which Mongrel2 relays to the client as is:
//
//	HTTP/1.1 STATUS REASON\r\n  headers…\r\n  Content-Length: N\r\n  \r\n  body
//
// Content-Length is always computed from body; a Content-Length among
// headers is dropped. For 1xx, 204 and 304 no Content-Length and no body are
// written. An empty reason becomes the standard one for status (or "Status"
// if unknown). CR and LF in reason, header names and values become spaces,
// so a header cannot split the response.
func AppendHTTPResponse(buf []byte, uuid string, connIDs []string, status int, reason string,
	headers [][2]string, body []byte) []byte {
	buf = AppendResponse(buf, uuid, connIDs, nil)
	if reason == "" {
		reason = StatusText(status)
	}
	buf = append(buf, "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, ' ')
	buf = appendHeaderText(buf, reason)
	buf = append(buf, "\r\n"...)
	for _, h := range headers {
		if equalFoldASCII(h[0], "Content-Length") {
			continue
		}
		buf = appendHeaderText(buf, h[0])
		buf = append(buf, ": "...)
		buf = appendHeaderText(buf, h[1])
		buf = append(buf, "\r\n"...)
	}
	noBody := (status >= 100 && status < 200) || status == 204 || status == 304
	if !noBody {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(body)), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	if !noBody {
		buf = append(buf, body...)
	}
	return buf
}

func appendHeaderText(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		buf = append(buf, c)
	}
	return buf
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// StatusText returns the standard reason phrase for the HTTP statuses a
// handler commonly sends, or "Status" for others (kept here so the codec
// need not import net/http).
func StatusText(status int) string {
	switch status {
	case 100:
		return "Continue"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 411:
		return "Length Required"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	}
	return "Status"
}

// ParseResponse decodes one whole response message, as Mongrel2 reads it
// (what a test playing Mongrel2 receives). The id list must hold 1 to
// MaxTargets canonical decimal ids separated by single spaces; Mongrel2's
// `X` control replies are not responses and fail with ErrMalformed.
func ParseResponse(msg []byte, lim Limits) (Response, error) {
	lim = lim.norm()
	uuid, n, err := fieldAllowEmpty(msg, lim.MaxLine)
	if err != nil {
		return Response{}, err
	}
	rest := msg[n:]
	ids, tag, n, err := readFrame(rest, MaxTargets*(MaxConnIDDigits+1))
	if err != nil {
		return Response{}, fmt.Errorf("connection ids: %w", err)
	}
	if tag != TagString {
		return Response{}, fmt.Errorf("%w: connection ids have type %q, want ','", ErrMalformed, tag)
	}
	rest = rest[n:]
	if len(rest) == 0 {
		return Response{}, ErrNeedMore
	}
	if rest[0] != ' ' {
		return Response{}, fmt.Errorf("%w: byte %q after the connection ids, want ' '", ErrMalformed, rest[0])
	}
	body := rest[1:]
	if len(body) > lim.MaxBody {
		return Response{}, fmt.Errorf("%w: body %d > max %d", ErrTooLarge, len(body), lim.MaxBody)
	}
	r := Response{UUID: string(uuid), Body: body}
	for _, id := range bytes.Split(ids, []byte{' '}) {
		if len(r.ConnIDs) >= MaxTargets {
			return Response{}, fmt.Errorf("%w: more than %d connection ids", ErrTooLarge, MaxTargets)
		}
		if !connID(id) {
			return Response{}, fmt.Errorf("%w: connection id %q", ErrMalformed, id)
		}
		r.ConnIDs = append(r.ConnIDs, string(id))
	}
	return r, nil
}

// fieldAllowEmpty is field for the response UUID, which may be empty when
// Mongrel2 subscribes to everything.
func fieldAllowEmpty(b []byte, max int) ([]byte, int, error) {
	if len(b) > 0 && b[0] == ' ' {
		return b[:0], 1, nil
	}
	return field(b, max, "sender uuid")
}
