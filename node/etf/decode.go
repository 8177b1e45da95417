// This file is long (~1,250 lines) on purpose: the decoder is one explicit-stack
// state machine over every tag, and splitting its cases across files would hide
// the one loop that bounds depth, elements and size for hostile input.

package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Limits bound what one Decode may consume and allocate. A zero field means
// the DefaultLimits value. Every element costs at least one input byte and
// 16 bytes of []any, so the memory a decode may allocate is about
// MaxSize + 16*MaxElements plus the boxing of the decoded values.
type Limits struct {
	MaxSize      int // max input bytes considered, and max inflated size of a compressed term
	MaxDepth     int // max nesting of containers (tuples, lists, maps)
	MaxAtomChars int // max characters in an atom (255 in OTP)
	MaxElements  int // max total elements (tuple arity + list length + map pairs) per Decode
}

// DefaultLimits are used for zero Limits fields. Treat as read-only.
var DefaultLimits = Limits{
	MaxSize:      128 << 20,
	MaxDepth:     10000,
	MaxAtomChars: MaxAtomChars,
	MaxElements:  16 << 20,
}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultLimits.MaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxAtomChars <= 0 {
		l.MaxAtomChars = DefaultLimits.MaxAtomChars
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultLimits.MaxElements
	}
	return l
}

// DecodeOptions configure a decode.
type DecodeOptions struct {
	Limits Limits
	// Atom, if set, is called for every atom decoded as a term (not for the
	// node atoms inside pids, refs and ports) and its result is used instead.
	Atom func(Atom) any
	// Pid, if set, is called for every decoded pid and its result is used.
	Pid func(Pid) any
	// AtomCache resolves ATOM_CACHE_REF (82) indexes; nil makes that tag
	// ErrMalformed.
	AtomCache []Atom
	// Atoms, if set, interns atoms across decodes (see AtomTable).
	Atoms *AtomTable
}

// Decode decodes one term that starts with the version byte 131 (the form
// term_to_binary produces), including compressed terms (tag 80). It returns
// the term and the number of bytes consumed.
func Decode(b []byte, opts DecodeOptions) (term any, n int, err error) {
	if len(b) == 0 {
		return nil, 0, ErrNeedMore
	}
	if b[0] != Version {
		return nil, 0, fmt.Errorf("%w: first byte is %d", ErrVersion, b[0])
	}
	var d decoder
	d.init(b, &opts)
	d.pos = 1
	if len(d.b) > 1 && d.b[1] == tagCompressed {
		return d.compressed()
	}
	v, err := d.run()
	if err != nil {
		return nil, 0, err
	}
	return v, d.pos, nil
}

// DecodeTerm decodes one term without the version byte (the form that
// follows a distribution header). It returns the term and the number of
// bytes consumed.
func DecodeTerm(b []byte, opts DecodeOptions) (term any, n int, err error) {
	var d decoder
	d.init(b, &opts)
	v, err := d.run()
	if err != nil {
		return nil, 0, err
	}
	return v, d.pos, nil
}

const (
	fTuple uint8 = iota + 1
	fList
	fMap
)

// frame is one container being filled on the explicit decode stack.
type frame struct {
	items    []any  // tuple or list elements
	pairs    []Pair // map pairs
	i        int    // next element index (maps: 2*pair + 0 for key, 1 for value)
	keyStart int    // map: input offset where the current key starts
	keyNC    int    // map: noncanon counter when the current key started
	keyBase  int    // map: len(d.keys) when the map was pushed
	kind     uint8
	tail     bool // list: all elements read, the next term is the tail
}

type decoder struct {
	b     []byte // input, cut to max
	pos   int
	max   int  // absolute bound on pos (Limits.MaxSize)
	sub   bool // b is a sized region: running out of it is ErrMalformed
	lim   Limits
	cache []Atom         // DecodeOptions.AtomCache
	table *AtomTable     // DecodeOptions.Atoms
	atomH func(Atom) any // DecodeOptions.Atom
	pidH  func(Pid) any  // DecodeOptions.Pid
	dup   bool           // check map keys for duplicates
	elems int            // elements allocated so far

	// noncanon counts non-canonical encodings seen; a map key whose span did
	// not move it is compared by its wire bytes, others are re-encoded.
	noncanon  int
	cacheRefs int // ATOM_CACHE_REF tags seen
	budget    int // bytes that may still be re-encoded for key comparison

	// The explicit stack: frames [0, depth), the first ones inline so that
	// shallow terms cost no allocation for it.
	depth int
	stk0  [4]frame
	more  []frame

	keys   [][]byte      // canonical encodings of the keys of the open maps
	slab   []any         // small element slices are carved from here
	recent [4]recentAtom // recently decoded atoms, to share their strings
	nilBox any           // List{} boxed
	win    string        // a copy of input bytes from winOff on, for atom strings
	winOff int
	next   int
}

