package uwsgi

import (
	"encoding/binary"
	"fmt"
)

// Protocol and default limits.
const (
	// MaxVarsSize is the largest vars block (and any payload framed by a
	// header): datasize is a u16.
	MaxVarsSize = 65535
	// MaxVars is the default cap on the number of records in a vars block.
	// The protocol allows up to 13107 (5-byte records); uWSGI itself keeps 64
	// by default (--max-vars). nginx sends about 20 plus one per header.
	MaxVars = 512
	// MaxItemSize is the largest key, value or array item (a u16 length).
	MaxItemSize = 65535
)

// Limits bound what a decoder accepts. A zero field means the default
// (MaxVarsSize, MaxVars, MaxRPCItems, MaxRPCResult). A limit above the
// protocol maximum is clamped to it.
type Limits struct {
	MaxVarsSize  int // bytes of a vars block / payload after a header
	MaxVars      int // records in a vars block
	MaxRPCItems  int // items in an RPC array (function name included)
	MaxRPCResult int // bytes of an RPC result (the modifier2 5 framing allows more than 65535)
}

func (l Limits) maxVarsSize() int {
	if l.MaxVarsSize <= 0 || l.MaxVarsSize > MaxVarsSize {
		return MaxVarsSize
	}
	return l.MaxVarsSize
}

func (l Limits) maxVars() int {
	if l.MaxVars <= 0 {
		return MaxVars
	}
	return l.MaxVars
}

func (l Limits) maxRPCItems() int {
	if l.MaxRPCItems <= 0 || l.MaxRPCItems > MaxRPCItems {
		return MaxRPCItems
	}
	return l.MaxRPCItems
}

func (l Limits) maxRPCResult() int {
	if l.MaxRPCResult <= 0 {
		return MaxRPCResult
	}
	return l.MaxRPCResult
}

// Var is one record of a vars block. Decoded Vars are views into the input
// buffer (see the package comment).
type Var struct {
	Key   []byte
	Value []byte
}

// Vars is a vars block in wire order; duplicate keys are kept.
type Vars []Var

// Get returns the value of the last record named key (CGI semantics: the last
// one wins), and whether there was one.
func (vs Vars) Get(key string) ([]byte, bool) {
	for i := len(vs) - 1; i >= 0; i-- {
		if string(vs[i].Key) == key {
			return vs[i].Value, true
		}
	}
	return nil, false
}

// Add appends a record built from strings (copied) and returns the new Vars.
func (vs Vars) Add(key, value string) Vars {
	return append(vs, Var{Key: []byte(key), Value: []byte(value)})
}

// ContentLength returns CONTENT_LENGTH (the request body length that follows
// the vars block): 0 when absent, ErrNumber when not a decimal number,
// ErrTooLarge when over max.
func (vs Vars) ContentLength(max int64) (int64, error) {
	v, ok := vs.Get("CONTENT_LENGTH")
	if !ok {
		return 0, nil
	}
	if max < 0 {
		max = 0
	}
	n, err := ParseNumber(v, uint64(max))
	if err != nil {
		return 0, fmt.Errorf("CONTENT_LENGTH: %w", err)
	}
	return int64(n), nil
}

// Size returns the encoded length of the vars block, or an error when a
// record cannot be encoded (empty key, key or value over MaxItemSize) or the
// block would exceed MaxVarsSize.
func (vs Vars) Size() (int, error) {
	size := 0
	for i, v := range vs {
		if len(v.Key) == 0 {
			return 0, fmt.Errorf("%w: record %d", ErrEmptyKey, i)
		}
		if len(v.Key) > MaxItemSize || len(v.Value) > MaxItemSize {
			return 0, fmt.Errorf("%w: record %d: key %d / value %d bytes > max %d",
				ErrTooLarge, i, len(v.Key), len(v.Value), MaxItemSize)
		}
		size += 4 + len(v.Key) + len(v.Value)
		if size > MaxVarsSize {
			return 0, fmt.Errorf("%w: vars %d+ bytes > max %d", ErrTooLarge, size, MaxVarsSize)
		}
	}
	return size, nil
}

