package config

import (
	"math/big"
	"strconv"

	"imperial/node/etf"
)

// Term is one top-level term of a config file and the position where it
// starts.
type Term struct {
	Value any
	Pos   Pos
}

// node is a parsed term with the positions of its parts, kept so that
// validation can point at the offending element.
type node struct {
	pos   Pos
	value any     // the term in the etf model
	kids  []*node // tuple elements, list elements before the tail, map keys and values alternating
}

// kid returns the i-th part of n, or n itself when the part has no node of
// its own (the characters of a string literal, or a list tail that was
// folded in).
func (n *node) kid(i int) *node {
	if i < len(n.kids) {
		return n.kids[i]
	}
	return n
}

// Consult parses src as file:consult does: a sequence of terms, each ended
// by a dot. file names the source in error messages.
//
// Terms use the imperial/node/etf model:
//
//	atom 'x', true, false        etf.Atom (UTF-8 name)
//	integer, $c                  int64, or *big.Int when it does not fit
//	float                        float64
//	"abc"                        etf.List of int64 code points ("" is etf.List{}),
//	                             as in Erlang, where a string is a list; adjacent
//	                             string literals are concatenated
//	{A, B}                       etf.Tuple
//	[A, B], []                   etf.List (non-nil)
//	[A | T]                      etf.ImproperList when T is not a list; a list
//	                             tail is folded in ([a | [b]] is [a, b])
//	<<"ab", 1, $c>>              []byte; integers and characters keep their low
//	                             8 bits, as Erlang does; size and type
//	                             specifiers are ErrUnsupported
//	#{K => V}                    etf.Map in source order; a repeated key is
//	                             ErrSyntax
//
// -N and +N apply to number and character literals only, as in
// erl_parse:parse_term. Variables, pids, funs and records are ErrSyntax.
// The input must be valid UTF-8 (file:consult's default encoding).
func Consult(src []byte, file string) ([]Term, error) {
	nodes, err := consultNodes(src, file)
	if err != nil {
		return nil, err
	}
	out := make([]Term, len(nodes))
	for i, n := range nodes {
		out[i] = Term{Value: n.value, Pos: n.pos}
	}
	return out, nil
}

