package etf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Tags of the external term format (erlang-dist.md §9.1).
const (
	tagNewFloat      = 70
	tagBitBinary     = 77
	tagCompressed    = 80
	tagAtomCacheRef  = 82
	tagNewPid        = 88
	tagNewPort       = 89
	tagNewerRef      = 90
	tagSmallInteger  = 97
	tagInteger       = 98
	tagFloat         = 99
	tagAtom          = 100
	tagReference     = 101
	tagPort          = 102
	tagPid           = 103
	tagSmallTuple    = 104
	tagLargeTuple    = 105
	tagNil           = 106
	tagString        = 107
	tagList          = 108
	tagBinary        = 109
	tagSmallBig      = 110
	tagLargeBig      = 111
	tagNewFun        = 112
	tagExport        = 113
	tagNewReference  = 114
	tagSmallAtom     = 115
	tagMap           = 116
	tagFun           = 117
	tagAtomUTF8      = 118
	tagSmallAtomUTF8 = 119
	tagV4Port        = 120
	tagLocal         = 121
)

// Limits on terms, shared by the encoder and the decoder.
const (
	// MaxAtomChars is OTP's atom length limit, in characters.
	MaxAtomChars = 255
	// MaxRefIDs is the largest number of ID words a reference may carry.
	MaxRefIDs = 5
	// MaxEncodeDepth bounds container nesting on encode (guards against
	// cyclic values built with []any).
	MaxEncodeDepth = 1 << 16
	// maxStringLen is the longest list STRING_EXT can carry.
	maxStringLen = 65535
	// floatExtLen is the size of the FLOAT_EXT text field.
	floatExtLen = 31
)

// EncodeOptions select the encoding mode.
type EncodeOptions struct {
	// BERT emits atoms as ATOM_EXT (100, Latin-1; a non-Latin-1 atom is
	// ErrBadAtom) and floats as FLOAT_EXT (99, "%.20e" NUL padded to 31
	// bytes) instead of SMALL_ATOM_UTF8/ATOM_UTF8 and NEW_FLOAT_EXT, which
	// Ruby's bert cannot read.
	BERT bool
	// Hook is called for values of types the encoder does not know (for
	// example gen.Atom, gen.PID) and returns the term to encode instead.
	// The replacement is not passed to Hook again.
	Hook func(v any) (any, bool)
	// Append, if set, is tried before Hook for values of unknown types: it
	// appends v's whole encoding to buf itself and reports whether it did.
	// It spares boxing a replacement term (a gen.PID costs no allocation).
	Append func(buf []byte, v any) ([]byte, bool)
}

