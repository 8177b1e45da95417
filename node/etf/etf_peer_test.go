//go:build peers

package etf_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"imperial/node/etf"
	"imperial/rel/peers"
)

// roundTripEscript prints every term of erlang-dist.md §11 item 21 (plus a
// few more) as term_to_binary hex, in the canonical minor_version 2 form and
// in OTP's default form. It then reads back the bytes the Go side encoded
// and checks binary_to_term(GoBytes) =:= Original for each, in the same VM,
// so the pids, refs, ports and closures it made are the very same terms.
//
// Protocol (one line each):
//
//	erl → go: "T <i> <canonical hex> <default hex>" ..., then "END"
//	go → erl: "G <i> <hex>" (canonical encode) and "B <i> <hex>" (BERT mode) ..., then "END"
//	erl → go: "OK <kind> <i>" or "FAIL <kind> <i> <reason>" ..., then "DONE"
const roundTripEscript = `%%! -noshell
-mode(compile).

main(_) ->
    X = self(), Y = make_ref(),
    Closure = fun(Z) -> {X, Y, Z} end,
    Port = hd(erlang:ports()),
    Terms = [0, 255, 256, -1, 1 bsl 31, -(1 bsl 31), 1 bsl 64, -(1 bsl 64), 1 bsl 2100, -(1 bsl 2100), 1.5,
             '', 'ünï', list_to_atom(lists:duplicate(255, $a)), list_to_atom(lists:duplicate(100, 16#1F600)),
             list_to_atom(lists:duplicate(255, 16#1F600)),
             "abc", [a|b], [1,2|3], {}, list_to_tuple(lists:seq(1, 300)),
             #{{1,2} => x, [1] => y, <<"k">> => z}, maps:from_list([{K, K * K} || K <- lists:seq(1, 40)]),
             <<1:3>>, <<1,2:4>>, self(), make_ref(), alias(), Port, fun lists:map/2, Closure,
             fun() -> ok end,
             -0.0, 0.1, [], #{}, <<>>, true, false, [200], lists:seq(1, 70000), lists:duplicate(65536, 1),
             {'$gen_call', {self(), [alias | make_ref()]}, {get, <<"key">>, 42}},
             #{a => #{b => [1.0e300, -2.5e-300]}, {c} => [<<0:7>>]},
             [{[a|b], #{}} | tail]],
    lists:foreach(fun({I, T}) ->
                      io:format("T ~b ~s ~s~n", [I, binary:encode_hex(term_to_binary(T, [{minor_version, 2}])),
                                                 binary:encode_hex(term_to_binary(T))])
                  end, lists:zip(lists:seq(1, length(Terms)), Terms)),
    io:format("END~n"),
    check(list_to_tuple(Terms)).

check(Terms) ->
    case io:get_line(standard_io, "") of
        "END\n" ->
            io:format("DONE~n");
        eof ->
            ok;
        Line ->
            [Kind, I, Hex] = string:split(string:trim(Line), " ", all),
            N = list_to_integer(I),
            Want = element(N, Terms),
            case catch binary_to_term(binary:decode_hex(list_to_binary(Hex))) of
                V when V =:= Want -> io:format("OK ~s ~b~n", [Kind, N]);
                Other -> io:format("FAIL ~s ~b ~0p~n", [Kind, N, Other])
            end,
            check(Terms)
    end.
`

func TestPeerErlRoundTrip(t *testing.T) {
	escript := peers.Require(t, "escript")
	script := filepath.Join(t.TempDir(), "etf_roundtrip.escript")
	if err := os.WriteFile(script, []byte(roundTripEscript), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(escript, script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("escript: %v\n%s", err, stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 64<<20)
	line := func() string {
		if !sc.Scan() {
			t.Fatalf("escript output ended: %v\n%s", sc.Err(), stderr.String())
		}
		return sc.Text()
	}

	var reply bytes.Buffer
	terms := 0
	for l := line(); l != "END"; l = line() {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "T" {
			t.Fatalf("unexpected line %q\n%s", l, stderr.String())
		}
		i, _ := strconv.Atoi(f[1])
		canon, err1 := hex.DecodeString(f[2])
		dflt, err2 := hex.DecodeString(f[3])
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		terms++
		v, n, err := etf.Decode(canon, etf.DecodeOptions{})
		if err != nil || n != len(canon) {
			t.Errorf("term %d: decode %X: %v (n=%d)", i, head(canon), err, n)
			continue
		}
		// OTP 25's default form (ATOM_EXT atoms) is the same term.
		v2, _, err := etf.Decode(dflt, etf.DecodeOptions{})
		if err != nil || !etf.Equal(v, v2) {
			t.Errorf("term %d: default form %X decodes to a different term: %v", i, head(dflt), err)
		}
		enc, err := etf.Encode(v, etf.EncodeOptions{})
		if err != nil {
			t.Errorf("term %d: encode: %v", i, err)
			continue
		}
		if !bytes.Equal(enc, canon) {
			t.Errorf("term %d: re-encoding differs from erl's bytes\n got %X\nwant %X", i, head(enc), head(canon))
		}
		fmt.Fprintf(&reply, "G %d %X\n", i, enc)
		bert, err := etf.Encode(v, etf.EncodeOptions{BERT: true})
		switch {
		case err == nil:
			fmt.Fprintf(&reply, "B %d %X\n", i, bert)
		case errors.Is(err, etf.ErrBadAtom): // emoji atoms are not Latin-1
		default:
			t.Errorf("term %d: BERT encode: %v", i, err)
		}
	}
	if terms < 30 {
		t.Fatalf("only %d terms from the escript", terms)
	}
	reply.WriteString("END\n")
	go func() { // the escript answers while we write; never block on a full pipe
		io.Copy(stdin, &reply)
	}()
	oks := map[string]int{}
	for l := line(); l != "DONE"; l = line() {
		f := strings.SplitN(l, " ", 4)
		if f[0] != "OK" {
			t.Errorf("erl: %s", l)
			continue
		}
		oks[f[1]]++
	}
	if oks["G"] != terms || oks["B"] < terms-2 {
		t.Errorf("erl accepted %d canonical and %d BERT encodings of %d terms", oks["G"], oks["B"], terms)
	}
}

func head(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// TestPeerRubyBERT checks that BERT mode output is readable by Ruby's bert
// 1.1.6 (Debian ruby-bert), which knows only ATOM_EXT and FLOAT_EXT.
func TestPeerRubyBERT(t *testing.T) {
	ruby := peers.Require(t, "ruby")
	term := etf.Tuple{etf.Atom("reply"), etf.List{1.5, -0.25, etf.Atom("ok"), []byte("bin"), int64(300), int64(-1 << 40), etf.List{}},
		etf.Tuple{etf.Atom("bert"), etf.Atom("true")}}
	b, err := etf.Encode(term, etf.EncodeOptions{BERT: true})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ruby, "-e", `require "bert"; v = BERT.decode(STDIN.read.b); print v.inspect`)
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ruby: %v\n%s", err, out)
	}
	want := `t[:reply, [1.5, -0.25, :ok, "bin", 300, -1099511627776, []], true]`
	if string(out) != want {
		t.Fatalf("ruby decoded\n%s\nwant\n%s", out, want)
	}
}
