package tnetstring

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Type tags: the byte that ends every tnetstring.
const (
	TagString = ','
	TagInt    = '#'
	TagFloat  = '^'
	TagBool   = '!'
	TagNull   = '~'
	TagList   = ']'
	TagDict   = '}'
)

// Value is a decoded tnetstring. Parse produces exactly these dynamic types:
//
//	string   ','  (bytes, not necessarily UTF-8)
//	int64    '#'
//	float64  '^'
//	bool     '!'
//	nil      '~'
//	[]Value  ']'  (never nil after Parse)
//	Dict     '}'  (never nil after Parse)
//
// Append also accepts []byte (as a string) and int (as an integer).
type Value = any

// Pair is one key/value entry of a Dict.
type Pair struct {
	Key   string
	Value Value
}

// Dict is a tnetstring dict with its pairs in wire order. Repeated keys are
// kept as sent.
type Dict []Pair

// Get returns the value of the first pair with key.
func (d Dict) Get(key string) (Value, bool) {
	for _, p := range d {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// Parse decodes one tnetstring from the start of b and returns it with the
// number of bytes it used; bytes after it are left alone. Truncated input
// yields an error wrapping ErrNeedMore, never a wrong value.
func Parse(b []byte, lim Limits) (Value, int, error) {
	lim = lim.norm()
	return parseValue(b, lim, 0)
}

// readFrame splits `LEN ':' DATA TAG` off the front of b. LEN is canonical
// decimal (no sign, no leading zero, at most MaxLengthDigits digits) and is
// checked against max while it is read.
func readFrame(b []byte, max int) (payload []byte, tag byte, n int, err error) {
	size, i := 0, 0
	for ; i < len(b) && b[i] != ':'; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return nil, 0, 0, fmt.Errorf("%w: length: unexpected byte %q", ErrMalformed, c)
		}
		if i > 0 && b[0] == '0' {
			return nil, 0, 0, fmt.Errorf("%w: length: leading zero", ErrMalformed)
		}
		if i >= MaxLengthDigits {
			return nil, 0, 0, fmt.Errorf("%w: length has more than %d digits", ErrTooLarge, MaxLengthDigits)
		}
		size = size*10 + int(c-'0')
		if size > max {
			return nil, 0, 0, fmt.Errorf("%w: length %d > max %d", ErrTooLarge, size, max)
		}
	}
	if i == len(b) {
		return nil, 0, 0, ErrNeedMore
	}
	if i == 0 {
		return nil, 0, 0, fmt.Errorf("%w: missing length", ErrMalformed)
	}
	end := i + 1 + size
	if len(b) <= end {
		return nil, 0, 0, ErrNeedMore
	}
	return b[i+1 : end], b[end], end + 1, nil
}

func parseValue(b []byte, lim Limits, depth int) (Value, int, error) {
	v, n, err := decodeValue(b, lim, depth)
	if err != nil {
		return nil, 0, err
	}
	return v, n, nil
}

// decodeValue does the work of parseValue, which blanks value and n on error.
func decodeValue(b []byte, lim Limits, depth int) (Value, int, error) {
	payload, tag, n, err := readFrame(b, lim.MaxSize)
	if err != nil {
		return nil, 0, err
	}
	switch tag {
	case TagString:
		return string(payload), n, nil
	case TagInt:
		v, err := parseInt(payload)
		return v, n, err
	case TagFloat:
		v, err := parseFloat(payload)
		return v, n, err
	case TagBool:
		switch string(payload) {
		case "true":
			return true, n, nil
		case "false":
			return false, n, nil
		}
		return nil, 0, fmt.Errorf("%w: boolean %q", ErrMalformed, payload)
	case TagNull:
		if len(payload) != 0 {
			return nil, 0, fmt.Errorf("%w: null with %d data bytes", ErrMalformed, len(payload))
		}
		return nil, n, nil
	case TagList, TagDict:
		if depth >= lim.MaxDepth {
			return nil, 0, fmt.Errorf("%w: depth %d > max %d", ErrTooDeep, depth+1, lim.MaxDepth)
		}
		if tag == TagList {
			v, err := parseList(payload, lim, depth+1)
			return v, n, err
		}
		v, err := parseDict(payload, lim, depth+1)
		return v, n, err
	}
	return nil, 0, fmt.Errorf("%w: unknown type tag %q", ErrMalformed, tag)
}

// inner turns an ErrNeedMore from inside a complete container payload into a
// grammar error: the element runs past its container.
func inner(err error, what string) error {
	if errors.Is(err, ErrNeedMore) {
		return fmt.Errorf("%w: %s runs past the end of its container", ErrMalformed, what)
	}
	return err
}

func parseList(b []byte, lim Limits, depth int) ([]Value, error) {
	items := []Value{}
	for len(b) > 0 {
		if len(items) >= lim.MaxItems {
			return nil, fmt.Errorf("%w: list has more than %d items", ErrTooLarge, lim.MaxItems)
		}
		v, n, err := parseValue(b, lim, depth)
		if err != nil {
			return nil, inner(err, "list item")
		}
		items = append(items, v)
		b = b[n:]
	}
	return items, nil
}