// Encode returns the encoding of term preceded by the version byte 131, as
// term_to_binary does.
func Encode(term any, opts EncodeOptions) ([]byte, error) {
	buf := make([]byte, 1, 64)
	buf[0] = Version
	e := encoder{opts: opts}
	out, err := e.append(buf, term)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendTerm appends the encoding of term to buf without the version byte
// (the form used after a distribution header). On error it returns buf
// unchanged in length.
func AppendTerm(buf []byte, term any, opts EncodeOptions) ([]byte, error) {
	e := encoder{opts: opts}
	out, err := e.append(buf, term)
	if err != nil {
		return buf, err
	}
	return out, nil
}

type encoder struct {
	opts     EncodeOptions
	depth    int
	sortMaps bool // canonical form for equality: map pairs sorted by key encoding
}

func (e *encoder) append(buf []byte, v any) ([]byte, error) {
	return e.appendValue(buf, v, true)
}

func (e *encoder) appendValue(buf []byte, v any, hook bool) ([]byte, error) {
	switch x := v.(type) {
	case Atom:
		return e.appendAtom(buf, string(x))
	case Tuple:
		return e.appendTuple(buf, x)
	case List:
		return e.appendList(buf, x, nil)
	case int64:
		return appendInt(buf, x), nil
	case int:
		return appendInt(buf, int64(x)), nil
	case []byte:
		return appendBinary(buf, x), nil
	case string:
		buf = append(buf, tagBinary)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(x)))
		return append(buf, x...), nil
	case bool:
		if x {
			return e.appendAtom(buf, "true")
		}
		return e.appendAtom(buf, "false")
	case Pid:
		return e.appendPid(buf, x)
	case Ref:
		return e.appendRef(buf, x)
	case Map:
		return e.appendMap(buf, x)
	case float64:
		return e.appendFloat(buf, x)
	case []any:
		return e.appendList(buf, x, nil)
	case ImproperList:
		if x.Tail == nil {
			return buf, fmt.Errorf("%w: improper list with a nil tail", ErrNil)
		}
		return e.appendList(buf, x.Elems, x.Tail)
	case *big.Int:
		if x == nil {
			return buf, ErrNil
		}
		return appendBig(buf, x), nil
	case big.Int:
		return appendBig(buf, &x), nil
	case BitString:
		return appendBitString(buf, x)
	case Port:
		return e.appendPort(buf, x)
	case Export:
		return e.appendExport(buf, x)
	case Fun:
		if len(x.Raw) < 4 || binary.BigEndian.Uint32(x.Raw) != uint32(len(x.Raw)) {
			return buf, fmt.Errorf("%w: fun size field does not match its %d raw bytes", ErrMalformed, len(x.Raw))
		}
		if e.sortMaps { // equality form: atoms, integers and free variables canonical
			return e.appendCanonicalFun(buf, x.Raw)
		}
		buf = append(buf, tagNewFun)
		return append(buf, x.Raw...), nil
	case float32:
		return e.appendFloat(buf, float64(x))
	case int8:
		return appendInt(buf, int64(x)), nil
	case int16:
		return appendInt(buf, int64(x)), nil
	case int32:
		return appendInt(buf, int64(x)), nil
	case uint:
		return appendUint(buf, uint64(x)), nil
	case uint8:
		return appendInt(buf, int64(x)), nil
	case uint16:
		return appendInt(buf, int64(x)), nil
	case uint32:
		return appendInt(buf, int64(x)), nil
	case uint64:
		return appendUint(buf, x), nil
	case uintptr:
		return appendUint(buf, uint64(x)), nil
	case nil:
		return buf, ErrNil
	}
	if hook && e.opts.Append != nil {
		if out, ok := e.opts.Append(buf, v); ok {
			return out, nil
		}
	}
	if hook && e.opts.Hook != nil {
		if r, ok := e.opts.Hook(v); ok {
			return e.appendValue(buf, r, false)
		}
	}
	return buf, fmt.Errorf("%w: %T", ErrUnsupportedType, v)
}

func appendInt(buf []byte, x int64) []byte {
	switch {
	case x >= 0 && x <= 255:
		return append(buf, tagSmallInteger, byte(x))
	case x >= math.MinInt32 && x <= math.MaxInt32:
		buf = append(buf, tagInteger)
		return binary.BigEndian.AppendUint32(buf, uint32(int32(x)))
	case x < 0:
		return appendSmallBig(buf, uint64(-x), 1) // -MinInt64 wraps to 1<<63, the right magnitude
	default:
		return appendSmallBig(buf, uint64(x), 0)
	}
}

func appendUint(buf []byte, x uint64) []byte {
	if x <= math.MaxInt64 {
		return appendInt(buf, int64(x))
	}
	return appendSmallBig(buf, x, 0)
}

func appendSmallBig(buf []byte, mag uint64, sign byte) []byte {
	n := (bits.Len64(mag) + 7) / 8
	buf = append(buf, tagSmallBig, byte(n), sign)
	for i := 0; i < n; i++ {
		buf = append(buf, byte(mag>>(8*i)))
	}
	return buf
}

