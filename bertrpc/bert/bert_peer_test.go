//go:build peers

package bert_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"math/big"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

// ruby returns the path of a ruby that can load the bert gem (Debian
// ruby + ruby-bert).
func ruby(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ruby")
	if err != nil {
		t.Fatalf("ruby not found: run rel/scripts/install-peers.sh")
	}
	if out, err := exec.Command(bin, "-e", "require 'bert'").CombinedOutput(); err != nil {
		t.Fatalf("ruby bert gem not found (%v: %s): run rel/scripts/install-peers.sh", err, out)
	}
	return bin
}

func bigPow2(n uint, neg bool) *big.Int {
	b := new(big.Int).Lsh(big.NewInt(1), n)
	if neg {
		b.Neg(b)
	}
	return b
}

// TestRubyEncodesGoDecodes: Ruby's BERT.encode output decodes in Go to the
// expected values.
func TestRubyEncodesGoDecodes(t *testing.T) {
	out, err := exec.Command(ruby(t), "testdata/ruby_encode.rb").Output()
	if err != nil {
		t.Fatalf("ruby_encode.rb: %v", err)
	}
	local := func(sec, usec int64) time.Time { return time.Unix(sec, usec*1000).UTC() }
	want := map[string]any{
		"nil":         nil,
		"true":        true,
		"false":       false,
		"small":       int64(7),
		"minus_one":   int64(-1),
		"int27":       int64(1 << 27),
		"big70":       bigPow2(70, false),
		"neg_big70":   bigPow2(70, true),
		"float":       1.5,
		"neg_float":   -0.1,
		"huge_float":  1.0e300,
		"pi":          3.14159,
		"string":      []byte("abc"),
		"utf8":        []byte("é"),
		"binary":      []byte{0, 0xff},
		"symbol":      etf.Atom("sym"),
		"array":       etf.List{int64(1), etf.List{int64(2), etf.List{int64(3)}}},
		"empty_array": etf.List{},
		"tuple":       etf.Tuple{etf.Atom("a"), int64(1)},
		"empty_tuple": etf.Tuple{},
		"hash":        bert.Dict{{Key: []byte("a"), Value: int64(1)}, {Key: etf.Atom("b"), Value: etf.List{nil, true}}},
		"empty_hash":  bert.Dict{},
		"time":        local(1255295581, 446228),
		"regex":       bert.Regex{Source: "^c(a)t$", Options: []string{"caseless", "extended"}},
		"regex_m":     bert.Regex{Source: "x", Options: []string{"multiline"}},
		"nested": etf.List{
			bert.Dict{{Key: etf.Atom("k"), Value: etf.List{etf.Tuple{etf.Atom("x"), nil}, local(0, 1)}}},
			false,
		},
		"call":  etf.Tuple{etf.Atom("call"), etf.Atom("ext"), etf.Atom("add"), etf.List{int64(1), int64(2)}},
		"error": etf.Tuple{etf.Atom("error"), etf.Tuple{etf.Atom("user"), int64(0), []byte("RuntimeError"), []byte("abandon hope!"), etf.List{[]byte("a.rb:1")}}},
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, hx, _ := strings.Cut(sc.Text(), " ")
		exp, ok := want[name]
		if !ok {
			t.Errorf("%s: no Go expectation", name)
			continue
		}
		seen++
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := bert.Decode(b)
		if err != nil {
			t.Errorf("%s: Decode(%x): %v", name, b, err)
			continue
		}
		if !bert.Equal(got, exp) || !sameGo(got, exp) {
			t.Errorf("%s: Decode = %#v, want %#v", name, got, exp)
		}
	}
	if seen != len(want) {
		t.Fatalf("ruby printed %d of %d cases", seen, len(want))
	}
	// The request and error forms parse as BERT-RPC messages too.
	for _, name := range []string{"call", "error"} {
		if _, err := bert.ParseMessage(want[name]); err != nil {
			t.Errorf("ParseMessage(%s): %v", name, err)
		}
	}
}

