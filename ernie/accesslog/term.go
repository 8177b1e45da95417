package accesslog

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"imperial/node/etf"
)

// maxPrintDepth bounds nesting while printing (a cyclic []any built in Go
// would otherwise recurse forever); deeper parts print as "...".
const maxPrintDepth = 1 << 12

// AppendTerm appends term as Erlang's io_lib:format("~p") prints it with an
// unlimited line width (OTP 25, default latin-1 printable range), so on one
// line:
//
//   - lists of printable latin-1 characters as "...", other lists as [a,b|c];
//   - binaries whose bytes are all printable as <<"...">>, others as
//     <<1,2,3>>, bitstrings with a trailing Value:Bits;
//   - atoms quoted when they must be ('Foo', 'a b', 'and'), with characters
//     above 255 as \x{...};
//   - floats in Erlang's shortest round-trip form (1.0, 0.1, 1.0e3);
//   - tuples {a,b} and maps #{k => v} (pairs in the Map's order; Erlang
//     sorts small maps by key).
//
// Every character written is in 0..255 and is written as one byte, as
// Ernie's latin-1 log file receives it: bytes of a binary appear as they
// are, so UTF-8 text in a binary stays UTF-8. Go strings print as binaries
// (the BERT convention), Go bools as atoms. Pids, refs, ports and funs,
// which never come from a BERT client, print as #Pid<node.id.serial>,
// #Ref<node.a.b.c>, #Port<node.id> and #Fun<>; values outside the etf model
// print as #Go<type>.
func AppendTerm(buf []byte, term any) []byte {
	return appendTerm(buf, term, math.MaxInt)
}

// printer appends terms until the buffer reaches stop bytes, after which
// the output is cut short (the caller truncates anyway).
type printer struct {
	buf  []byte
	stop int
}

func appendTerm(buf []byte, term any, stop int) []byte {
	p := printer{buf: buf, stop: stop}
	p.term(term, 0)
	return p.buf
}

func (p *printer) full() bool { return len(p.buf) >= p.stop }

func (p *printer) s(s string) { p.buf = append(p.buf, s...) }

func (p *printer) term(t any, depth int) {
	if p.full() {
		return
	}
	if depth > maxPrintDepth {
		p.s("...")
		return
	}
	switch x := t.(type) {
	case etf.Atom:
		p.atom(string(x))
	case bool:
		if x {
			p.s("true")
		} else {
			p.s("false")
		}
	case int64:
		p.buf = strconv.AppendInt(p.buf, x, 10)
	case int:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case int32:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case int16:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case int8:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case uint64:
		p.buf = strconv.AppendUint(p.buf, x, 10)
	case uint:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case uint32:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case uint16:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case uint8:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case *big.Int:
		if x == nil {
			p.s("#Go<nil>")
			return
		}
		p.buf = x.Append(p.buf, 10)
	case big.Int:
		p.buf = x.Append(p.buf, 10)
	case float64:
		p.buf = appendFloat(p.buf, x)
	case float32:
		p.buf = appendFloat(p.buf, float64(x))
	case []byte:
		p.binary(x)
	case string:
		p.binaryString(x)
	case etf.BitString:
		p.bitString(x)
	case etf.List:
		p.list([]any(x), nil, depth)
	case []any:
		p.list(x, nil, depth)
	case etf.ImproperList:
		p.list(x.Elems, x.Tail, depth)
	case etf.Tuple:
		p.s("{")
		for i, e := range x {
			if i > 0 {
				p.s(",")
			}
			p.term(e, depth+1)
			if p.full() {
				return
			}
		}
		p.s("}")
	case etf.Map:
		p.s("#{")
		for i, kv := range x {
			if i > 0 {
				p.s(",")
			}
			p.term(kv.Key, depth+1)
			p.s(" => ")
			p.term(kv.Value, depth+1)
			if p.full() {
				return
			}
		}
		p.s("}")
	case etf.Pid:
		p.s("#Pid<")
		p.s(string(x.Node))
		p.buf = append(p.buf, '.')
		p.buf = strconv.AppendUint(p.buf, uint64(x.ID), 10)
		p.buf = append(p.buf, '.')
		p.buf = strconv.AppendUint(p.buf, uint64(x.Serial), 10)
		p.s(">")
	case etf.Ref:
		p.s("#Ref<")
		p.s(string(x.Node))
		for _, id := range x.IDs {
			p.buf = append(p.buf, '.')
			p.buf = strconv.AppendUint(p.buf, uint64(id), 10)
		}
		p.s(">")
	case etf.Port:
		p.s("#Port<")
		p.s(string(x.Node))
		p.buf = append(p.buf, '.')
		p.buf = strconv.AppendUint(p.buf, x.ID, 10)
		p.s(">")
	case etf.Export:
		p.s("fun ")
		p.atom(string(x.Module))
		p.s(":")
		p.atom(string(x.Function))
		p.s("/")
		p.buf = strconv.AppendUint(p.buf, uint64(x.Arity), 10)
	case etf.Fun:
		p.s("#Fun<>")
	case nil:
		p.s("#Go<nil>")
	default:
		p.buf = fmt.Appendf(p.buf, "#Go<%T>", t)
	}
}