func appendBig(buf []byte, x *big.Int) []byte {
	if x.IsInt64() {
		return appendInt(buf, x.Int64())
	}
	n := (x.BitLen() + 7) / 8
	var sign byte
	if x.Sign() < 0 {
		sign = 1
	}
	if n <= 255 {
		buf = append(buf, tagSmallBig, byte(n), sign)
	} else {
		buf = append(buf, tagLargeBig)
		buf = binary.BigEndian.AppendUint32(buf, uint32(n))
		buf = append(buf, sign)
	}
	// Little-endian magnitude, straight from the words.
	words := x.Bits()
	const wordBytes = bits.UintSize / 8
	for i := 0; i < n; i++ {
		w := words[i/wordBytes]
		buf = append(buf, byte(w>>(8*(i%wordBytes))))
	}
	return buf
}

func appendBinary(buf []byte, b []byte) []byte {
	buf = append(buf, tagBinary)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
	return append(buf, b...)
}

func appendBitString(buf []byte, x BitString) ([]byte, error) {
	if x.Bits == 8 {
		return appendBinary(buf, x.Bytes), nil
	}
	if x.Bits == 0 || x.Bits > 8 || len(x.Bytes) == 0 {
		return buf, fmt.Errorf("%w: bitstring with %d bytes and %d bits in the last byte", ErrMalformed, len(x.Bytes), x.Bits)
	}
	buf = append(buf, tagBitBinary)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(x.Bytes)))
	buf = append(buf, x.Bits)
	buf = append(buf, x.Bytes...)
	buf[len(buf)-1] &= byte(0xFF << (8 - x.Bits)) // unused bits are not part of the term
	return buf, nil
}

func (e *encoder) appendFloat(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, fmt.Errorf("%w: %v", ErrBadFloat, f)
	}
	if e.opts.BERT {
		buf = append(buf, tagFloat)
		start := len(buf)
		buf = strconv.AppendFloat(buf, f, 'e', 20, 64)
		for len(buf)-start < floatExtLen {
			buf = append(buf, 0)
		}
		return buf, nil
	}
	buf = append(buf, tagNewFloat)
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), nil
}

// atomChars validates an atom and returns its length in characters.
func atomChars(s string) (int, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	n := len(s)
	if !ascii {
		if !utf8.ValidString(s) {
			return 0, fmt.Errorf("%w: invalid UTF-8 %q", ErrBadAtom, s)
		}
		n = utf8.RuneCountInString(s)
	}
	if n > MaxAtomChars {
		return 0, fmt.Errorf("%w: %d characters (max %d)", ErrBadAtom, n, MaxAtomChars)
	}
	return n, nil
}

func (e *encoder) appendAtom(buf []byte, s string) ([]byte, error) {
	chars, err := atomChars(s)
	if err != nil {
		return buf, err
	}
	if e.opts.BERT {
		buf = append(buf, tagAtom)
		buf = binary.BigEndian.AppendUint16(buf, uint16(chars))
		if chars == len(s) {
			return append(buf, s...), nil
		}
		for _, r := range s {
			if r > 0xFF {
				return buf, fmt.Errorf("%w: %q is not Latin-1 (BERT mode)", ErrBadAtom, s)
			}
			buf = append(buf, byte(r))
		}
		return buf, nil
	}
	if len(s) <= 255 {
		buf = append(buf, tagSmallAtomUTF8, byte(len(s)))
	} else {
		buf = append(buf, tagAtomUTF8)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(s)))
	}
	return append(buf, s...), nil
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > MaxEncodeDepth {
		return fmt.Errorf("%w: encoding nests deeper than %d", ErrTooDeep, MaxEncodeDepth)
	}
	return nil
}

func (e *encoder) appendTuple(buf []byte, t Tuple) ([]byte, error) {
	if err := e.enter(); err != nil {
		return buf, err
	}
	if len(t) <= 255 {
		buf = append(buf, tagSmallTuple, byte(len(t)))
	} else {
		buf = append(buf, tagLargeTuple)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(t)))
	}
	var err error
	for _, el := range t {
		if buf, err = e.append(buf, el); err != nil {
			return buf, err
		}
	}
	e.depth--
	return buf, nil
}

