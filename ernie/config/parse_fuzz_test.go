package config

import (
	"errors"
	"testing"
	"unicode/utf8"

	"imperial/ernie/accesslog"
	"imperial/node/etf"
)

// printTerm writes term as Erlang source text: accesslog's ~p printer emits
// latin-1 characters one byte each, so they are re-encoded as UTF-8, the
// encoding Consult reads.
func printTerm(term any) []byte {
	raw := accesslog.AppendTerm(nil, term)
	out := make([]byte, 0, len(raw)+8)
	for _, b := range raw {
		out = utf8.AppendRune(out, rune(b))
	}
	return append(out, ".\n"...)
}

// checkRoundTrip prints every term and reads it back.
func checkRoundTrip(t *testing.T, terms []Term) {
	t.Helper()
	for _, term := range terms {
		text := printTerm(term.Value)
		back, err := Consult(text, "printed")
		if err != nil {
			t.Fatalf("printed term %q does not parse: %v", text, err)
		}
		if len(back) != 1 || !etf.Equal(back[0].Value, term.Value) {
			t.Fatalf("round trip of %#v through %q gave %#v", term.Value, text, back)
		}
	}
}

func TestConsultRoundTrip(t *testing.T) {
	srcs := []string{
		seedConfig,
		`'A b'. 'a\x{20AC}'. 'a\200\237'. 'ÿß'. ''. 'and'. "é\x7f". <<"é", 0, 200>>. <<>>.`,
		`[-1, 16#FFFFFFFFFFFFFFFFFFFF, -16#FFFFFFFFFFFFFFFFFFFF, 1.0e300, -0.0, 5.0e-324, 0.1, 1.0e3].`,
		`{[a | b], [a, "bc" | {}], #{[1] => #{}, "k" => <<"v">>}, "\n\t\e\d", [$a, 256, 0]}.`,
	}
	for _, src := range srcs {
		terms, err := Consult([]byte(src), "src")
		if err != nil {
			t.Fatalf("Consult(%q): %v", src, err)
		}
		checkRoundTrip(t, terms)
	}
}

// FuzzConsult feeds arbitrary text to Consult and Parse: no panic, errors
// are positioned, and every term that parses prints back to itself.
func FuzzConsult(f *testing.F) {
	f.Add([]byte(seedConfig))
	f.Add([]byte(`[{module, a}, {type, external}, {command, "w"}, {count, 0}].`))
	f.Add([]byte(`#{a => [1 | 2], <<"x", 1>> => 'Q\x{41}'}. $\^a. 16#fF_0. -1.5e-3. "a" "b".`))
	f.Add([]byte("[{module, a}, {type, native}].\n[{module, a}, {type, native}].\n"))
	f.Add([]byte("% comment\n{'\\x{10FFFF}', \"\\777\", <<-1, 256>>}."))
	f.Fuzz(func(t *testing.T, src []byte) {
		terms, err := Consult(src, "fuzz")
		if err != nil {
			var pe *PosError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("error without position: %v", err)
			}
		} else {
			checkRoundTrip(t, terms)
		}
		specs, err := Parse(src, "fuzz")
		if err == nil {
			for _, s := range specs {
				if s.Module == "" || (s.Type == External && (s.Count < 1 || s.Command == "")) {
					t.Fatalf("invalid spec accepted: %+v", s)
				}
			}
		} else if specs != nil {
			t.Fatalf("specs with an error")
		}
	})
}