func parseDict(b []byte, lim Limits, depth int) (Dict, error) {
	d := Dict{}
	for len(b) > 0 {
		if len(d) >= lim.MaxItems {
			return nil, fmt.Errorf("%w: dict has more than %d pairs", ErrTooLarge, lim.MaxItems)
		}
		key, tag, n, err := readFrame(b, lim.MaxSize)
		if err != nil {
			return nil, inner(err, "dict key")
		}
		if tag != TagString {
			return nil, fmt.Errorf("%w: dict key has type %q, want ','", ErrMalformed, tag)
		}
		b = b[n:]
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: dict key %q has no value", ErrMalformed, key)
		}
		v, n, err := parseValue(b, lim, depth)
		if err != nil {
			return nil, inner(err, "dict value")
		}
		d = append(d, Pair{Key: string(key), Value: v})
		b = b[n:]
	}
	return d, nil
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseInt accepts canonical decimal: -?(0|[1-9][0-9]*), and not "-0".
func parseInt(b []byte) (int64, error) {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if !isDigits(digits) || (digits[0] == '0' && (len(digits) > 1 || len(b) != len(digits))) {
		return 0, fmt.Errorf("%w: integer %q", ErrMalformed, b)
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: integer %q out of range", ErrMalformed, b)
	}
	return v, nil
}

// parseFloat accepts -?D+(.D+)?([eE][+-]?D+)? and Python's repr of the
// non-finite values: "nan", "inf", "-inf".
func parseFloat(b []byte) (float64, error) {
	switch string(b) {
	case "nan":
		return math.NaN(), nil
	case "inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	}
	if !floatSyntax(b) {
		return 0, fmt.Errorf("%w: float %q", ErrMalformed, b)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: float %q out of range", ErrMalformed, b)
	}
	return v, nil
}

func floatSyntax(b []byte) bool {
	i := 0
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if !digits() {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(b)
}

// Append encodes v as a tnetstring onto buf. It fails with ErrUnsupported for
// a Go type outside Value's list (see Value) and ErrTooDeep past
// MaxAppendDepth; on error buf is returned unchanged.
func Append(buf []byte, v Value) ([]byte, error) {
	out, err := appendValue(buf, v, 0)
	if err != nil {
		return buf, err
	}
	return out, nil
}

// AppendString encodes s as a tnetstring string (a netstring: `LEN:s,`).
func AppendString(buf []byte, s string) []byte {
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, ':')
	buf = append(buf, s...)
	return append(buf, TagString)
}

// appendScalar writes `LEN ':' data tag`.
func appendScalar(buf, data []byte, tag byte) []byte {
	buf = strconv.AppendInt(buf, int64(len(data)), 10)
	buf = append(buf, ':')
	buf = append(buf, data...)
	return append(buf, tag)
}

func appendValue(buf []byte, v Value, depth int) ([]byte, error) {
	var scratch [32]byte
	switch x := v.(type) {
	case string:
		if len(x) > MaxLength {
			return nil, fmt.Errorf("%w: string of %d bytes", ErrTooLarge, len(x))
		}
		return AppendString(buf, x), nil
	case []byte:
		if len(x) > MaxLength {
			return nil, fmt.Errorf("%w: string of %d bytes", ErrTooLarge, len(x))
		}
		return appendScalar(buf, x, TagString), nil
	case int64:
		return appendScalar(buf, strconv.AppendInt(scratch[:0], x, 10), TagInt), nil
	case int:
		return appendScalar(buf, strconv.AppendInt(scratch[:0], int64(x), 10), TagInt), nil
	case float64:
		return appendScalar(buf, appendFloat(scratch[:0], x), TagFloat), nil
	case bool:
		return appendScalar(buf, strconv.AppendBool(scratch[:0], x), TagBool), nil
	case nil:
		return append(buf, '0', ':', TagNull), nil
	case []Value:
		if depth >= MaxAppendDepth {
			return nil, fmt.Errorf("%w: depth > %d", ErrTooDeep, MaxAppendDepth)
		}
		start := len(buf)
		var err error
		for _, e := range x {
			if buf, err = appendValue(buf, e, depth+1); err != nil {
				return nil, err
			}
		}
		return frame(buf, start, TagList)
	case Dict:
		if depth >= MaxAppendDepth {
			return nil, fmt.Errorf("%w: depth > %d", ErrTooDeep, MaxAppendDepth)
		}
		start := len(buf)
		var err error
		for _, p := range x {
			buf = AppendString(buf, p.Key)
			if buf, err = appendValue(buf, p.Value, depth+1); err != nil {
				return nil, err
			}
		}
		return frame(buf, start, TagDict)
	}
	return nil, fmt.Errorf("%w: Go type %T", ErrUnsupported, v)
}

func appendFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "nan"...)
	case math.IsInf(f, 1):
		return append(buf, "inf"...)
	case math.IsInf(f, -1):
		return append(buf, "-inf"...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 64)
}

// frame turns the payload buf[start:] into `LEN ':' payload tag` in place.
func frame(buf []byte, start int, tag byte) ([]byte, error) {
	size := len(buf) - start
	if size > MaxLength {
		return nil, fmt.Errorf("%w: payload of %d bytes", ErrTooLarge, size)
	}
	var scratch [16]byte
	prefix := append(strconv.AppendInt(scratch[:0], int64(size), 10), ':')
	buf = append(buf, prefix...)
	copy(buf[start+len(prefix):], buf[start:start+size])
	copy(buf[start:], prefix)
	return append(buf, tag), nil
}