// byteValue reports whether v is an integer in 0..255.
func byteValue(v any) (byte, bool) {
	switch x := v.(type) {
	case int64:
		return byte(x), x >= 0 && x <= 255
	case int:
		return byte(x), x >= 0 && x <= 255
	case uint8:
		return x, true
	case int32:
		return byte(x), x >= 0 && x <= 255
	case int16:
		return byte(x), x >= 0 && x <= 255
	case int8:
		return byte(x), x >= 0
	case uint:
		return byte(x), x <= 255
	case uint16:
		return byte(x), x <= 255
	case uint32:
		return byte(x), x <= 255
	case uint64:
		return byte(x), x <= 255
	case uintptr:
		return byte(x), x <= 255
	case *big.Int:
		if x != nil && x.IsInt64() {
			i := x.Int64()
			return byte(i), i >= 0 && i <= 255
		}
	case big.Int:
		if x.IsInt64() {
			i := x.Int64()
			return byte(i), i >= 0 && i <= 255
		}
	}
	return 0, false
}

// appendList encodes [elems... | tail]; tail nil means a proper list.
// A tail that is itself a list is flattened so the output is canonical.
func (e *encoder) appendList(buf []byte, elems []any, tail any) ([]byte, error) {
	if tail != nil {
		switch t := tail.(type) {
		case List:
			return e.appendList(buf, concat(elems, t), nil)
		case []any:
			return e.appendList(buf, concat(elems, t), nil)
		case ImproperList:
			return e.appendList(buf, concat(elems, t.Elems), t.Tail)
		}
		if len(elems) == 0 {
			return e.append(buf, tail)
		}
	}
	if len(elems) == 0 {
		return append(buf, tagNil), nil
	}
	if tail == nil && len(elems) <= maxStringLen {
		str := true
		for _, el := range elems {
			if _, ok := byteValue(el); !ok {
				str = false
				break
			}
		}
		if str {
			buf = append(buf, tagString)
			buf = binary.BigEndian.AppendUint16(buf, uint16(len(elems)))
			for _, el := range elems {
				b, _ := byteValue(el)
				buf = append(buf, b)
			}
			return buf, nil
		}
	}
	if err := e.enter(); err != nil {
		return buf, err
	}
	buf = append(buf, tagList)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(elems)))
	var err error
	for _, el := range elems {
		if buf, err = e.append(buf, el); err != nil {
			return buf, err
		}
	}
	if tail == nil {
		buf = append(buf, tagNil)
	} else if buf, err = e.append(buf, tail); err != nil {
		return buf, err
	}
	e.depth--
	return buf, nil
}

func concat(a, b []any) []any {
	out := make([]any, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

type span struct{ start, end int }

func (e *encoder) appendMap(buf []byte, m Map) ([]byte, error) {
	if err := e.enter(); err != nil {
		return buf, err
	}
	buf = append(buf, tagMap)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(m)))
	var err error
	if e.sortMaps && len(m) > 1 {
		if buf, err = e.appendSortedPairs(buf, m); err != nil {
			return buf, err
		}
		e.depth--
		return buf, nil
	}
	var small [16]span
	keys := small[:0]
	if len(m) > len(small) {
		keys = make([]span, 0, len(m))
	}
	for _, p := range m {
		start := len(buf)
		if buf, err = e.append(buf, p.Key); err != nil {
			return buf, err
		}
		keys = append(keys, span{start, len(buf)})
		if buf, err = e.append(buf, p.Value); err != nil {
			return buf, err
		}
	}
	if dupSpans(buf, keys) {
		return buf, fmt.Errorf("%w: in a map of %d pairs", ErrDuplicateKey, len(m))
	}
	e.depth--
	return buf, nil
}

