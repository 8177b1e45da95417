//go:build peers

package config

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"imperial/node/etf"
)

// erlConsult is an escript: for each file path on stdin it prints
// "ok <hex of term_to_binary(Terms)>" or "error".
const erlConsult = `
main(_) -> loop().
loop() ->
    case io:get_line(standard_io, "") of
        eof -> ok;
        Line ->
            case catch file:consult(string:trim(Line)) of
                {ok, Ts} -> io:format("ok ~s~n", [binary:encode_hex(term_to_binary(Ts))]);
                _ -> io:format("error~n")
            end,
            loop()
    end.
`

var peerInputs = []string{
	seedConfig,
	"", "% only a comment\n", "a.", "a", "a. b", "'A b'. 'a\\x{20AC}'. ''.", "true. maybe. else. ßa.",
	"0. 42. -7. +7. - 7. 1_000_000. 16#FF. 2#1010. 36#Zz. -16#10. 8#1_7.",
	"9223372036854775808. -9223372036854775809. 16#FFFFFFFFFFFFFFFFFF.",
	`$a. $ . $\n. $\\. $\'. $\x41. $\x{20AC}. $\101. $\^a. $\e. $\s. $\d. $€. -$a.`,
	"1.5. -0.25. 1.0e3. 1.5E-3. 2.5e+2. 1_0.0_1. 1.0e-400.",
	`"". "abc". "a\"b\\c\n\t". "é€". "\x{1F600}". "\777". "a" "b" "" "c".`,
	"{}. {a}. {a, {b, c}, [d]}.",
	"[]. [a]. [a, b]. [a | b]. [a, b | c]. [a | [b]]. [a | []]. [a | \"bc\"]. [a | [b | c]].",
	`<<>>. <<"ab">>. <<1, 2, 255>>. <<256, -1>>. <<$a, "b" "c">>. <<"é">>.`,
	"#{}. #{a => 1, \"k\" => [b]}. # {x => #{}}.",
	"a.b.", "[X].", "{_}.", "{a, and}.", "\"abc", "'abc", "{a, b", "[a,].", "[|a].", "[a|b|c].",
	"-a.", "- -1.", "37#1.", "1#1.", "16#.", "2#_1.", "1__0.", "1.0e400.", "1.5e.", "1.e5.", `"\xg".`,
	`"\x{D800}".`, `"\x{}".`, "$", `"\`, "<0.1.0>.", "fun a/1.", "#r{}.", "#{a := 1}.", "#{a => 1,}.",
	"<<a>>.", "<<1.5>>.", "<<1,>>.", "<<1", "a.%x", "[a,\r\n b].\r\n", "{a}.{b}.", "1.a.", "[1,2|3].",
	"$\\^\n.", "'\\^?'.", "\"\\^@\".", "{'a\\\nb'}.", "[$\\\n].", "a\u00a0.", "<< >>.", "[ ].", "{ }.", "# { }.",
	"+1.5. -1.0e-3. + $a.", "'\\377\\400'.", "<<\"\\x{100}\">>.", "{1,2}.\n\n\n[3].", strings.Repeat("a", 255) + ".",
	strings.Repeat("a", 256) + ".", "'" + strings.Repeat("é", 255) + "'.",
}

func TestPeerConsultMatchesErlang(t *testing.T) {
	escript, err := exec.LookPath("escript")
	if err != nil {
		t.Fatalf("escript not found: run rel/scripts/install-peers.sh")
	}
	inputs := append([]string(nil), peerInputs...)
	r := rand.New(rand.NewPCG(7, 9))
	alphabet := []byte("ab AZ_09.,|[]{}<>#=$\"'\\-+%\n/:#xe")
	for i := 0; i < 3000; i++ {
		b := []byte(peerInputs[r.IntN(len(peerInputs))])
		for m := 1 + r.IntN(3); m > 0; m-- {
			switch p := r.IntN(len(b) + 1); r.IntN(3) {
			case 0: // insert
				b = append(b[:p], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[p:]...)...)
			case 1: // delete
				if p < len(b) {
					b = append(b[:p], b[p+1:]...)
				}
			default: // replace
				if p < len(b) {
					b[p] = alphabet[r.IntN(len(alphabet))]
				}
			}
		}
		inputs = append(inputs, string(b))
	}

	dir := t.TempDir()
	var list bytes.Buffer
	for i, in := range inputs {
		p := filepath.Join(dir, fmt.Sprintf("%04d.cfg", i))
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		list.WriteString(p + "\n")
	}
	script := filepath.Join(dir, "consult.escript")
	if err := os.WriteFile(script, []byte(erlConsult), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(escript, script)
	cmd.Stdin = &list
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("escript: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	agree, failures := 0, 0
	for i, in := range inputs {
		if !sc.Scan() {
			t.Fatalf("escript output ended at input %d", i)
		}
		erlLine := sc.Text()
		terms, goErr := Consult([]byte(in), "peer")
		switch {
		case goErr != nil && (errors.Is(goErr, ErrUnsupported) || errors.Is(goErr, ErrTooDeep) ||
			strings.Contains(goErr.Error(), "duplicate map key")):
			continue // deliberate differences (documented on Consult)
		case erlLine == "error" && goErr != nil:
			agree++
			continue
		case erlLine == "error":
			failures++
			t.Errorf("input %d %q: Erlang rejects it, Consult gives %#v", i, in, terms)
		case goErr != nil:
			failures++
			t.Errorf("input %d %q: Erlang accepts it (%s), Consult: %v", i, in, erlLine, goErr)
		default:
			raw, err := hex.DecodeString(strings.TrimPrefix(erlLine, "ok "))
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := etf.Decode(raw, etf.DecodeOptions{})
			if err != nil {
				t.Fatalf("decode Erlang's answer for %q: %v", in, err)
			}
			got := etf.List{}
			for _, term := range terms {
				got = append(got, term.Value)
			}
			if !etf.Equal(got, want) {
				failures++
				t.Errorf("input %d %q:\n Consult %#v\n Erlang  %#v", i, in, got, want)
			} else {
				agree++
			}
		}
		if failures > 15 {
			t.FailNow()
		}
	}
	t.Logf("%d of %d inputs agree with file:consult", agree, len(inputs))
}
