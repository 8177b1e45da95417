package config

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the reader. Each is checked before the corresponding value is
// built.
const (
	// MaxFileSize is the largest config accepted, in bytes.
	MaxFileSize = 1 << 20
	// MaxDepth is the deepest nesting of tuples, lists, binaries and maps.
	MaxDepth = 64
	// MaxAtomChars is OTP's atom length limit, in characters.
	MaxAtomChars = 255
	// MaxDigits is the longest digit sequence of one number literal (Erlang
	// has no limit; this one keeps big-integer parsing cheap).
	MaxDigits = 1024
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tAtom           // text: the atom's name (escapes resolved)
	tVar            // text: the variable's name
	tString         // str: the characters
	tChar           // num: the code point
	tInt            // num or big
	tFloat          // flt
	tPunct          // text: "{", "<<", "=>", ...
	tDot            // the "." that ends a term
)

// token is one lexical token.
type token struct {
	kind tokKind
	pos  Pos
	text string
	str  []rune
	num  int64
	big  *big.Int // tInt beyond int64; nil otherwise
	flt  float64
}

// describe names the token for error messages.
func (t *token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tAtom:
		return "atom " + quoteAtomText(t.text)
	case tVar:
		return "variable " + t.text
	case tString:
		return "string"
	case tChar:
		return "character literal"
	case tInt:
		return "integer"
	case tFloat:
		return "float"
	case tDot:
		return "'.'"
	default:
		return "'" + t.text + "'"
	}
}

// lexer turns config text into tokens. It tracks line and column (in
// runes) of the next character.
type lexer struct {
	src  []byte
	file string
	off  int
	line int
	col  int
}

func newLexer(src []byte, file string) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1}
}