// consultNodes parses all top-level terms.
func consultNodes(src []byte, file string) ([]*node, error) {
	if len(src) > MaxFileSize {
		return nil, &PosError{File: file, Line: 1, Col: 1, Err: ErrTooLarge,
			Msg: "config larger than " + strconv.Itoa(MaxFileSize) + " bytes"}
	}
	p := &parser{lex: newLexer(src, file)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var out []*node
	for p.tok.kind != tEOF {
		n, err := p.term(0)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tDot {
			return nil, p.unexpected("'.' after the term")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parser is a recursive-descent parser over the lexer's tokens; recursion
// depth is bounded by MaxDepth.
type parser struct {
	lex *lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(want string) *PosError {
	return p.lex.errAt(p.tok.pos, ErrSyntax, "unexpected %s, want %s", p.tok.describe(), want)
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

// expect consumes the punctuation s or fails.
func (p *parser) expect(s, want string) error {
	if !p.isPunct(s) {
		return p.unexpected(want)
	}
	return p.advance()
}

// term parses one term at nesting depth d.
func (p *parser) term(d int) (*node, error) {
	t := p.tok
	switch t.kind {
	case tAtom:
		return &node{pos: t.pos, value: etf.Atom(t.text)}, p.advance()
	case tInt, tChar, tFloat:
		return &node{pos: t.pos, value: numberValue(&t, false)}, p.advance()
	case tString:
		return p.strings()
	case tVar:
		return nil, p.lex.errAt(t.pos, ErrSyntax, "variable %s is not allowed in a config term", t.text)
	case tEOF:
		return nil, p.unexpected("a term")
	case tDot:
		return nil, p.unexpected("a term")
	}
	switch t.text {
	case "-", "+":
		if err := p.advance(); err != nil {
			return nil, err
		}
		n := p.tok
		if n.kind != tInt && n.kind != tChar && n.kind != tFloat {
			return nil, p.unexpected("a number after '" + t.text + "'")
		}
		return &node{pos: t.pos, value: numberValue(&n, t.text == "-")}, p.advance()
	case "{", "[", "<<", "#":
		if d >= MaxDepth {
			return nil, p.lex.errAt(t.pos, ErrTooDeep, "terms nested deeper than %d", MaxDepth)
		}
	}
	switch t.text {
	case "{":
		return p.tuple(d)
	case "[":
		return p.list(d)
	case "<<":
		return p.binary()
	case "#":
		return p.mapTerm(d)
	}
	return nil, p.unexpected("a term")
}

// numberValue returns the value of a number or character token, negated
// when neg is set.
func numberValue(t *token, neg bool) any {
	switch {
	case t.kind == tFloat:
		if neg {
			return -t.flt
		}
		return t.flt
	case t.big != nil:
		b := new(big.Int).Set(t.big)
		if neg {
			b.Neg(b)
		}
		if b.IsInt64() {
			return b.Int64()
		}
		return b
	case neg:
		return -t.num // num >= 0 from the lexer, so this cannot overflow
	}
	return t.num
}

// strings parses one or more adjacent string literals.
func (p *parser) strings() (*node, error) {
	pos := p.tok.pos
	var chars []rune
	for p.tok.kind == tString {
		chars = append(chars, p.tok.str...)
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	l := make(etf.List, len(chars))
	for i, c := range chars {
		l[i] = int64(c)
	}
	return &node{pos: pos, value: l}, nil
}

// elems parses comma-separated terms up to one of the closing tokens
// (which is not consumed). An empty sequence is allowed.
func (p *parser) elems(d int, closers ...string) ([]*node, error) {
	var out []*node
	for {
		for _, c := range closers {
			if p.isPunct(c) && len(out) == 0 {
				return out, nil
			}
		}
		n, err := p.term(d + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.isPunct(",") {
			return out, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
}

func (p *parser) tuple(d int) (*node, error) {
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	kids, err := p.elems(d, "}")
	if err != nil {
		return nil, err
	}
	if err := p.expect("}", "',' or '}'"); err != nil {
		return nil, err
	}
	t := make(etf.Tuple, len(kids))
	for i, k := range kids {
		t[i] = k.value
	}
	return &node{pos: pos, value: t, kids: kids}, nil
}

func (p *parser) list(d int) (*node, error) {
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	kids, err := p.elems(d, "]")
	if err != nil {
		return nil, err
	}
	var tail *node
	if p.isPunct("|") && len(kids) > 0 {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if tail, err = p.term(d + 1); err != nil {
			return nil, err
		}
	}
	if err := p.expect("]", "',', '|' or ']'"); err != nil {
		return nil, err
	}
	elems := make([]any, len(kids), len(kids)+1)
	for i, k := range kids {
		elems[i] = k.value
	}
	if tail == nil {
		return &node{pos: pos, value: etf.List(elems), kids: kids}, nil
	}
	switch tv := tail.value.(type) {
	case etf.List:
		return &node{pos: pos, value: etf.List(append(elems, tv...)), kids: append(kids, tail.kids...)}, nil
	case etf.ImproperList:
		return &node{pos: pos, value: etf.ImproperList{Elems: append(elems, tv.Elems...), Tail: tv.Tail},
			kids: append(kids, tail.kids...)}, nil
	}
	return &node{pos: pos, value: etf.ImproperList{Elems: elems, Tail: tail.value}, kids: append(kids, tail)}, nil
}

// binary parses <<E, ...>> where each element is a string, an integer or a
// character, optionally negated.
func (p *parser) binary() (*node, error) {
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	out := []byte{}
	for !p.isPunct(">>") {
		t := p.tok
		neg := false
		if p.isPunct("-") || p.isPunct("+") {
			neg = t.text == "-"
			if err := p.advance(); err != nil {
				return nil, err
			}
			t = p.tok
			if t.kind != tInt && t.kind != tChar {
				return nil, p.unexpected("an integer in the binary")
			}
		}
		switch t.kind {
		case tString:
			n, err := p.strings()
			if err != nil {
				return nil, err
			}
			for _, c := range n.value.(etf.List) {
				out = append(out, byte(c.(int64)))
			}
		case tInt, tChar:
			out = append(out, lowByte(numberValue(&t, neg)))
			if err := p.advance(); err != nil {
				return nil, err
			}
		default:
			return nil, p.unexpected("a string or an integer in the binary")
		}
		if p.isPunct(":") || p.isPunct("/") || p.isPunct("::") {
			return nil, p.lex.errAt(p.tok.pos, ErrUnsupported, "binary size and type specifiers are not supported")
		}
		if !p.isPunct(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isPunct(">>") {
			return nil, p.unexpected("an element after ','")
		}
	}
	if err := p.expect(">>", "',' or '>>'"); err != nil {
		return nil, err
	}
	return &node{pos: pos, value: out}, nil
}

// lowByte returns the low 8 bits of an integer (two's complement), which
// is what <<N>> stores.
func lowByte(v any) byte {
	switch x := v.(type) {
	case int64:
		return byte(x)
	case *big.Int:
		m := new(big.Int).And(x, big.NewInt(255)) // And on negatives uses two's complement
		return byte(m.Int64())
	}
	return 0
}

// mapTerm parses #{K => V, ...}.
func (p *parser) mapTerm(d int) (*node, error) {
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.expect("{", "'{' after '#' (records are not allowed)"); err != nil {
		return nil, err
	}
	var kids []*node
	m := etf.Map{}
	seen := keySet{}
	for !p.isPunct("}") {
		k, err := p.term(d + 1)
		if err != nil {
			return nil, err
		}
		if p.isPunct(":=") {
			return nil, p.lex.errAt(p.tok.pos, ErrSyntax, "':=' is not allowed in a map term, use '=>'")
		}
		if err := p.expect("=>", "'=>'"); err != nil {
			return nil, err
		}
		v, err := p.term(d + 1)
		if err != nil {
			return nil, err
		}
		if seen.dup(k.value, m) {
			return nil, p.lex.errAt(k.pos, ErrSyntax, "duplicate map key")
		}
		m = append(m, etf.Pair{Key: k.value, Value: v.value})
		kids = append(kids, k, v)
		if !p.isPunct(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isPunct("}") {
			return nil, p.unexpected("a key after ','")
		}
	}
	if err := p.expect("}", "',' or '}'"); err != nil {
		return nil, err
	}
	return &node{pos: pos, value: m, kids: kids}, nil
}

// keySet detects repeated map keys by their encoding, in linear time.
type keySet map[string]struct{}

// dup reports whether k is already a key of m, and records it.
func (s keySet) dup(k any, m etf.Map) bool {
	enc, err := etf.Encode(k, etf.EncodeOptions{})
	if err != nil {
		_, found := m.Get(k)
		return found
	}
	if _, found := s[string(enc)]; found {
		return true
	}
	s[string(enc)] = struct{}{}
	// Keys holding maps encode in source order; compare those as terms.
	if _, hasMap := k.(etf.Map); hasMap {
		_, found := m.Get(k)
		return found
	}
	return false
}
