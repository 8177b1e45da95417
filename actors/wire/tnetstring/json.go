package tnetstring

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSONHeaders reads the headers of a JSON-protocol request: a JSON
// object whose values are strings or arrays of strings (the only shape
// Mongrel2 emits), keeping keys in wire order, repeats included. It is a
// hand-written scanner that accepts and returns exactly what the earlier
// encoding/json Decoder.Token parser did (json_fuzz_test.go keeps that parser
// as a differential oracle):
//
//   - whitespace (space, tab, CR, LF) wherever JSON allows it, including
//     before and after the object; anything else after it is ErrMalformed;
//   - strings are fully unescaped (\" \\ \/ \b \f \n \r \t \uXXXX); a valid
//     \uD8xx\uDCxx surrogate pair becomes one rune, a lone or mismatched
//     surrogate escape becomes U+FFFD; any other escape, a raw control
//     character (< 0x20) or an unterminated string is ErrMalformed;
//   - invalid UTF-8 inside a string is not an error: each byte that does not
//     start a valid sequence becomes U+FFFD, as encoding/json does;
//   - a number, true, false, null, nested object or nested array as a value
//     (or list item) is ErrMalformed;
//   - more than lim.MaxItems headers, or values in one array, is ErrTooLarge,
//     reported at the point encoding/json's Decoder.More would have seen the
//     next entry (so `{"a":"1","b":"1" x` with MaxItems 2 is ErrTooLarge, and
//     with MaxItems 3 ErrMalformed).
//
// It makes two passes. The first validates, applies the limits and measures;
// only then does the second allocate: one Headers slice, one []string backing
// every array value, and one string holding every decoded key and value
// (each header's strings are substrings of it). The decoded text is at most
// three times len(b) (an invalid UTF-8 byte grows into U+FFFD), and len(b)
// was checked against lim.MaxSize by the caller.
func parseJSONHeaders(b []byte, lim Limits) (Headers, error) {
	measure := jsonScanner{b: b, maxItems: lim.MaxItems}
	if err := measure.object(); err != nil {
		return nil, err
	}
	if measure.headers == 0 {
		return nil, nil
	}
	fill := jsonScanner{b: b, maxItems: lim.MaxItems, emit: true}
	fill.hs = make(Headers, 0, measure.headers)
	if measure.values > 0 {
		fill.vals = make([]string, 0, measure.values)
	}
	fill.text.Grow(measure.size)
	if err := fill.object(); err != nil {
		return nil, err // the first pass accepted the same bytes: unreachable
	}
	return fill.hs, nil
}

// jsonScanner walks one headers object. With emit false it only validates
// and counts (headers, values, size); with emit true it also builds hs,
// vals and text, which the caller has sized from a first pass.
type jsonScanner struct {
	b        []byte
	i        int // next byte to read
	maxItems int
	emit     bool

	headers int // headers read so far
	values  int // array items read so far, all arrays together
	size    int // bytes of decoded keys and values so far

	hs   Headers
	vals []string
	text strings.Builder
}

func (s *jsonScanner) bad(format string, args ...any) error {
	return fmt.Errorf("%w: json headers at offset %d: %s", ErrMalformed, s.i, fmt.Sprintf(format, args...))
}