// list prints elems (and tail, when not nil) as a string when it is a
// proper, non-empty list of printable latin-1 characters, else as [a,b|t].
func (p *printer) list(elems []any, tail any, depth int) {
	if tail == nil && len(elems) > 0 && printableList(elems) {
		p.buf = append(p.buf, '"')
		for _, e := range elems {
			c, _ := charValue(e)
			p.char(c, '"', false)
			if p.full() {
				return
			}
		}
		p.buf = append(p.buf, '"')
		return
	}
	p.s("[")
	for i, e := range elems {
		if i > 0 {
			p.s(",")
		}
		p.term(e, depth+1)
		if p.full() {
			return
		}
	}
	if tail != nil {
		p.s("|")
		p.term(tail, depth+1)
	}
	p.s("]")
}

// charValue returns an integer list element as a character code.
func charValue(e any) (int64, bool) {
	switch c := e.(type) {
	case int64:
		return c, true
	case int:
		return int64(c), true
	case uint8:
		return int64(c), true
	case int32:
		return int64(c), true
	}
	return 0, false
}

// printableLatin1 reports the characters io_lib counts as printable in the
// latin-1 range.
func printableLatin1(c int64) bool {
	switch {
	case c >= ' ' && c <= '~', c >= 0xA0 && c <= 0xFF:
		return true
	}
	switch c {
	case '\n', '\r', '\t', '\v', '\b', '\f', 0x1B:
		return true
	}
	return false
}

func printableList(elems []any) bool {
	for _, e := range elems {
		c, ok := charValue(e)
		if !ok || !printableLatin1(c) {
			return false
		}
	}
	return true
}

// char appends one character of a quoted string or atom (io_lib's
// string_char): escapes for the quote, backslash and control characters,
// latin-1 characters as themselves, and (atoms only) characters above 255
// as \x{HEX}.
func (p *printer) char(c int64, q byte, atom bool) {
	switch {
	case c == int64(q):
		p.buf = append(p.buf, '\\', q)
	case c == '\\':
		p.buf = append(p.buf, '\\', '\\')
	case c >= ' ' && c <= '~', c >= 0xA0 && c <= 0xFF:
		p.buf = append(p.buf, byte(c))
	case c > 0xFF && atom:
		p.s(`\x{`)
		p.s(strings.ToUpper(strconv.FormatInt(c, 16)))
		p.s("}")
	case c == '\n':
		p.s(`\n`)
	case c == '\r':
		p.s(`\r`)
	case c == '\t':
		p.s(`\t`)
	case c == '\v':
		p.s(`\v`)
	case c == '\b':
		p.s(`\b`)
	case c == '\f':
		p.s(`\f`)
	case c == 0x1B:
		p.s(`\e`)
	case c == 0x7F:
		p.s(`\d`)
	case c >= 0 && c < 0xA0:
		p.buf = append(p.buf, '\\', byte('0'+(c>>6)), byte('0'+(c>>3)&7), byte('0'+c&7))
	default: // not reachable for printable lists and binaries
		p.buf = strconv.AppendInt(p.buf, c, 10)
	}
}

// atom appends an atom, quoted when Erlang would quote it.
func (p *printer) atom(name string) {
	if !needsQuote(name) {
		for _, r := range name {
			p.buf = append(p.buf, byte(r)) // all runes are latin-1 here
		}
		return
	}
	p.buf = append(p.buf, '\'')
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && n <= 1 {
			r = rune(name[i]) // not UTF-8: take the byte as a latin-1 character
			n = 1
		}
		i += n
		p.char(int64(r), '\'', true)
	}
	p.buf = append(p.buf, '\'')
}

// needsQuote reports whether an atom must be quoted (io_lib:quote_atom).
func needsQuote(name string) bool {
	if name == "" || isReserved(name) || !utf8.ValidString(name) {
		return true
	}
	for i, r := range name {
		if i == 0 && !isLower(r) {
			return true
		}
		if !isNameChar(r) {
			return true
		}
	}
	return false
}

func isLower(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 0xDF && r <= 0xFF && r != 0xF7)
}