type recentAtom struct {
	a Atom
	v any // a boxed, or nil if not boxed yet
}

// init prepares d. opts is copied, never kept, so it does not escape.
func (d *decoder) init(b []byte, opts *DecodeOptions) {
	d.lim = opts.Limits.withDefaults()
	d.max = d.lim.MaxSize
	if len(b) > d.max {
		b = b[:d.max]
	}
	d.b = b
	d.cache = opts.AtomCache
	d.table = opts.Atoms
	d.atomH = opts.Atom
	d.pidH = opts.Pid
	d.dup = true
	d.budget = 8*len(b) + 4096
}

// short is the error for a read of n bytes past the available input.
func (d *decoder) short(n int) error {
	if d.sub {
		return fmt.Errorf("%w: %d bytes needed at offset %d past the end of a sized region", ErrMalformed, n, d.pos)
	}
	if n > d.max-d.pos {
		return fmt.Errorf("%w: %d bytes needed at offset %d, input limit %d", ErrTooLarge, n, d.pos, d.max)
	}
	return ErrNeedMore
}

func (d *decoder) need(n int) error {
	if n > len(d.b)-d.pos {
		return d.short(n)
	}
	return nil
}

func (d *decoder) u8() byte {
	v := d.b[d.pos]
	d.pos++
	return v
}

func (d *decoder) u16() int {
	v := binary.BigEndian.Uint16(d.b[d.pos:])
	d.pos += 2
	return int(v)
}

func (d *decoder) u32() uint32 {
	v := binary.BigEndian.Uint32(d.b[d.pos:])
	d.pos += 4
	return v
}

// reserve accounts for n elements that take at least minBytes input bytes
// each, before anything is allocated for them.
func (d *decoder) reserve(n, minBytes int) error {
	if n > d.lim.MaxElements-d.elems {
		return fmt.Errorf("%w: %d more elements at offset %d, limit %d", ErrTooLarge, n, d.pos, d.lim.MaxElements)
	}
	if err := d.need(n * minBytes); err != nil {
		return err
	}
	d.elems += n
	return nil
}

// alloc returns a zeroed slice of n elements, small ones carved from a slab.
func (d *decoder) alloc(n int) []any {
	const slabMax, smallMax = 32, 8
	if n > smallMax {
		return make([]any, n)
	}
	if len(d.slab) < n {
		// Elements take a few bytes each; size the slab by what is left.
		d.slab = make([]any, max(n, min(slabMax, (len(d.b)-d.pos)/4)))
	}
	s := d.slab[:n:n]
	d.slab = d.slab[n:]
	return s
}

func (d *decoder) push(f frame) error {
	if d.depth >= d.lim.MaxDepth {
		return fmt.Errorf("%w: more than %d nested containers at offset %d", ErrTooDeep, d.lim.MaxDepth, d.pos)
	}
	if d.depth < len(d.stk0) {
		d.stk0[d.depth] = f
	} else if i := d.depth - len(d.stk0); i < len(d.more) {
		d.more[i] = f
	} else {
		d.more = append(d.more, f)
	}
	d.depth++
	return nil
}

// top returns the innermost open container; d.depth must be > 0.
func (d *decoder) top() *frame {
	if i := d.depth - 1; i < len(d.stk0) {
		return &d.stk0[i]
	}
	return &d.more[d.depth-1-len(d.stk0)]
}

// run decodes one complete term. The stack must be empty on entry.
func (d *decoder) run() (any, error) {
	for {
		v, ok, err := d.step()
		if err != nil {
			return nil, err
		}
		for ok {
			if d.depth == 0 {
				return v, nil
			}
			if v, ok, err = d.deliver(v); err != nil {
				return nil, err
			}
		}
	}
}

// step reads the next term or container header. ok is false when a
// container was opened (or a list extended) and its elements follow.
func (d *decoder) step() (v any, ok bool, err error) {
	if d.depth > 0 {
		top := d.top()
		switch {
		case top.kind == fMap && top.i&1 == 0:
			top.keyStart, top.keyNC = d.pos, d.noncanon
		case top.kind == fList && top.tail:
			// The tail of a list: a list tail continues the same list, so
			// [a|[b|[c]]] needs no extra depth and ends up proper.
			if d.pos >= len(d.b) {
				return nil, false, d.short(1)
			}
			switch d.b[d.pos] {
			case tagNil:
				d.pos++
				return d.finishList(), true, nil
			case tagList:
				if err := d.need(5); err != nil {
					return nil, false, err
				}
				d.pos++
				n := int(d.u32())
				if err := d.reserve(n, 1); err != nil {
					return nil, false, err
				}
				if err := d.need(n + 1); err != nil {
					return nil, false, err
				}
				d.noncanon++
				if n > 0 {
					top.items = slices.Grow(top.items, n)[:len(top.items)+n]
					top.tail = false
				}
				return nil, false, nil
			case tagString:
				if err := d.need(3); err != nil {
					return nil, false, err
				}
				d.pos++
				n := d.u16()
				if err := d.reserve(n, 1); err != nil {
					return nil, false, err
				}
				d.noncanon++
				for _, c := range d.b[d.pos : d.pos+n] {
					top.items = append(top.items, int64(c))
				}
				d.pos += n
				return d.finishList(), true, nil
			}
		}
	}
	return d.value()
}

