package config

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"imperial/node/etf"
)

// str returns the etf form of an Erlang string literal.
func str(s string) etf.List {
	l := etf.List{}
	for _, r := range s {
		l = append(l, int64(r))
	}
	return l
}

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

func consultValues(t *testing.T, src string) []any {
	t.Helper()
	terms, err := Consult([]byte(src), "t.config")
	if err != nil {
		t.Fatalf("Consult(%q): %v", src, err)
	}
	out := make([]any, len(terms))
	for i, term := range terms {
		out[i] = term.Value
	}
	return out
}

func TestConsult(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []any
	}{
		{"empty", "", nil},
		{"only comments", "% nothing\n  %% here\n", nil},
		{"atoms", "a. 'A b'. node@host. a_B9. ''. true. maybe. ßa.", []any{
			etf.Atom("a"), etf.Atom("A b"), etf.Atom("node@host"), etf.Atom("a_B9"),
			etf.Atom(""), etf.Atom("true"), etf.Atom("maybe"), etf.Atom("ßa")}},
		{"integers", "0. 42. -7. +7. - 7. 1_000_000. 16#FF. 16#ff. 2#1010. 36#Zz. -16#10. 8#1_7.", []any{
			int64(0), int64(42), int64(-7), int64(7), int64(-7), int64(1000000), int64(255), int64(255),
			int64(10), int64(35*36 + 35), int64(-16), int64(15)}},
		{"big integers", "9223372036854775807. 9223372036854775808. -9223372036854775808. -9223372036854775809. 16#FFFFFFFFFFFFFFFFFF.", []any{
			int64(9223372036854775807), bigInt("9223372036854775808"), int64(-9223372036854775808),
			bigInt("-9223372036854775809"), bigInt("4722366482869645213695")}},
		{"chars", `$a. $ . $\n. $\\. $\'. $\x41. $\x{20AC}. $\101. $\^a. $\e. $\s. $\d. $€. -$a.`, []any{
			int64('a'), int64(' '), int64('\n'), int64('\\'), int64('\''), int64('A'), int64(0x20AC),
			int64('A'), int64(1), int64(27), int64(' '), int64(127), int64(0x20AC), int64(-'a')}},
		{"floats", "1.5. -0.25. 1.0e3. 1.5E-3. 2.5e+2. 1_0.0_1. 1.0e-400.", []any{
			1.5, -0.25, 1000.0, 0.0015, 250.0, 10.01, 0.0}},
		{"strings", `"". "abc". "a\"b\\c\n\t". "é€". "\x{1F600}". "\777". "a" "b" "" "c".`, []any{
			etf.List{}, str("abc"), str("a\"b\\c\n\t"), str("é€"), str("\U0001F600"), etf.List{int64(0o777)},
			str("abc")}},
		{"string with raw newline", "\"a\nb\".", []any{str("a\nb")}},
		{"tuples", "{}. {a}. {a, {b, c}, [d]}.", []any{
			etf.Tuple{}, etf.Tuple{etf.Atom("a")},
			etf.Tuple{etf.Atom("a"), etf.Tuple{etf.Atom("b"), etf.Atom("c")}, etf.List{etf.Atom("d")}}}},
		{"lists", "[]. [a]. [a, b]. [a | b]. [a, b | c]. [a | [b]]. [a | []]. [a | \"bc\"]. [a | [b | c]].", []any{
			etf.List{}, etf.List{etf.Atom("a")}, etf.List{etf.Atom("a"), etf.Atom("b")},
			etf.ImproperList{Elems: []any{etf.Atom("a")}, Tail: etf.Atom("b")},
			etf.ImproperList{Elems: []any{etf.Atom("a"), etf.Atom("b")}, Tail: etf.Atom("c")},
			etf.List{etf.Atom("a"), etf.Atom("b")}, etf.List{etf.Atom("a")},
			etf.List{etf.Atom("a"), int64('b'), int64('c')},
			etf.ImproperList{Elems: []any{etf.Atom("a"), etf.Atom("b")}, Tail: etf.Atom("c")}}},
		{"binaries", `<<>>. <<"ab">>. <<1, 2, 255>>. <<256, -1>>. <<$a, "b" "c">>. <<"é">>. << "x" , 1 >>.`, []any{
			[]byte{}, []byte("ab"), []byte{1, 2, 255}, []byte{0, 255}, []byte("abc"), []byte{0xE9}, []byte{'x', 1}}},
		{"maps", "#{}. #{a => 1, \"k\" => [b]}. # {x => #{}}.", []any{
			etf.Map{}, etf.Map{{Key: etf.Atom("a"), Value: int64(1)}, {Key: str("k"), Value: etf.List{etf.Atom("b")}}},
			etf.Map{{Key: etf.Atom("x"), Value: etf.Map{}}}}},
		{"comments and spacing", "% head\n[ {module , ext} % the name\n ,{count,2}\n] .% tail", []any{
			etf.List{etf.Tuple{etf.Atom("module"), etf.Atom("ext")}, etf.Tuple{etf.Atom("count"), int64(2)}}}},
		{"dot before eof", "a.", []any{etf.Atom("a")}},
		{"dot before comment", "a.%x", []any{etf.Atom("a")}},
		{"latin-1 whitespace", "a.\u00a0b.\u0085", []any{etf.Atom("a"), etf.Atom("b")}},
		{"crlf", "[a,\r\n b].\r\n", []any{etf.List{etf.Atom("a"), etf.Atom("b")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := consultValues(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d terms %#v, want %d %#v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !etf.Equal(got[i], tt.want[i]) {
					t.Errorf("term %d = %#v, want %#v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestConsultModel pins the Go types of the model (etf.Equal would accept
// some mixes, such as a []any for an etf.List).
func TestConsultModel(t *testing.T) {
	v := consultValues(t, `[[], "", <<>>, 1, 1.0, a, {}, [a|b], #{}].`)[0].(etf.List)
	want := []string{"etf.List", "etf.List", "[]uint8", "int64", "float64", "etf.Atom", "etf.Tuple", "etf.ImproperList", "etf.Map"}
	for i, w := range want {
		if got := fmt.Sprintf("%T", v[i]); got != w {
			t.Errorf("element %d has type %s, want %s", i, got, w)
		}
	}
	if v[0].(etf.List) == nil || v[1].(etf.List) == nil || v[2].([]byte) == nil {
		t.Errorf("empty list/string/binary must be non-nil")
	}
}

func TestConsultPositions(t *testing.T) {
	terms, err := Consult([]byte("a.\n  {b,\n c}.\n\t[x]."), "f")
	if err != nil {
		t.Fatal(err)
	}
	want := []Pos{{1, 1}, {2, 3}, {4, 2}}
	for i, term := range terms {
		if term.Pos != want[i] {
			t.Errorf("term %d at %v, want %v", i, term.Pos, want[i])
		}
	}
}

func TestConsultErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		sentinel  error
		line, col int
		msg       string
	}{
		{"missing dot", "a", ErrSyntax, 1, 2, "unexpected end of file, want '.'"},
		{"missing dot between terms", "a b.", ErrSyntax, 1, 3, "unexpected atom b"},
		{"dot not followed by space", "a.b.", ErrSyntax, 1, 2, "unexpected '.'"},
		{"variable", "[X].", ErrSyntax, 1, 2, "variable X"},
		{"underscore variable", "{_}.", ErrSyntax, 1, 2, "variable _"},
		{"reserved word", "{a, and}.", ErrSyntax, 1, 5, "reserved word and"},
		{"unterminated string", "\n  \"abc", ErrSyntax, 2, 3, "unterminated string"},
		{"unterminated atom", "'abc", ErrSyntax, 1, 1, "unterminated atom"},
		{"unclosed tuple", "{a, b", ErrSyntax, 1, 6, "unexpected end of file, want ',' or '}'"},
		{"unclosed list", "[a.", ErrSyntax, 1, 3, "want ',', '|' or ']'"},
		{"trailing comma", "[a,].", ErrSyntax, 1, 4, "unexpected ']'"},
		{"bare bar", "[|a].", ErrSyntax, 1, 2, "unexpected '|'"},
		{"double tail", "[a|b|c].", ErrSyntax, 1, 5, "unexpected '|'"},
		{"minus atom", "-a.", ErrSyntax, 1, 2, "a number after '-'"},
		{"double minus", "- -1.", ErrSyntax, 1, 3, "a number after '-'"},
		{"bad base", "37#1.", ErrSyntax, 1, 1, "illegal base"},
		{"base one", "1#1.", ErrSyntax, 1, 1, "illegal base"},
		{"no based digits", "16#.", ErrSyntax, 1, 1, "no digits"},
		{"leading underscore digit", "2#_1.", ErrSyntax, 1, 1, "no digits"},
		{"float overflow", "1.0e400.", ErrSyntax, 1, 1, "illegal float"},
		{"bad hex escape", `"\xg".`, ErrSyntax, 1, 3, "bad \\x escape"},
		{"surrogate escape", `"\x{D800}".`, ErrSyntax, 1, 3, "not a Unicode code point"},
		{"huge escape", `"\x{FFFFFFFFFFFFFFFFFFFF}".`, ErrSyntax, 1, 3, "not a Unicode code point"},
		{"empty hex escape", `"\x{}".`, ErrSyntax, 1, 3, "not a Unicode code point"},
		{"dollar at eof", "$", ErrSyntax, 1, 1, "after '$'"},
		{"escape at eof", `"\`, ErrSyntax, 1, 1, "escape sequence"},
		{"illegal character", "{a, \u00ab}.", ErrSyntax, 1, 5, "illegal character"},
		{"invalid utf-8", "[\"a\xff\"].", ErrSyntax, 1, 4, "invalid UTF-8"},
		{"invalid utf-8 in comment", "% \xc3\n", ErrSyntax, 1, 3, "invalid UTF-8"},
		{"pid syntax", "<0.1.0>.", ErrSyntax, 1, 1, "unexpected '<'"},
		{"fun", "fun a/1.", ErrSyntax, 1, 1, "reserved word fun"},
		{"record", "#r{}.", ErrSyntax, 1, 2, "records are not allowed"},
		{"map :=", "#{a := 1}.", ErrSyntax, 1, 5, "':='"},
		{"map duplicate key", "#{a => 1, a => 2}.", ErrSyntax, 1, 11, "duplicate map key"},
		{"map trailing comma", "#{a => 1,}.", ErrSyntax, 1, 10, "a key after ','"},
		{"binary size", "<<1:8>>.", ErrUnsupported, 1, 4, "size and type specifiers"},
		{"binary type", `<<"a"/utf8>>.`, ErrUnsupported, 1, 6, "size and type specifiers"},
		{"binary atom", "<<a>>.", ErrSyntax, 1, 3, "a string or an integer"},
		{"binary float", "<<1.5>>.", ErrSyntax, 1, 3, "a string or an integer"},
		{"binary trailing comma", "<<1,>>.", ErrSyntax, 1, 5, "an element after ','"},
		{"binary unclosed", "<<1", ErrSyntax, 1, 4, "want ',' or '>>'"},
		{"atom too long", strings.Repeat("a", 256) + ".", ErrTooLarge, 1, 1, "longer than 255"},
		{"quoted atom too long", "'" + strings.Repeat("é", 256) + "'.", ErrTooLarge, 1, 1, "longer than 255"},
		{"too many digits", strings.Repeat("1", MaxDigits+1) + ".", ErrTooLarge, 1, 1, "digits"},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + ".", ErrTooDeep, 1, MaxDepth + 1, "deeper than"},
		{"too large", "a." + strings.Repeat(" ", MaxFileSize), ErrTooLarge, 1, 1, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Consult([]byte(tt.src), "f.cfg")
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			var pe *PosError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v is not a *PosError", err)
			}
			if pe.File != "f.cfg" || pe.Line != tt.line || pe.Col != tt.col {
				t.Errorf("at %s:%d:%d, want f.cfg:%d:%d (%v)", pe.File, pe.Line, pe.Col, tt.line, tt.col, err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", pe.Msg, tt.msg)
			}
			if want := "f.cfg:" + itoa(tt.line) + ":" + itoa(tt.col) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// TestConsultPrefixes cuts a config at every byte: each prefix either
// fails or yields a prefix of the full result, and a cut right after a
// term's dot yields exactly the terms before it.
func TestConsultPrefixes(t *testing.T) {
	src := []byte(seedConfig)
	full, err := Consult(src, "seed")
	if err != nil {
		t.Fatal(err)
	}
	complete := 0
	for i := 0; i <= len(src); i++ {
		got, err := Consult(src[:i], "seed")
		if err != nil {
			var pe *PosError
			if !errors.As(err, &pe) {
				t.Fatalf("cut %d: error %v is not a *PosError", i, err)
			}
			continue
		}
		if len(got) > len(full) {
			t.Fatalf("cut %d: %d terms, more than the whole file", i, len(got))
		}
		for j := range got {
			if !etf.Equal(got[j].Value, full[j].Value) || got[j].Pos != full[j].Pos {
				// (A cut inside a float such as 1.5 could legitimately
				// parse as 1; the seed has no floats.)
				t.Fatalf("cut %d: term %d = %#v, want %#v", i, j, got[j].Value, full[j].Value)
			}
		}
		if len(got) == len(full) {
			complete++
		}
	}
	if complete == 0 {
		t.Fatal("no prefix parsed completely")
	}
}
