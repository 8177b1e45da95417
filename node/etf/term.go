package etf

import (
	"bytes"
	"errors"
	"reflect"
)

// Sentinel errors. Returned errors wrap one of these (test with errors.Is).
var (
	// ErrNeedMore means the input ended before the term was complete.
	ErrNeedMore = errors.New("etf: need more input")
	// ErrMalformed means a bad tag or an invalid value in the input (or an
	// invalid value given to the encoder, such as a BitString with Bits 0).
	ErrMalformed = errors.New("etf: malformed term")
	// ErrTooLarge means a Limits bound (size, elements, inflated size) was hit.
	ErrTooLarge = errors.New("etf: term too large")
	// ErrTooDeep means containers are nested deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("etf: term nested too deep")
	// ErrBadAtom means an atom over 255 characters, invalid UTF-8, or (BERT
	// mode) an atom that is not Latin-1.
	ErrBadAtom = errors.New("etf: bad atom")
	// ErrDuplicateKey means a map holds two keys that are the same term.
	ErrDuplicateKey = errors.New("etf: duplicate map key")
	// ErrBadFloat means NaN or an infinity, which are not Erlang terms.
	ErrBadFloat = errors.New("etf: bad float")
	// ErrUnsupportedType means the encoder got a Go type it cannot encode.
	ErrUnsupportedType = errors.New("etf: unsupported type")
	// ErrNil means the encoder got a Go nil.
	ErrNil = errors.New("etf: nil term")
	// ErrVersion means the input does not start with the version byte 131.
	ErrVersion = errors.New("etf: missing version byte 131")
)

// Version is the version byte that starts a standalone term (term_to_binary).
const Version = 131

// Atom is an Erlang atom. Decoding yields Atom("true")/Atom("false") for the
// booleans; the encoder also accepts Go bool.
type Atom string

// BitString is a bitstring whose size is not a whole number of bytes:
// Bits is the number of used (high) bits in the last byte, 1..8.
// A BitString with Bits 8 is a binary and encodes as BINARY_EXT.
type BitString struct {
	Bytes []byte
	Bits  uint8
}

// Tuple is an Erlang tuple.
type Tuple []any

// List is a proper list. The empty list decodes as List{} (non-nil).
// STRING_EXT decodes as a List of int64.
type List []any

// ImproperList is a list whose tail is not a list, [E1, E2 | Tail].
// Decoded values have len(Elems) >= 1 and a Tail that is not a list.
type ImproperList struct {
	Elems []any
	Tail  any
}

// Pair is one key/value of a Map.
type Pair struct {
	Key, Value any
}

// Map is an Erlang map with its pairs in wire order. Keys may be any term.
type Map []Pair

// Pid is an Erlang process identifier (NEW_PID_EXT).
type Pid struct {
	Node     Atom
	ID       uint32
	Serial   uint32
	Creation uint32
}

// Ref is an Erlang reference (NEWER_REFERENCE_EXT) with 1..5 ID words.
type Ref struct {
	Node     Atom
	Creation uint32
	IDs      []uint32
}

// Port is an Erlang port identifier.
type Port struct {
	Node     Atom
	ID       uint64
	Creation uint32
}

// Export is an external fun, fun Module:Function/Arity.
type Export struct {
	Module, Function Atom
	Arity            uint8
}

// Fun is a closure (NEW_FUN_EXT) carried opaquely: Raw holds the exact bytes
// after the tag, starting with the 4-byte size field, and is re-encoded as is.
type Fun struct {
	Raw []byte
}

// Get returns the value stored under key. Keys are compared as terms
// (through their canonical encoding), so tuple, list and binary keys work,
// and int64(1) finds a key stored as *big.Int 1.
func (m Map) Get(key any) (any, bool) {
	if b, ok := key.(bool); ok {
		key = Atom("false")
		if b {
			key = Atom("true")
		}
	}
	if ka, ok := key.(Atom); ok { // the common case, without encoding
		for _, p := range m {
			switch k := p.Key.(type) {
			case Atom:
				if k == ka {
					return p.Value, true
				}
			case bool:
				if (k && ka == "true") || (!k && ka == "false") {
					return p.Value, true
				}
			}
		}
		return nil, false
	}
	var wb, sb [64]byte
	want, err := appendCanonical(wb[:0], key)
	if err != nil {
		for _, p := range m {
			if Equal(p.Key, key) {
				return p.Value, true
			}
		}
		return nil, false
	}
	for _, p := range m {
		if _, ok := p.Key.(Atom); ok {
			continue
		}
		got, err := appendCanonical(sb[:0], p.Key)
		if err == nil && bytes.Equal(got, want) {
			return p.Value, true
		}
	}
	return nil, false
}

// Equal reports whether a and b are the same Erlang term (=:=), by comparing
// their canonical encodings (map pairs sorted, so pair order does not
// matter). Values the encoder cannot encode are compared with
// reflect.DeepEqual. Meant for tests and Map.Get, not for hot paths.
func Equal(a, b any) bool {
	var ab, bb [128]byte
	ea, erra := appendCanonical(ab[:0], a)
	eb, errb := appendCanonical(bb[:0], b)
	if erra != nil || errb != nil {
		return reflect.DeepEqual(a, b)
	}
	return bytes.Equal(ea, eb)
}

// appendCanonical appends the canonical encoding used for term equality.
func appendCanonical(buf []byte, v any) ([]byte, error) {
	e := encoder{sortMaps: true}
	return e.append(buf, v)
}