// emptyList returns [] boxed once per decode (boxing a non-nil empty
// slice allocates; sharing it is safe, nothing can be stored in it).
func (d *decoder) emptyList() any {
	if d.nilBox == nil {
		d.nilBox = List{}
	}
	return d.nilBox
}

// finishList pops the list on top of the stack, whose tail was [].
func (d *decoder) finishList() any {
	items := d.top().items
	d.depth--
	if len(items) == 0 {
		return d.emptyList()
	}
	if len(items) <= maxStringLen {
		str := true
		for _, el := range items {
			if i, ok := el.(int64); !ok || i < 0 || i > 255 {
				str = false
				break
			}
		}
		if str { // erl would have sent STRING_EXT
			d.noncanon++
		}
	}
	return List(items)
}

// deliver stores v into the container on top of the stack. ok is true when
// that completed the container, which is popped and returned as v.
func (d *decoder) deliver(v any) (any, bool, error) {
	top := d.top()
	switch top.kind {
	case fTuple:
		top.items[top.i] = v
		top.i++
		if top.i < len(top.items) {
			return nil, false, nil
		}
		v = Tuple(top.items)
	case fList:
		if !top.tail {
			top.items[top.i] = v
			top.i++
			if top.i == len(top.items) {
				top.tail = true
			}
			return nil, false, nil
		}
		if len(top.items) > 0 {
			v = ImproperList{Elems: top.items, Tail: v}
		} // else [ | T] is T
	case fMap:
		p := &top.pairs[top.i>>1]
		if top.i&1 == 0 {
			p.Key = v
			if d.dup {
				k, err := d.keyBytes(top)
				if err != nil {
					return nil, false, err
				}
				d.keys = append(d.keys, k)
			}
		} else {
			p.Value = v
		}
		top.i++
		if top.i < 2*len(top.pairs) {
			return nil, false, nil
		}
		if d.dup {
			if dupKeys(d.keys[top.keyBase:]) {
				return nil, false, fmt.Errorf("%w: in a map of %d pairs ending at offset %d", ErrDuplicateKey, len(top.pairs), d.pos)
			}
			clear(d.keys[top.keyBase:])
			d.keys = d.keys[:top.keyBase]
		}
		v = Map(top.pairs)
	}
	d.depth--
	return v, true, nil
}

// keyBytes returns the canonical encoding of the key just decoded.
func (d *decoder) keyBytes(top *frame) ([]byte, error) {
	wire := d.b[top.keyStart:d.pos]
	if d.noncanon == top.keyNC {
		return wire, nil
	}
	d.budget -= len(wire)
	if d.budget < 0 {
		return nil, fmt.Errorf("%w: non-canonical map keys need too much re-encoding", ErrTooLarge)
	}
	sub := decoder{b: wire, max: len(wire), sub: true, lim: d.lim, cache: d.cache}
	sub.lim.MaxElements = d.lim.MaxElements - d.elems
	v, err := sub.run()
	if err != nil {
		return nil, err
	}
	return appendCanonical(nil, v)
}

func dupKeys(keys [][]byte) bool {
	if len(keys) <= 16 {
		for i := 1; i < len(keys); i++ {
			for j := 0; j < i; j++ {
				if bytes.Equal(keys[i], keys[j]) {
					return true
				}
			}
		}
		return false
	}
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, bytes.Compare)
	for i := 1; i < len(sorted); i++ {
		if bytes.Equal(sorted[i], sorted[i-1]) {
			return true
		}
	}
	return false
}

func (d *decoder) malformed(tag byte, format string, args ...any) error {
	return fmt.Errorf("%w: tag %d at offset %d: %s", ErrMalformed, tag, d.pos, fmt.Sprintf(format, args...))
}

