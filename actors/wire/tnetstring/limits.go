package tnetstring

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them; test with errors.Is.
var (
	// ErrNeedMore means the input ended before the value or message was
	// complete. A stream reader keeps the bytes and reads more; a caller that
	// holds a whole ZeroMQ frame treats it as a truncated, malformed message.
	ErrNeedMore = errors.New("tnetstring: need more input")
	// ErrMalformed means the input breaks the grammar.
	ErrMalformed = errors.New("tnetstring: malformed input")
	// ErrTooLarge means a length, count or size read from the input exceeds
	// its limit.
	ErrTooLarge = errors.New("tnetstring: too large")
	// ErrTooDeep means lists and dicts nest deeper than Limits.MaxDepth (or,
	// when encoding, MaxAppendDepth).
	ErrTooDeep = errors.New("tnetstring: nesting too deep")
	// ErrUnsupported means Append was given a Go value it cannot encode, or
	// AppendRequest a field that cannot be put on the wire.
	ErrUnsupported = errors.New("tnetstring: unsupported value")
)

// Fixed limits of the formats themselves.
const (
	// MaxLengthDigits is the most ASCII digits a tnetstring length may have
	// (tnetstrings spec: "at most 9 digits").
	MaxLengthDigits = 9
	// MaxLength is the largest length a tnetstring can declare.
	MaxLength = 999_999_999
	// MaxAppendDepth bounds the nesting Append will encode (it also stops
	// self-referencing []Value cycles).
	MaxAppendDepth = 1024
	// MaxTargets is Mongrel2's default limits.handler_targets: the most
	// connection ids one response may address. Mongrel2 rejects more;
	// ParseResponse does too.
	MaxTargets = 128
	// MaxConnIDDigits bounds a decimal connection id (fits an int64).
	MaxConnIDDigits = 18
)

// Defaults used for a zero (or negative) field of Limits.
const (
	DefaultMaxSize  = 1 << 20  // one tnetstring payload, incl. the request headers blob
	DefaultMaxDepth = 32       // nested lists/dicts
	DefaultMaxItems = 4096     // elements of one list, pairs of one dict, headers of a request
	DefaultMaxBody  = 16 << 20 // request body / response body
	DefaultMaxLine  = 16 << 10 // `UUID SP ID SP PATH SP` prefix of a request, `UUID SP` of a response
)

// Limits bounds what a decoder accepts. The zero value means "all defaults";
// each zero or negative field takes its Default* constant.
type Limits struct {
	MaxSize  int // largest declared length of one tnetstring payload
	MaxDepth int // deepest nesting of lists and dicts (a top-level list is depth 1)
	MaxItems int // most elements in one list or pairs in one dict or headers
	MaxBody  int // largest request or response body
	MaxLine  int // longest space-separated prefix of an envelope
}

func (l Limits) norm() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxSize > MaxLength {
		l.MaxSize = MaxLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	if l.MaxBody > MaxLength {
		l.MaxBody = MaxLength
	}
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultMaxLine
	}
	return l
}