func isNameChar(r rune) bool {
	return isLower(r) || (r >= 'A' && r <= 'Z') || (r >= 0xC0 && r <= 0xDE && r != 0xD7) ||
		(r >= '0' && r <= '9') || r == '_' || r == '@'
}

// isReserved reports Erlang's reserved words (OTP 25, no features
// enabled), which print quoted.
func isReserved(s string) bool {
	switch s {
	case "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr",
		"bxor", "case", "catch", "cond", "div", "end", "fun", "if", "let", "not",
		"of", "or", "orelse", "receive", "rem", "try", "when", "xor":
		return true
	}
	return false
}

// binary appends <<"...">> when every byte is printable, else <<1,2,3>>.
func (p *printer) binary(b []byte) {
	if len(b) == 0 {
		p.s("<<>>")
		return
	}
	printable := true
	for _, c := range b {
		if !printableLatin1(int64(c)) {
			printable = false
			break
		}
	}
	if printable {
		p.s(`<<"`)
		for _, c := range b {
			p.char(int64(c), '"', false)
			if p.full() {
				return
			}
		}
		p.s(`">>`)
		return
	}
	p.s("<<")
	for i, c := range b {
		if i > 0 {
			p.buf = append(p.buf, ',')
		}
		p.buf = strconv.AppendUint(p.buf, uint64(c), 10)
		if p.full() {
			return
		}
	}
	p.s(">>")
}

// binaryString prints a Go string as the binary it encodes to.
func (p *printer) binaryString(s string) {
	if len(s) > p.stop-len(p.buf) {
		s = s[:max(p.stop-len(p.buf), 0)] // the rest would be cut anyway
	}
	p.binary([]byte(s))
}

// bitString appends <<B1,B2,Value:Bits>>.
func (p *printer) bitString(b etf.BitString) {
	if len(b.Bytes) == 0 {
		p.s("<<>>")
		return
	}
	if b.Bits == 0 || b.Bits >= 8 {
		p.binary(b.Bytes)
		return
	}
	p.s("<<")
	last := len(b.Bytes) - 1
	for i, c := range b.Bytes[:last] {
		if i > 0 {
			p.buf = append(p.buf, ',')
		}
		p.buf = strconv.AppendUint(p.buf, uint64(c), 10)
		if p.full() {
			return
		}
	}
	if last > 0 {
		p.buf = append(p.buf, ',')
	}
	p.buf = strconv.AppendUint(p.buf, uint64(b.Bytes[last]>>(8-b.Bits)), 10)
	p.buf = append(p.buf, ':')
	p.buf = strconv.AppendUint(p.buf, uint64(b.Bits), 10)
	p.s(">>")
}

// twoTo53 is 2^53: from there on Erlang prints floats in scientific form.
const twoTo53 = 1 << 53

// appendFloat appends f as float_to_list(F, [short]) (OTP 25): the shortest
// digits that read back as f, written in decimal or scientific form,
// whichever is shorter (decimal on a tie), and always scientific when
// |f| >= 2^53.
func appendFloat(buf []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) { // not Erlang terms
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		buf = append(buf, '-')
	}
	mant, exp := e, 0
	for i, c := range e {
		if c == 'e' {
			mant = e[:i]
			x, _ := strconv.Atoi(string(e[i+1:]))
			exp = x
			break
		}
	}
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	// Scientific: d.ddd e X (at least one digit after the point).
	frac := digits[1:]
	if len(frac) == 0 {
		frac = []byte{'0'}
	}
	expText := strconv.Itoa(exp)
	sciLen := 1 + 1 + len(frac) + 1 + len(expText)
	// Decimal length.
	var decLen int
	switch {
	case exp < 0:
		decLen = 2 + (-exp - 1) + len(digits) // 0.000ddd
	case exp+1 >= len(digits):
		decLen = exp + 1 + 2 // ddd000.0
	default:
		decLen = len(digits) + 1
	}
	if math.Abs(f) >= twoTo53 || sciLen < decLen {
		buf = append(buf, digits[0], '.')
		buf = append(buf, frac...)
		buf = append(buf, 'e')
		return append(buf, expText...)
	}
	switch {
	case exp < 0:
		buf = append(buf, '0', '.')
		for i := 0; i < -exp-1; i++ {
			buf = append(buf, '0')
		}
		return append(buf, digits...)
	case exp+1 >= len(digits):
		buf = append(buf, digits...)
		for i := len(digits); i < exp+1; i++ {
			buf = append(buf, '0')
		}
		return append(buf, '.', '0')
	}
	buf = append(buf, digits[:exp+1]...)
	buf = append(buf, '.')
	return append(buf, digits[exp+1:]...)
}