// errAt builds a *PosError at p.
func (l *lexer) errAt(p Pos, sentinel error, format string, args ...any) *PosError {
	return &PosError{File: l.file, Line: p.Line, Col: p.Col, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) pos() Pos { return Pos{Line: l.line, Col: l.col} }

// peek returns the rune at the current offset plus k runes, without moving.
// It returns -1 at end of input and utf8.RuneError for invalid UTF-8.
func (l *lexer) peekAt(k int) rune {
	off := l.off
	for {
		if off >= len(l.src) {
			return -1
		}
		r, n := utf8.DecodeRune(l.src[off:])
		if k == 0 {
			return r
		}
		k--
		off += n
	}
}

func (l *lexer) peek() rune { return l.peekAt(0) }

// advance consumes one rune and returns it (-1 at end of input).
func (l *lexer) advance() rune {
	if l.off >= len(l.src) {
		return -1
	}
	r, n := utf8.DecodeRune(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

// checkRune reports invalid UTF-8 at the current position.
func (l *lexer) checkRune(r rune) error {
	if r == utf8.RuneError {
		if _, n := utf8.DecodeRune(l.src[l.off:]); n <= 1 {
			return l.errAt(l.pos(), ErrSyntax, "invalid UTF-8")
		}
	}
	return nil
}

// isSpace reports Erlang whitespace: control characters, space and
// U+0080..U+00A0 (erl_scan's definition).
func isSpace(r rune) bool {
	return (r >= 0 && r <= ' ') || (r >= 0x80 && r <= 0xA0)
}

// isLower reports characters that start an unquoted atom.
func isLower(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 0xDF && r <= 0xFF && r != 0xF7)
}

// isUpper reports characters that start a variable (besides '_').
func isUpper(r rune) bool {
	return (r >= 'A' && r <= 'Z') || (r >= 0xC0 && r <= 0xDE && r != 0xD7)
}

// isNameChar reports characters allowed after the first in atoms and
// variables.
func isNameChar(r rune) bool {
	return isLower(r) || isUpper(r) || (r >= '0' && r <= '9') || r == '_' || r == '@'
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// digitVal returns the value of r as a digit in base 36, or 99.
func digitVal(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'z':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'Z':
		return int(r-'A') + 10
	}
	return 99
}

// isReserved reports whether s is an Erlang reserved word: the words
// erl_scan turns into keywords (OTP 25 with no features enabled), which
// cannot be unquoted atoms.
func isReserved(s string) bool {
	switch s {
	case "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr",
		"bxor", "case", "catch", "cond", "div", "end", "fun", "if", "let", "not",
		"of", "or", "orelse", "receive", "rem", "try", "when", "xor":
		return true
	}
	return false
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	r := l.peek()
	switch {
	case r < 0:
		return token{kind: tEOF, pos: p}, nil
	case isDigit(r):
		return l.number(p)
	case isLower(r):
		return l.name(p, tAtom)
	case isUpper(r) || r == '_':
		return l.name(p, tVar)
	case r == '\'':
		l.advance()
		chars, err := l.quoted(p, '\'', "atom")
		if err != nil {
			return token{}, err
		}
		if len(chars) > MaxAtomChars {
			return token{}, l.errAt(p, ErrTooLarge, "atom longer than %d characters", MaxAtomChars)
		}
		return token{kind: tAtom, pos: p, text: string(chars)}, nil
	case r == '"':
		l.advance()
		chars, err := l.quoted(p, '"', "string")
		if err != nil {
			return token{}, err
		}
		return token{kind: tString, pos: p, str: chars}, nil
	case r == '$':
		l.advance()
		c := l.peek()
		if c < 0 {
			return token{}, l.errAt(p, ErrSyntax, "unexpected end of file after '$'")
		}
		if err := l.checkRune(c); err != nil {
			return token{}, err
		}
		l.advance()
		if c == '\\' {
			v, err := l.escape(p)
			if err != nil {
				return token{}, err
			}
			c = v
		}
		return token{kind: tChar, pos: p, num: int64(c)}, nil
	case r == '.':
		l.advance()
		n := l.peek()
		if n < 0 || n == '%' || isSpace(n) {
			return token{kind: tDot, pos: p}, nil
		}
		return token{kind: tPunct, pos: p, text: "."}, nil
	}
	if err := l.checkRune(r); err != nil {
		return token{}, err
	}
	for _, two := range [...]string{"<<", ">>", "=>", ":=", "||", "->", "::"} {
		if strings.HasPrefix(string(l.src[l.off:min(l.off+2, len(l.src))]), two) {
			l.advance()
			l.advance()
			return token{kind: tPunct, pos: p, text: two}, nil
		}
	}
	if r < utf8.RuneSelf && strings.ContainsRune("{}[]()|,<>=#+-/:;*!?^&~`\\@", r) {
		l.advance()
		return token{kind: tPunct, pos: p, text: string(r)}, nil
	}
	return token{}, l.errAt(p, ErrSyntax, "illegal character %q", r)
}

// skipSpace skips whitespace and % comments.
func (l *lexer) skipSpace() error {
	for {
		r := l.peek()
		switch {
		case r == '%':
			for r = l.peek(); r >= 0 && r != '\n'; r = l.peek() {
				if err := l.checkRune(r); err != nil {
					return err
				}
				l.advance()
			}
		case r >= 0 && isSpace(r):
			l.advance()
		default:
			return nil
		}
	}
}

// name scans an unquoted atom or a variable.
func (l *lexer) name(p Pos, kind tokKind) (token, error) {
	start := l.off
	n := 0
	for r := l.peek(); r >= 0 && isNameChar(r); r = l.peek() {
		l.advance()
		n++
		if n > MaxAtomChars {
			return token{}, l.errAt(p, ErrTooLarge, "name longer than %d characters", MaxAtomChars)
		}
	}
	text := string(l.src[start:l.off])
	if kind == tAtom && isReserved(text) {
		return token{}, l.errAt(p, ErrSyntax, "reserved word %s cannot be an atom (quote it: '%s')", text, text)
	}
	return token{kind: kind, pos: p, text: text}, nil
}

// quoted scans the body of a quoted atom or string after the opening quote
// and consumes the closing quote.
func (l *lexer) quoted(p Pos, q rune, what string) ([]rune, error) {
	var out []rune
	for {
		r := l.peek()
		if r < 0 {
			return nil, l.errAt(p, ErrSyntax, "unterminated %s", what)
		}
		if err := l.checkRune(r); err != nil {
			return nil, err
		}
		l.advance()
		switch r {
		case q:
			return out, nil
		case '\\':
			v, err := l.escape(p)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		default:
			out = append(out, r)
		}
		if q == '\'' && len(out) > MaxAtomChars {
			return nil, l.errAt(p, ErrTooLarge, "atom longer than %d characters", MaxAtomChars)
		}
	}
}

// isUnicode reports the code points erl_scan accepts from \x{...}.
func isUnicode(v int64) bool {
	return (v >= 0 && v < 0xD800) || (v > 0xDFFF && v < 0xFFFE) || (v > 0xFFFF && v <= 0x10FFFF)
}

// escape scans an escape sequence after the backslash. p is the position
// of the literal it belongs to.
func (l *lexer) escape(p Pos) (rune, error) {
	ep := l.pos()
	r := l.peek()
	switch {
	case r < 0:
		return 0, l.errAt(p, ErrSyntax, "unexpected end of file in escape sequence")
	case r >= '0' && r <= '7':
		v := 0
		for i := 0; i < 3; i++ {
			d := l.peek()
			if d < '0' || d > '7' {
				break
			}
			l.advance()
			v = v*8 + int(d-'0')
		}
		return rune(v), nil
	case r == 'x':
		l.advance()
		if l.peek() == '{' {
			l.advance()
			var v int64
			nd := 0
			for {
				d := l.peek()
				if d == '}' {
					l.advance()
					break
				}
				if d < 0 || digitVal(d) >= 16 {
					return 0, l.errAt(ep, ErrSyntax, "bad \\x{...} escape")
				}
				l.advance()
				v = v*16 + int64(digitVal(d))
				if v > 0x10FFFF {
					return 0, l.errAt(ep, ErrSyntax, "bad \\x{...} escape: not a Unicode code point")
				}
				nd++
			}
			if nd == 0 || !isUnicode(v) {
				return 0, l.errAt(ep, ErrSyntax, "bad \\x{...} escape: not a Unicode code point")
			}
			return rune(v), nil
		}
		h1, h2 := l.peekAt(0), l.peekAt(1)
		if h1 < 0 || h2 < 0 || digitVal(h1) >= 16 || digitVal(h2) >= 16 {
			return 0, l.errAt(ep, ErrSyntax, "bad \\x escape: want two hex digits or \\x{...}")
		}
		l.advance()
		l.advance()
		return rune(digitVal(h1)*16 + digitVal(h2)), nil
	case r == '^':
		l.advance()
		c := l.peek()
		if c < 0 {
			return 0, l.errAt(p, ErrSyntax, "unexpected end of file in escape sequence")
		}
		if err := l.checkRune(c); err != nil {
			return 0, err
		}
		l.advance()
		if c == '\n' {
			return '\n', nil
		}
		return c & 31, nil
	}
	if err := l.checkRune(r); err != nil {
		return 0, err
	}
	l.advance()
	switch r {
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'v':
		return '\v', nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'e':
		return 0x1B, nil
	case 's':
		return ' ', nil
	case 'd':
		return 0x7F, nil
	}
	return r, nil
}

// digits scans digits of base with single underscores between digits, and
// returns them without underscores.
func (l *lexer) digits(p Pos, base int, sb *strings.Builder) error {
	n := 0
	for {
		r := l.peek()
		if r >= 0 && digitVal(r) < base {
			l.advance()
			sb.WriteRune(r)
			n++
			if n > MaxDigits {
				return l.errAt(p, ErrTooLarge, "number longer than %d digits", MaxDigits)
			}
			continue
		}
		if r == '_' && n > 0 {
			if d := l.peekAt(1); d >= 0 && digitVal(d) < base {
				l.advance()
				continue
			}
		}
		return nil
	}
}

// number scans an integer (decimal or Base#Digits) or a float.
func (l *lexer) number(p Pos) (token, error) {
	var sb strings.Builder
	if err := l.digits(p, 10, &sb); err != nil {
		return token{}, err
	}
	switch r := l.peek(); {
	case r == '#':
		b, err := strconv.Atoi(sb.String())
		if err != nil || b < 2 || b > 36 {
			return token{}, l.errAt(p, ErrSyntax, "illegal base '%s'", sb.String())
		}
		l.advance()
		var db strings.Builder
		if err := l.digits(p, b, &db); err != nil {
			return token{}, err
		}
		if db.Len() == 0 {
			return token{}, l.errAt(p, ErrSyntax, "no digits after '%d#'", b)
		}
		return intToken(p, db.String(), b), nil
	case r == '.' && isDigit(l.peekAt(1)):
		l.advance()
		sb.WriteByte('.')
		if err := l.digits(p, 10, &sb); err != nil {
			return token{}, err
		}
		if e := l.peek(); e == 'e' || e == 'E' {
			s, d := l.peekAt(1), l.peekAt(1)
			if s == '+' || s == '-' {
				d = l.peekAt(2)
			}
			if isDigit(d) {
				l.advance()
				sb.WriteByte('e')
				if s == '+' || s == '-' {
					l.advance()
					sb.WriteRune(s)
				}
				if err := l.digits(p, 10, &sb); err != nil {
					return token{}, err
				}
			}
		}
		f, err := strconv.ParseFloat(sb.String(), 64)
		if err != nil {
			return token{}, l.errAt(p, ErrSyntax, "illegal float %s", sb.String())
		}
		return token{kind: tFloat, pos: p, flt: f}, nil
	}
	return intToken(p, sb.String(), 10), nil
}

// intToken converts digits (valid for base, no underscores) to an integer
// token, int64 when it fits.
func intToken(p Pos, digits string, base int) token {
	if v, err := strconv.ParseInt(digits, base, 64); err == nil {
		return token{kind: tInt, pos: p, num: v}
	}
	b, _ := new(big.Int).SetString(digits, base) // digits are valid for base
	return token{kind: tInt, pos: p, big: b}
}

// quoteAtomText renders an atom name as Erlang would write it (quoted when
// needed), for error messages.
func quoteAtomText(s string) string {
	if s != "" && !isReserved(s) {
		ok := true
		for i, r := range s {
			if (i == 0 && !isLower(r)) || !isNameChar(r) {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
