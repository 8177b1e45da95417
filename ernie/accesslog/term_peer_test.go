//go:build peers

package accesslog

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"imperial/node/etf"
)

// erlPrint is an escript body: for each hex-encoded term on stdin it prints
// two hex lines, the term formatted as Ernie's access logger does
// (~1000000000.0.0p, then cut to 150 characters plus "...") and the full
// ~p rendering.
const erlPrint = `
main(_) ->
    io:setopts(standard_io, [binary]),
    loop().
loop() ->
    case io:get_line(standard_io, "") of
        eof -> ok;
        Line ->
            T = binary_to_term(binary:decode_hex(string:trim(Line))),
            Raw = lists:flatten(io_lib:fwrite("~1000000000.0.0p", [T])),
            Act = case string:len(Raw) > 150 of
                true ->
                    A = re:replace(Raw, "\n", "", [global, {return, list}]),
                    [string:sub_string(A, 1, 150), "..."];
                false -> Raw
            end,
            io:put_chars(standard_io, [binary:encode_hex(iolist_to_binary(Act)), $\n,
                                       binary:encode_hex(list_to_binary(Raw)), $\n]),
            loop()
    end.
`

// TestPeerAppendTermMatchesErlang prints fixed and random terms with
// AppendRequest/AppendTerm and with OTP's io_lib, and compares the bytes.
func TestPeerAppendTermMatchesErlang(t *testing.T) {
	escript, err := exec.LookPath("escript")
	if err != nil {
		t.Fatalf("escript not found: run rel/scripts/install-peers.sh")
	}
	terms := fixedTerms()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		terms = append(terms, randomTerm(r, 0))
	}
	var in bytes.Buffer
	for _, term := range terms {
		b, err := etf.Encode(term, etf.EncodeOptions{})
		if err != nil {
			t.Fatalf("encode %#v: %v", term, err)
		}
		in.WriteString(hex.EncodeToString(b))
		in.WriteByte('\n')
	}
	script := filepath.Join(t.TempDir(), "print.escript")
	if err := os.WriteFile(script, []byte(erlPrint), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(escript, script)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("escript: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	failures := 0
	for i, term := range terms {
		var lines [2][]byte
		for j := range lines {
			if !sc.Scan() {
				t.Fatalf("escript output ended at term %d", i)
			}
			lines[j], err = hex.DecodeString(strings.TrimSpace(sc.Text()))
			if err != nil {
				t.Fatal(err)
			}
		}
		gotReq, gotFull := AppendRequest(nil, term), AppendTerm(nil, term)
		if !bytes.Equal(gotReq, lines[0]) || !bytes.Equal(gotFull, lines[1]) {
			failures++
			t.Errorf("term %d %#v:\n go  %q\n erl %q\n go full  %q\n erl full %q", i, term, gotReq, lines[0], gotFull, lines[1])
			if failures > 10 {
				t.FailNow()
			}
		}
	}
}

func fixedTerms() []any {
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	long := make(etf.List, 300)
	for i := range long {
		long[i] = int64('a' + i%26)
	}
	return []any{
		etf.Tuple{etf.Atom("call"), etf.Atom("tnat"), etf.Atom("add"), etf.List{int64(1), int64(2)}},
		etf.Atom("Foo"), etf.Atom("a b"), etf.Atom(""), etf.Atom("and"), etf.Atom("maybe"), etf.Atom(`it's\`),
		etf.Atom("ßé"), etf.Atom("Éa"), etf.Atom("a€"), etf.Atom("a\x01\x7f\u0085\n"), etf.Atom("node@host_1"),
		big1, etf.List{}, etf.Tuple{}, []byte{}, []byte("é"), []byte("a\"\\\n"), []byte{1, 2, 255},
		etf.List{int64('a'), int64(127)}, etf.List{int64(0xA0), int64(0xFF), int64(0x1b)},
		etf.BitString{Bytes: []byte{1, 0xA0}, Bits: 3}, etf.BitString{Bytes: []byte{0x80}, Bits: 1},
		etf.ImproperList{Elems: []any{int64(97)}, Tail: etf.Atom("c")},
		etf.Map{{Key: etf.Atom("a"), Value: int64(1)}},
		etf.Export{Module: "lists", Function: "map", Arity: 2},
		long, etf.Tuple{etf.Atom("call"), etf.Atom("m"), etf.Atom("f"), etf.List{[]byte(strings.Repeat("x", 200))}},
		1.0, 0.1, 100.0, 1000.0, 12345.678, -2.5, 0.0, math.Copysign(0, -1), 1e-5, 0.0001, 1.5e-4,
		9007199254740991.0, 9007199254740992.0, 1e21, 5e-324, math.MaxFloat64, 123456.0, 1234567.0, 0.001,
	}
}

var atomPool = []string{"ok", "error", "call", "Foo", "a b", "x@y", "_x", "é", "Zé", "a'b", "a\\b",
	"with\nnewline", "€uro", "tab\there", "and", "fun", "nil", "true", "Ab_1", "aÀ", "a\u00a0"}

func randomTerm(r *rand.Rand, depth int) any {
	n := 12
	if depth > 3 {
		n = 7
	}
	switch r.IntN(n) {
	case 0:
		return etf.Atom(atomPool[r.IntN(len(atomPool))])
	case 1:
		return int64(r.IntN(600) - 100)
	case 2:
		return r.Int64() - r.Int64()
	case 3:
		return new(big.Int).Lsh(big.NewInt(r.Int64N(1000)+1), uint(64+r.IntN(100)))
	case 4:
		for {
			f := math.Float64frombits(r.Uint64())
			if r.IntN(2) == 0 {
				f = float64(r.IntN(100000)) / math.Pow(10, float64(r.IntN(12))) * math.Pow(10, float64(r.IntN(30)))
			}
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	case 5:
		b := make([]byte, r.IntN(30))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = byte(' ' + r.IntN(95))
			}
		}
		return b
	case 6:
		l := make(etf.List, r.IntN(20))
		for i := range l {
			switch r.IntN(8) {
			case 0:
				l[i] = int64(r.IntN(300))
			case 1:
				l[i] = int64([]int{'\n', '\t', 0x1b, 0x7f, 0xa0, 0xff, 0x9f}[r.IntN(7)])
			default:
				l[i] = int64(' ' + r.IntN(95))
			}
		}
		return l
	case 7, 8:
		l := make(etf.List, r.IntN(5))
		for i := range l {
			l[i] = randomTerm(r, depth+1)
		}
		return l
	case 9:
		t := make(etf.Tuple, r.IntN(5))
		for i := range t {
			t[i] = randomTerm(r, depth+1)
		}
		return t
	case 10:
		elems := make([]any, 1+r.IntN(3))
		for i := range elems {
			elems[i] = randomTerm(r, depth+1)
		}
		return etf.ImproperList{Elems: elems, Tail: etf.Atom("t")}
	default:
		return etf.BitString{Bytes: []byte{byte(r.IntN(256)), byte(r.IntN(256))}, Bits: uint8(1 + r.IntN(7))}
	}
}