// value decodes one scalar, or opens a container (ok false).
func (d *decoder) value() (v any, ok bool, err error) {
	if d.pos >= len(d.b) {
		return nil, false, d.short(1)
	}
	tag := d.b[d.pos]
	switch tag {
	case tagSmallInteger:
		if err := d.need(2); err != nil {
			return nil, false, err
		}
		d.pos += 2
		return int64(d.b[d.pos-1]), true, nil
	case tagInteger:
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.pos++
		i := int64(int32(d.u32()))
		if i >= 0 && i <= 255 {
			d.noncanon++
		}
		return i, true, nil
	case tagSmallAtomUTF8, tagAtomUTF8, tagAtom, tagSmallAtom, tagAtomCacheRef:
		a, err := d.atom()
		if err != nil {
			return nil, false, err
		}
		if d.atomH != nil {
			return d.atomH(a), true, nil
		}
		return d.boxAtom(a), true, nil
	case tagSmallTuple, tagLargeTuple:
		var n int
		if tag == tagSmallTuple {
			if err := d.need(2); err != nil {
				return nil, false, err
			}
			d.pos++
			n = int(d.u8())
		} else {
			if err := d.need(5); err != nil {
				return nil, false, err
			}
			d.pos++
			n = int(d.u32())
			if n <= 255 {
				d.noncanon++
			}
		}
		if n == 0 {
			return Tuple{}, true, nil
		}
		if err := d.reserve(n, 1); err != nil {
			return nil, false, err
		}
		return nil, false, d.push(frame{kind: fTuple, items: d.alloc(n)})
	case tagNil:
		d.pos++
		return d.emptyList(), true, nil
	case tagString:
		if err := d.need(3); err != nil {
			return nil, false, err
		}
		d.pos++
		n := d.u16()
		if n == 0 {
			d.noncanon++
			return d.emptyList(), true, nil
		}
		if err := d.reserve(n, 1); err != nil {
			return nil, false, err
		}
		items := d.alloc(n)
		for i, c := range d.b[d.pos : d.pos+n] {
			items[i] = int64(c)
		}
		d.pos += n
		return List(items), true, nil
	case tagList:
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.pos++
		n := int(d.u32())
		if err := d.reserve(n, 1); err != nil {
			return nil, false, err
		}
		if err := d.need(n + 1); err != nil {
			return nil, false, err
		}
		if n == 0 {
			d.noncanon++
		}
		return nil, false, d.push(frame{kind: fList, items: d.alloc(n), tail: n == 0})
	case tagMap:
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.pos++
		n := int(d.u32())
		if n == 0 {
			return Map{}, true, nil
		}
		if err := d.reserve(n, 2); err != nil {
			return nil, false, err
		}
		if n > 1 {
			d.noncanon++ // pair order matters to the bytes, not to the term
		}
		return nil, false, d.push(frame{kind: fMap, pairs: make([]Pair, n), keyBase: len(d.keys)})
	case tagBinary:
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.pos++
		n := int(d.u32())
		if err := d.need(n); err != nil {
			return nil, false, err
		}
		b := make([]byte, n)
		copy(b, d.b[d.pos:])
		d.pos += n
		return b, true, nil
	case tagBitBinary:
		return d.bitBinary()
	case tagNewFloat:
		if err := d.need(9); err != nil {
			return nil, false, err
		}
		d.pos++
		f := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.pos:]))
		d.pos += 8
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false, fmt.Errorf("%w: %v at offset %d", ErrBadFloat, f, d.pos-9)
		}
		return f, true, nil
	case tagFloat:
		return d.floatExt()
	case tagSmallBig, tagLargeBig:
		return d.bignum(tag)
	case tagNewPid, tagPid:
		p, err := d.pid(tag)
		if err != nil {
			return nil, false, err
		}
		if d.pidH != nil {
			return d.pidH(p), true, nil
		}
		return p, true, nil
	case tagNewerRef, tagNewReference, tagReference:
		return d.ref(tag)
	case tagNewPort, tagV4Port, tagPort:
		return d.port(tag)
	case tagExport:
		return d.export()
	case tagNewFun:
		return d.newFun()
	case tagCompressed:
		return nil, false, d.malformed(tag, "compressed term inside a term")
	case tagLocal:
		return nil, false, d.malformed(tag, "LOCAL_EXT is only meaningful to the node that made it")
	case tagFun:
		return nil, false, d.malformed(tag, "old FUN_EXT is not supported since OTP 23")
	}
	return nil, false, d.malformed(tag, "unknown tag")
}