// ws skips JSON whitespace.
func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the byte at s.i, or 0 (never a valid JSON token start) at
// the end of input.
func (s *jsonScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) object() error {
	s.ws()
	if s.peek() != '{' {
		return s.bad("want an object")
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return s.end()
	}
	for {
		if s.peek() != '"' {
			return s.bad("want a string key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.peek() != ':' {
			return s.bad("want ':' after a key")
		}
		s.i++
		s.ws()
		h := Header{Key: key}
		switch s.peek() {
		case '"':
			h.Value, err = s.str()
		case '[':
			err = s.list(&h)
		default:
			return s.bad("value is not a string or an array of strings")
		}
		if err != nil {
			return err
		}
		s.headers++
		if s.emit {
			s.hs = append(s.hs, h)
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.bad("object not closed")
		}
		switch c := s.b[s.i]; {
		case c == '}':
			s.i++
			return s.end()
		case c == ']':
			return s.bad("']' closes an object")
		case s.headers >= s.maxItems:
			return fmt.Errorf("%w: json headers at offset %d: more than %d headers", ErrTooLarge, s.i, s.maxItems)
		case c != ',':
			return s.bad("want ',' or '}' after a header")
		}
		s.i++
		s.ws()
	}
}

// list reads an array of strings into h.Values (non-nil, possibly empty).
func (s *jsonScanner) list(h *Header) error {
	s.i++ // '['
	s.ws()
	first, n := len(s.vals), 0
	if s.peek() == ']' {
		s.i++
	} else {
		for {
			if s.peek() != '"' {
				return s.bad("array item is not a string")
			}
			v, err := s.str()
			if err != nil {
				return err
			}
			n++
			s.values++
			if s.emit {
				s.vals = append(s.vals, v)
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.bad("array not closed")
			}
			c := s.b[s.i]
			if c == ']' {
				s.i++
				break
			}
			if c == '}' {
				return s.bad("'}' closes an array")
			}
			if n >= s.maxItems {
				return fmt.Errorf("%w: json headers at offset %d: array has more than %d values", ErrTooLarge, s.i, s.maxItems)
			}
			if c != ',' {
				return s.bad("want ',' or ']' in an array")
			}
			s.i++
			s.ws()
		}
	}
	if s.emit {
		h.Values = s.vals[first:len(s.vals):len(s.vals)]
		if h.Values == nil {
			h.Values = []string{}
		}
		if n > 0 {
			h.Value = h.Values[0]
		}
	}
	return nil
}

// end accepts only whitespace after the object.
func (s *jsonScanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.bad("data after the object")
	}
	return nil
}

// str reads the JSON string starting at s.b[s.i] == '"' and returns it
// decoded (with emit; "" without). Runs of bytes that need no decoding are
// copied in one write.
func (s *jsonScanner) str() (string, error) {
	b := s.b
	start := s.text.Len()
	i := s.i + 1
	run := i // first byte not yet copied
	for i < len(b) {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		switch {
		case c == '"':
			s.write(b[run:i])
			s.i = i + 1
			if !s.emit {
				return "", nil
			}
			return s.text.String()[start:], nil
		case c == '\\':
			s.write(b[run:i])
			n, err := s.escape(i)
			if err != nil {
				return "", err
			}
			i += n
			run = i
		case c < 0x20:
			s.i = i
			return "", s.bad("control character %#02x in a string", c)
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				s.write(b[run:i])
				s.writeRune(utf8.RuneError)
				run = i + 1
			}
			i += n
		}
	}
	s.i = i
	return "", s.bad("string not terminated")
}

// escape decodes the escape sequence at s.b[i] == '\\' and returns its
// length in bytes (2, 6, or 12 for a surrogate pair).
func (s *jsonScanner) escape(i int) (int, error) {
	b := s.b
	if i+1 >= len(b) {
		s.i = i
		return 0, s.bad("string not terminated")
	}
	var c byte
	switch b[i+1] {
	case '"', '\\', '/':
		c = b[i+1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		r := hex4(b, i+2)
		if r < 0 {
			s.i = i
			return 0, s.bad(`invalid \u escape`)
		}
		if !utf16.IsSurrogate(r) {
			s.writeRune(r)
			return 6, nil
		}
		if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			if pair := utf16.DecodeRune(r, hex4(b, i+8)); pair != utf8.RuneError {
				s.writeRune(pair)
				return 12, nil
			}
		}
		s.writeRune(utf8.RuneError)
		return 6, nil
	default:
		s.i = i
		return 0, s.bad("invalid escape \\%c", b[i+1])
	}
	if s.emit {
		s.text.WriteByte(c)
	} else {
		s.size++
	}
	return 2, nil
}

// hex4 decodes four hex digits at b[i:], or returns -1.
func hex4(b []byte, i int) rune {
	if i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func (s *jsonScanner) write(p []byte) {
	if s.emit {
		s.text.Write(p)
	} else {
		s.size += len(p)
	}
}

func (s *jsonScanner) writeRune(r rune) {
	if s.emit {
		s.text.WriteRune(r)
	} else {
		s.size += utf8.RuneLen(r)
	}
}