// sameGo adds the Go type checks bert.Equal cannot see (nil vs {bert,nil}
// tuples, Dict vs tuple, time zone).
func sameGo(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	case nil:
		return got == nil
	case bool:
		return got == w
	case bert.Dict:
		g, ok := got.(bert.Dict)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameGo(g[i].Key, w[i].Key) || !sameGo(g[i].Value, w[i].Value) {
				return false
			}
		}
		return true
	case etf.List:
		g, ok := got.(etf.List)
		return ok && sameAll(g, w)
	case etf.Tuple:
		g, ok := got.(etf.Tuple)
		return ok && sameAll(g, w)
	}
	return bert.Equal(got, want)
}

func sameAll(g, w []any) bool {
	if len(g) != len(w) {
		return false
	}
	for i := range w {
		if !sameGo(g[i], w[i]) {
			return false
		}
	}
	return true
}

// TestGoEncodesRubyDecodes: what Go's bert.Encode writes, Ruby's BERT.decode
// (the pure-Ruby decoder Debian ships) reads back as the expected values.
func TestGoEncodesRubyDecodes(t *testing.T) {
	cases := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"true", true},
		{"false", false},
		{"atom_true", etf.Atom("true")},
		{"small", 7},
		{"minus_one", -1},
		{"int32", int32(1<<31 - 1)},
		{"big70", bigPow2(70, false)},
		{"neg_big70", bigPow2(70, true)},
		{"float", 1.5},
		{"neg_float", -0.1},
		{"huge_float", 1.0e300},
		{"tiny_float", 5e-324},
		{"pi", 3.14159},
		{"string", "abc"},
		{"utf8", "é"},
		{"binary", []byte{0, 0xff}},
		{"symbol", etf.Atom("sym")},
		{"bytelist", []int{1, 2, 300}},
		{"string_ext", etf.List{int64('h'), int64('i')}},
		{"array", []any{1, []any{2, []any{3}}}},
		{"empty_array", etf.List{}},
		{"tuple", etf.Tuple{etf.Atom("a"), 1}},
		{"empty_tuple", etf.Tuple{}},
		{"hash", map[any]any{"a": 1, etf.Atom("b"): []any{nil, true}}},
		{"empty_hash", bert.Dict{}},
		{"time", time.Date(2009, 10, 11, 14, 13, 1, 446228000, time.FixedZone("PDT", -7*3600))},
		{"time_before_1970", time.Unix(-1, 5000)},
		{"regex", bert.Regex{Source: "^c(a)t$", Options: []string{"caseless", "extended"}}},
		{"regex_m", bert.Regex{Source: "x", Options: []string{"multiline"}}},
		{"nested", []any{bert.Dict{{Key: etf.Atom("k"), Value: []any{etf.Tuple{etf.Atom("x"), nil}, time.Unix(0, 1000)}}}, false}},
		{"call", bert.Request{Kind: bert.Call, Module: "ext", Function: "add", Args: []any{1, 2}}},
		{"info", bert.Info{Command: "priority", Args: []any{etf.Atom("low")}}},
		{"reply", bert.Reply{}},
		{"noreply", bert.NoReply{}},
		{"error", &bert.Error{Type: "user", Class: "RuntimeError", Detail: "abandon hope!", Backtrace: []string{"a.rb:1"}}},
	}
	var in strings.Builder
	for _, c := range cases {
		b, err := bert.Encode(c.v)
		if err != nil {
			t.Fatalf("%s: Encode: %v", c.name, err)
		}
		in.WriteString(c.name + " " + hex.EncodeToString(b) + "\n")
	}
	cmd := exec.Command(ruby(t), "testdata/ruby_decode.rb")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ruby_decode.rb: %v\n%s", err, out)
	}
	ok := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "ok ") {
			ok++
			continue
		}
		t.Error(line)
	}
	if ok != len(cases) {
		t.Fatalf("ruby accepted %d of %d cases", ok, len(cases))
	}
}

// TestGoRegexpToRuby: a Go *regexp.Regexp goes out as a BERT regex with its
// source text.
func TestGoRegexpToRuby(t *testing.T) {
	b, err := bert.Encode(regexp.MustCompile(`a+b`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ruby(t), "-e", `require 'bert'; r = BERT.decode([ARGV[0]].pack('H*')); print r.source, " ", r.options`, hex.EncodeToString(b)).Output()
	if err != nil {
		t.Fatalf("ruby: %v", err)
	}
	if string(out) != "a+b 0" {
		t.Fatalf("ruby decoded %q", out)
	}
}