// wellKnown returns common atoms already boxed in an interface (constant
// conversions need no allocation), or nil.
func wellKnown(b []byte) any {
	switch string(b) {
	case "true":
		return Atom("true")
	case "false":
		return Atom("false")
	case "ok":
		return Atom("ok")
	case "error":
		return Atom("error")
	case "undefined":
		return Atom("undefined")
	case "nil":
		return Atom("nil")
	case "bert":
		return Atom("bert")
	case "reply":
		return Atom("reply")
	case "noreply":
		return Atom("noreply")
	case "call":
		return Atom("call")
	case "cast":
		return Atom("cast")
	case "info":
		return Atom("info")
	case "$gen_call":
		return Atom("$gen_call")
	case "$gen_cast":
		return Atom("$gen_cast")
	case "alias":
		return Atom("alias")
	case "normal":
		return Atom("normal")
	case "noproc":
		return Atom("noproc")
	case "noconnection":
		return Atom("noconnection")
	case "process":
		return Atom("process")
	case "infinity":
		return Atom("infinity")
	case "badarg":
		return Atom("badarg")
	case "badrpc":
		return Atom("badrpc")
	case "EXIT":
		return Atom("EXIT")
	case "DOWN":
		return Atom("DOWN")
	case "rex":
		return Atom("rex")
	case "yes":
		return Atom("yes")
	case "no":
		return Atom("no")
	case "":
		return Atom("")
	}
	return nil
}

// makeAtom returns the atom spelled by b, sharing the string of a recent
// atom with the same spelling.
func (d *decoder) makeAtom(b []byte, off int) Atom {
	if v := wellKnown(b); v != nil {
		return v.(Atom)
	}
	if d.table != nil {
		if e := d.table.lookup(b); e != nil {
			return e.a
		}
		if e := d.table.add(b); e != nil {
			return e.a
		}
	}
	for i := range d.recent {
		if r := &d.recent[i]; string(r.a) == string(b) && r.a != "" {
			return r.a
		}
	}
	a := d.atomString(off, len(b))
	d.recent[d.next&3] = recentAtom{a: a}
	d.next++
	return a
}

// atomString returns the n input bytes at off as a string. Short atoms are
// cut from a window string converted once from the input, so the atoms of
// one term usually cost one allocation together.
func (d *decoder) atomString(off, n int) Atom {
	const window, maxShared = 128, 32
	if w := off - d.winOff; w >= 0 && w+n <= len(d.win) {
		return Atom(d.win[w : w+n])
	}
	if n > maxShared {
		return Atom(d.b[off : off+n])
	}
	d.win, d.winOff = string(d.b[off:min(len(d.b), off+window)]), off
	return Atom(d.win[:n])
}

// boxAtom returns a as an interface, reusing earlier boxes for the same atom.
func (d *decoder) boxAtom(a Atom) any {
	if v := wellKnown([]byte(a)); v != nil {
		return v
	}
	if d.table != nil {
		if e := d.table.m[string(a)]; e != nil {
			if e.boxed == nil {
				e.boxed = a
			}
			return e.boxed
		}
	}
	for i := range d.recent {
		if r := &d.recent[i]; r.a == a {
			if r.v == nil {
				r.v = a
			}
			return r.v
		}
	}
	return a
}

// atom reads an atom in any of its encodings (also node atoms in pids).
func (d *decoder) atom() (Atom, error) {
	if d.pos >= len(d.b) {
		return "", d.short(1)
	}
	tag := d.b[d.pos]
	var n int
	switch tag {
	case tagSmallAtomUTF8, tagSmallAtom:
		if err := d.need(2); err != nil {
			return "", err
		}
		d.pos++
		n = int(d.u8())
	case tagAtomUTF8, tagAtom:
		if err := d.need(3); err != nil {
			return "", err
		}
		d.pos++
		n = d.u16()
	case tagAtomCacheRef:
		if err := d.need(2); err != nil {
			return "", err
		}
		d.pos++
		i := int(d.u8())
		if i >= len(d.cache) {
			return "", d.malformed(tag, "atom cache index %d, cache holds %d", i, len(d.cache))
		}
		d.noncanon++
		d.cacheRefs++
		return d.cache[i], nil
	default:
		return "", d.malformed(tag, "want an atom")
	}
	latin1 := tag == tagAtom || tag == tagSmallAtom
	maxBytes := d.lim.MaxAtomChars
	if !latin1 {
		maxBytes *= utf8.UTFMax
	}
	if n > maxBytes {
		return "", fmt.Errorf("%w: %d bytes at offset %d", ErrBadAtom, n, d.pos)
	}
	if err := d.need(n); err != nil {
		return "", err
	}
	b := d.b[d.pos : d.pos+n]
	d.pos += n
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if latin1 {
		d.noncanon++
		if ascii {
			return d.makeAtom(b, d.pos-n), nil
		}
		u := make([]byte, 0, 2*n)
		for _, c := range b {
			u = utf8.AppendRune(u, rune(c))
		}
		return Atom(u), nil
	}
	if tag == tagAtomUTF8 && n <= 255 {
		d.noncanon++
	}
	if !ascii {
		if !utf8.Valid(b) {
			return "", fmt.Errorf("%w: invalid UTF-8 at offset %d", ErrBadAtom, d.pos-n)
		}
		if c := utf8.RuneCount(b); c > d.lim.MaxAtomChars {
			return "", fmt.Errorf("%w: %d characters at offset %d (max %d)", ErrBadAtom, c, d.pos-n, d.lim.MaxAtomChars)
		}
	} else if n > d.lim.MaxAtomChars {
		return "", fmt.Errorf("%w: %d characters at offset %d (max %d)", ErrBadAtom, n, d.pos-n, d.lim.MaxAtomChars)
	}
	return d.makeAtom(b, d.pos-n), nil
}