// dupSpans reports whether two spans of buf hold the same bytes.
func dupSpans(buf []byte, keys []span) bool {
	if len(keys) <= 16 {
		for i := 1; i < len(keys); i++ {
			ki := buf[keys[i].start:keys[i].end]
			for j := 0; j < i; j++ {
				if bytes.Equal(ki, buf[keys[j].start:keys[j].end]) {
					return true
				}
			}
		}
		return false
	}
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b span) int {
		return bytes.Compare(buf[a.start:a.end], buf[b.start:b.end])
	})
	for i := 1; i < len(sorted); i++ {
		if bytes.Equal(buf[sorted[i].start:sorted[i].end], buf[sorted[i-1].start:sorted[i-1].end]) {
			return true
		}
	}
	return false
}

// appendSortedPairs writes the pairs ordered by key encoding (equality form).
func (e *encoder) appendSortedPairs(buf []byte, m Map) ([]byte, error) {
	type enc struct{ key, pair []byte }
	encs := make([]enc, len(m))
	var err error
	for i, p := range m {
		var b []byte
		if b, err = e.append(nil, p.Key); err != nil {
			return buf, err
		}
		k := len(b)
		if b, err = e.append(b, p.Value); err != nil {
			return buf, err
		}
		encs[i] = enc{b[:k], b}
	}
	slices.SortFunc(encs, func(a, b enc) int { return bytes.Compare(a.key, b.key) })
	for i := range encs {
		if i > 0 && bytes.Equal(encs[i].key, encs[i-1].key) {
			return buf, fmt.Errorf("%w: in a map of %d pairs", ErrDuplicateKey, len(m))
		}
		buf = append(buf, encs[i].pair...)
	}
	return buf, nil
}

func (e *encoder) appendPid(buf []byte, p Pid) ([]byte, error) {
	buf = append(buf, tagNewPid)
	buf, err := e.appendAtom(buf, string(p.Node))
	if err != nil {
		return buf, err
	}
	buf = binary.BigEndian.AppendUint32(buf, p.ID)
	buf = binary.BigEndian.AppendUint32(buf, p.Serial)
	return binary.BigEndian.AppendUint32(buf, p.Creation), nil
}

func (e *encoder) appendRef(buf []byte, r Ref) ([]byte, error) {
	if len(r.IDs) < 1 || len(r.IDs) > MaxRefIDs {
		return buf, fmt.Errorf("%w: reference with %d id words (1..%d)", ErrMalformed, len(r.IDs), MaxRefIDs)
	}
	buf = append(buf, tagNewerRef)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(r.IDs)))
	buf, err := e.appendAtom(buf, string(r.Node))
	if err != nil {
		return buf, err
	}
	buf = binary.BigEndian.AppendUint32(buf, r.Creation)
	for _, id := range r.IDs {
		buf = binary.BigEndian.AppendUint32(buf, id)
	}
	return buf, nil
}

func (e *encoder) appendPort(buf []byte, p Port) ([]byte, error) {
	if p.ID <= math.MaxUint32 {
		buf = append(buf, tagNewPort)
	} else {
		buf = append(buf, tagV4Port)
	}
	buf, err := e.appendAtom(buf, string(p.Node))
	if err != nil {
		return buf, err
	}
	if p.ID <= math.MaxUint32 {
		buf = binary.BigEndian.AppendUint32(buf, uint32(p.ID))
	} else {
		buf = binary.BigEndian.AppendUint64(buf, p.ID)
	}
	return binary.BigEndian.AppendUint32(buf, p.Creation), nil
}

func (e *encoder) appendExport(buf []byte, x Export) ([]byte, error) {
	buf = append(buf, tagExport)
	buf, err := e.appendAtom(buf, string(x.Module))
	if err != nil {
		return buf, err
	}
	if buf, err = e.appendAtom(buf, string(x.Function)); err != nil {
		return buf, err
	}
	return append(buf, tagSmallInteger, x.Arity), nil
}

func (e *encoder) appendCanonicalFun(buf, raw []byte) ([]byte, error) {
	f, err := parseFun(raw, DefaultLimits, nil, true, 8*len(raw)+4096)
	if err != nil {
		return buf, err
	}
	return f.appendCanonical(buf, raw, e)
}