// AppendVars appends the encoded vars block (no header) to buf. On error buf
// is returned unchanged.
func AppendVars(buf []byte, vs Vars) ([]byte, error) {
	if _, err := vs.Size(); err != nil {
		return buf, err
	}
	return vs.appendTo(buf), nil
}

func (vs Vars) appendTo(buf []byte) []byte {
	for _, v := range vs {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(v.Key)))
		buf = append(buf, v.Key...)
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(v.Value)))
		buf = append(buf, v.Value...)
	}
	return buf
}

// ScanVars walks the records of a complete vars block in wire order and calls
// fn with views of each key and value, without allocating. It stops early,
// without error, when fn returns false (the rest of the block is then not
// checked). It returns the number of records passed to fn. Errors: block over
// lim.MaxVarsSize or more than lim.MaxVars records (ErrTooLarge), an empty key
// (ErrEmptyKey), a record running past the end of the block (ErrTruncated).
func ScanVars(block []byte, lim Limits, fn func(key, value []byte) bool) (int, error) {
	if max := lim.maxVarsSize(); len(block) > max {
		return 0, fmt.Errorf("%w: vars %d bytes > max %d", ErrTooLarge, len(block), max)
	}
	maxVars := lim.maxVars()
	count := 0
	for off := 0; off < len(block); {
		if count == maxVars {
			return count, fmt.Errorf("%w: more than %d vars", ErrTooLarge, maxVars)
		}
		if len(block)-off < 2 {
			return count, fmt.Errorf("%w: key length at offset %d", ErrTruncated, off)
		}
		kl := int(binary.LittleEndian.Uint16(block[off:]))
		if kl == 0 {
			return count, fmt.Errorf("%w: at offset %d", ErrEmptyKey, off)
		}
		off += 2
		if len(block)-off < kl+2 {
			return count, fmt.Errorf("%w: key of %d bytes at offset %d", ErrTruncated, kl, off)
		}
		key := block[off : off+kl : off+kl]
		off += kl
		vl := int(binary.LittleEndian.Uint16(block[off:]))
		off += 2
		if len(block)-off < vl {
			return count, fmt.Errorf("%w: value of %d bytes at offset %d", ErrTruncated, vl, off)
		}
		value := block[off : off+vl : off+vl]
		off += vl
		count++
		if !fn(key, value) {
			return count, nil
		}
	}
	return count, nil
}

// ParseVars decodes a complete vars block (exactly the datasize bytes that
// follow a header) into Vars whose keys and values are views into block. It
// returns the Vars and len(block). The block has no framing of its own, so
// there is no ErrNeedMore here: a record running past its end is ErrTruncated
// (use ParsePacket or PacketSize to wait for a whole block). Other errors as
// ScanVars.
func ParseVars(block []byte, lim Limits) (Vars, int, error) {
	// First pass validates and counts, so the allocation is exact and bounded
	// by lim.MaxVars.
	n, err := ScanVars(block, lim, func(_, _ []byte) bool { return true })
	if err != nil {
		return nil, 0, err
	}
	vs := make(Vars, 0, n)
	_, _ = ScanVars(block, lim, func(k, v []byte) bool {
		vs = append(vs, Var{Key: k, Value: v})
		return true
	})
	return vs, len(block), nil
}

// maxDigits is the longest decimal accepted by ParseNumber (2^64-1 has 20).
const maxDigits = 20

// ParseNumber decodes an ASCII decimal number as uwsgi vars carry them
// ("CONTENT_LENGTH" = "7"). Empty input, a sign, or any non-digit is
// ErrNumber; a value over max is ErrTooLarge.
func ParseNumber(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: empty", ErrNumber)
	}
	if len(b) > maxDigits {
		return 0, fmt.Errorf("%w: %d digits > max %d", ErrTooLarge, len(b), maxDigits)
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", ErrNumber, b)
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, fmt.Errorf("%w: %q overflows", ErrTooLarge, b)
		}
		n = n*10 + d
	}
	if n > max {
		return 0, fmt.Errorf("%w: %d > max %d", ErrTooLarge, n, max)
	}
	return n, nil
}