func (d *decoder) bitBinary() (any, bool, error) {
	if err := d.need(6); err != nil {
		return nil, false, err
	}
	d.pos++
	n := int(d.u32())
	bitsUsed := d.u8()
	if (n == 0) != (bitsUsed == 0) || bitsUsed > 8 {
		return nil, false, d.malformed(tagBitBinary, "%d bytes with %d bits used in the last", n, bitsUsed)
	}
	if err := d.need(n); err != nil {
		return nil, false, err
	}
	b := make([]byte, n)
	copy(b, d.b[d.pos:])
	d.pos += n
	if bitsUsed == 0 || bitsUsed == 8 { // a binary
		d.noncanon++
		return b, true, nil
	}
	mask := byte(0xFF << (8 - bitsUsed))
	if b[n-1]&^mask != 0 {
		d.noncanon++
		b[n-1] &= mask
	}
	return BitString{Bytes: b, Bits: bitsUsed}, true, nil
}

func (d *decoder) floatExt() (any, bool, error) {
	if err := d.need(1 + floatExtLen); err != nil {
		return nil, false, err
	}
	d.pos++
	text := d.b[d.pos : d.pos+floatExtLen]
	d.pos += floatExtLen
	d.noncanon++
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(text)), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, false, d.malformed(tagFloat, "float text %q", text)
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false, fmt.Errorf("%w: %q at offset %d", ErrBadFloat, text, d.pos-floatExtLen)
	}
	return f, true, nil
}

func (d *decoder) bignum(tag byte) (any, bool, error) {
	var n int
	if tag == tagSmallBig {
		if err := d.need(3); err != nil {
			return nil, false, err
		}
		d.pos++
		n = int(d.u8())
	} else {
		if err := d.need(6); err != nil {
			return nil, false, err
		}
		d.pos++
		n = int(d.u32())
	}
	if err := d.need(1 + n); err != nil {
		return nil, false, err
	}
	sign := d.u8()
	digits := d.b[d.pos : d.pos+n]
	d.pos += n
	m := n
	for m > 0 && digits[m-1] == 0 {
		m--
	}
	if sign > 1 || m != n {
		d.noncanon++
	}
	if m <= 8 {
		var mag uint64
		for i := m - 1; i >= 0; i-- {
			mag = mag<<8 | uint64(digits[i])
		}
		if sign == 0 && mag <= math.MaxInt64 {
			if mag <= math.MaxInt32 || tag == tagLargeBig {
				d.noncanon++
			}
			return int64(mag), true, nil
		}
		if sign != 0 && mag <= 1<<63 {
			if mag <= 1<<31 || tag == tagLargeBig {
				d.noncanon++
			}
			return -int64(mag), true, nil // mag 1<<63 wraps to MinInt64
		}
	}
	if (tag == tagLargeBig) != (m > 255) {
		d.noncanon++
	}
	be := make([]byte, m)
	for i := range m {
		be[m-1-i] = digits[i]
	}
	x := new(big.Int).SetBytes(be)
	if sign != 0 {
		x.Neg(x)
	}
	return x, true, nil
}

func (d *decoder) pid(tag byte) (Pid, error) {
	d.pos++
	node, err := d.atom()
	if err != nil {
		return Pid{}, err
	}
	p := Pid{Node: node}
	if tag == tagNewPid {
		if err := d.need(12); err != nil {
			return Pid{}, err
		}
		p.ID, p.Serial, p.Creation = d.u32(), d.u32(), d.u32()
		return p, nil
	}
	if err := d.need(9); err != nil {
		return Pid{}, err
	}
	d.noncanon++
	p.ID, p.Serial, p.Creation = d.u32(), d.u32(), uint32(d.u8())
	return p, nil
}

func (d *decoder) ref(tag byte) (any, bool, error) {
	d.pos++
	if tag == tagReference {
		node, err := d.atom()
		if err != nil {
			return nil, false, err
		}
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.noncanon++
		id := d.u32()
		return Ref{Node: node, IDs: []uint32{id}, Creation: uint32(d.u8())}, true, nil
	}
	if err := d.need(2); err != nil {
		return nil, false, err
	}
	n := d.u16()
	if n < 1 || n > MaxRefIDs {
		return nil, false, d.malformed(tag, "reference with %d id words (1..%d)", n, MaxRefIDs)
	}
	node, err := d.atom()
	if err != nil {
		return nil, false, err
	}
	r := Ref{Node: node}
	if tag == tagNewerRef {
		if err := d.need(4 + 4*n); err != nil {
			return nil, false, err
		}
		r.Creation = d.u32()
	} else {
		if err := d.need(1 + 4*n); err != nil {
			return nil, false, err
		}
		d.noncanon++
		r.Creation = uint32(d.u8())
	}
	r.IDs = make([]uint32, n)
	for i := range r.IDs {
		r.IDs[i] = d.u32()
	}
	return r, true, nil
}

func (d *decoder) port(tag byte) (any, bool, error) {
	d.pos++
	node, err := d.atom()
	if err != nil {
		return nil, false, err
	}
	p := Port{Node: node}
	switch tag {
	case tagNewPort:
		if err := d.need(8); err != nil {
			return nil, false, err
		}
		p.ID, p.Creation = uint64(d.u32()), d.u32()
	case tagV4Port:
		if err := d.need(12); err != nil {
			return nil, false, err
		}
		p.ID = binary.BigEndian.Uint64(d.b[d.pos:])
		d.pos += 8
		p.Creation = d.u32()
		if p.ID <= math.MaxUint32 {
			d.noncanon++
		}
	default:
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.noncanon++
		p.ID, p.Creation = uint64(d.u32()), uint32(d.u8())
	}
	return p, true, nil
}

func (d *decoder) export() (any, bool, error) {
	d.pos++
	mod, err := d.atom()
	if err != nil {
		return nil, false, err
	}
	fun, err := d.atom()
	if err != nil {
		return nil, false, err
	}
	if err := d.need(2); err != nil {
		return nil, false, err
	}
	var arity int64
	switch d.b[d.pos] {
	case tagSmallInteger:
		d.pos++
		arity = int64(d.u8())
	case tagInteger: // erl accepts it
		if err := d.need(5); err != nil {
			return nil, false, err
		}
		d.pos++
		arity = int64(int32(d.u32()))
		d.noncanon++
	default:
		return nil, false, d.malformed(tagExport, "arity has tag %d, want an integer", d.b[d.pos])
	}
	if arity < 0 || arity > 255 {
		return nil, false, d.malformed(tagExport, "arity %d", arity)
	}
	return Export{Module: mod, Function: fun, Arity: uint8(arity)}, true, nil
}

// newFunFixed is the size of NEW_FUN_EXT's fixed fields:
// size u32, arity u8, uniq [16], index u32, numfree u32.
const newFunFixed = 4 + 1 + 16 + 4 + 4

// newFun keeps NEW_FUN_EXT opaque but checks that its fields and free
// variables parse and end exactly where its size field says. Raw is the
// input bytes, except when they use the atom cache (meaningless outside the
// connection they came on): then Raw is re-encoded canonically.
func (d *decoder) newFun() (any, bool, error) {
	if err := d.need(1 + 4); err != nil {
		return nil, false, err
	}
	d.pos++
	start := d.pos
	size := int(binary.BigEndian.Uint32(d.b[d.pos:]))
	if size < newFunFixed {
		return nil, false, d.malformed(tagNewFun, "size %d", size)
	}
	if err := d.need(size); err != nil {
		return nil, false, err
	}
	lim := d.lim
	lim.MaxDepth = d.lim.MaxDepth - d.depth - 1
	lim.MaxElements = d.lim.MaxElements - d.elems
	if lim.MaxDepth < 1 {
		return nil, false, fmt.Errorf("%w: fun at offset %d", ErrTooDeep, start)
	}
	region := d.b[start : start+size]
	f, err := parseFun(region, lim, d.cache, d.dup, d.budget)
	if err != nil {
		return nil, false, fmt.Errorf("fun at offset %d: %w", start, err)
	}
	d.elems += f.elems
	d.noncanon += f.noncanon
	d.budget = f.budget
	d.pos += size
	if f.cacheRefs > 0 {
		raw, err := f.appendCanonical(nil, region, &encoder{})
		if err != nil {
			return nil, false, err
		}
		return Fun{Raw: raw[1:]}, true, nil
	}
	raw := make([]byte, size)
	copy(raw, region)
	return Fun{Raw: raw}, true, nil
}

// funParts are the fields of a NEW_FUN_EXT body.
type funParts struct {
	module            Atom
	oldIndex, oldUniq int64
	pid               Pid
	free              []any

	elems, noncanon, cacheRefs, budget int // decoder accounting
}

// parseFun parses a NEW_FUN_EXT body: region starts at the size field and
// is exactly size bytes long.
func parseFun(region []byte, lim Limits, cache []Atom, dup bool, budget int) (funParts, error) {
	var f funParts
	if len(region) < newFunFixed {
		return f, fmt.Errorf("%w: fun of %d bytes", ErrMalformed, len(region))
	}
	sub := decoder{b: region, max: len(region), sub: true, lim: lim, cache: cache, dup: dup, budget: budget}
	sub.pos = newFunFixed - 4
	numFree := int(binary.BigEndian.Uint32(region[sub.pos:]))
	sub.pos += 4
	var err error
	if f.module, err = sub.atom(); err != nil {
		return f, err
	}
	for i, dst := range []*int64{&f.oldIndex, &f.oldUniq} {
		v, _, err := sub.value()
		if err != nil {
			return f, err
		}
		x, ok := v.(int64)
		if !ok {
			return f, sub.malformed(tagNewFun, "old index/uniq field %d is %T", i, v)
		}
		*dst = x
	}
	if sub.pos >= len(region) || (region[sub.pos] != tagNewPid && region[sub.pos] != tagPid) {
		return f, sub.malformed(tagNewFun, "creator is not a pid")
	}
	if f.pid, err = sub.pid(region[sub.pos]); err != nil {
		return f, err
	}
	if numFree > len(region)-sub.pos {
		return f, sub.malformed(tagNewFun, "%d free variables in %d bytes", numFree, len(region)-sub.pos)
	}
	if err := sub.reserve(numFree, 1); err != nil {
		return f, err
	}
	f.free = make([]any, numFree)
	for i := range f.free {
		if f.free[i], err = sub.run(); err != nil {
			return f, err
		}
	}
	if sub.pos != len(region) {
		return f, sub.malformed(tagNewFun, "%d bytes after the free variables", len(region)-sub.pos)
	}
	f.elems, f.noncanon, f.cacheRefs, f.budget = sub.elems, sub.noncanon, sub.cacheRefs, sub.budget
	return f, nil
}

// appendCanonical appends tag 112 and the fun re-encoded canonically;
// region is the original body (its fixed fields are copied).
func (f *funParts) appendCanonical(buf, region []byte, e *encoder) ([]byte, error) {
	start := len(buf)
	buf = append(buf, tagNewFun, 0, 0, 0, 0)
	buf = append(buf, region[4:newFunFixed]...)
	buf, err := e.appendAtom(buf, string(f.module))
	if err != nil {
		return buf, err
	}
	buf = appendInt(buf, f.oldIndex)
	buf = appendInt(buf, f.oldUniq)
	if buf, err = e.appendPid(buf, f.pid); err != nil {
		return buf, err
	}
	for _, v := range f.free {
		if buf, err = e.append(buf, v); err != nil {
			return buf, err
		}
	}
	binary.BigEndian.PutUint32(buf[start+1:], uint32(len(buf)-start-1))
	return buf, nil
}

// compressed decodes tag 80 at d.pos: usize u32, then a zlib stream that
// inflates to exactly usize bytes holding one term.
func (d *decoder) compressed() (any, int, error) {
	if err := d.need(1 + 4); err != nil {
		return nil, 0, err
	}
	d.pos++
	usize := int(d.u32())
	if usize > d.lim.MaxSize {
		return nil, 0, fmt.Errorf("%w: compressed term inflates to %d bytes, limit %d", ErrTooLarge, usize, d.lim.MaxSize)
	}
	rest := d.b[d.pos:]
	br := bytes.NewReader(rest)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, 0, d.inflateErr(err)
	}
	// Deflate expands at most ~1032:1, so the buffer starts no larger than
	// the input can justify and only grows with real output.
	out := make([]byte, 0, min(usize+1, 1032*len(rest)+64))
	lr := io.LimitReader(zr, int64(usize)+1)
	for {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(cap(out), usize+1-len(out)))
		}
		k, err := lr.Read(out[len(out):cap(out)])
		out = out[:len(out)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, d.inflateErr(err)
		}
	}
	if len(out) != usize {
		return nil, 0, d.malformed(tagCompressed, "inflated %d bytes, header says %d", len(out), usize)
	}
	consumed := len(rest) - br.Len()
	inner := decoder{b: out, max: len(out), sub: true, lim: d.lim, cache: d.cache, atomH: d.atomH, pidH: d.pidH, dup: true, budget: 8*len(out) + 4096}
	v, err := inner.run()
	if err != nil {
		return nil, 0, err
	}
	if inner.pos != len(out) {
		return nil, 0, d.malformed(tagCompressed, "%d bytes after the inflated term", len(out)-inner.pos)
	}
	return v, d.pos + consumed, nil
}

func (d *decoder) inflateErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return d.short(len(d.b) - d.pos + 1)
	}
	return fmt.Errorf("%w: compressed term: %v", ErrMalformed, err)
}
