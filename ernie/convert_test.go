package ernie_test

import (
	"testing"

	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/node/etf"
)

func bertTuple(kind string) etf.Tuple { return etf.Tuple{etf.Atom("bert"), etf.Atom(kind)} }

func TestToErlang(t *testing.T) {
	dict := etf.Tuple{etf.Atom("bert"), etf.Atom("dict"), etf.List{}}
	in := etf.List{bertTuple("nil"), bertTuple("true"), etf.Tuple{int64(1), bertTuple("false")}, dict, []byte("x"), etf.List{}}
	orig := etf.Equal(in, in)
	_ = orig
	before, _ := etf.Encode(in, etf.EncodeOptions{})
	got := ernie.ToErlang(in)
	want := etf.List{etf.List{}, etf.Atom("true"), etf.Tuple{int64(1), etf.Atom("false")}, dict, []byte("x"), etf.List{}}
	if !etf.Equal(got, want) {
		t.Fatalf("ToErlang = %#v\nwant %#v", got, want)
	}
	after, _ := etf.Encode(in, etf.EncodeOptions{})
	if string(before) != string(after) {
		t.Fatal("ToErlang modified its input")
	}
	plain := etf.List{int64(1), etf.Tuple{etf.Atom("a")}}
	if got := ernie.ToErlang(plain).(etf.List); &got[0] != &plain[0] {
		t.Fatal("ToErlang copied a term it did not change")
	}
}

func TestFromErlang(t *testing.T) {
	in := etf.Tuple{etf.List{}, etf.Atom("true"), etf.Atom("false"), etf.List{int64(97), int64(98)}, etf.Atom("ok"), 1.5}
	got := ernie.FromErlang(in)
	b, err := bert.Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	back, err := bert.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := etf.Tuple{nil, true, false, etf.List{int64(97), int64(98)}, etf.Atom("ok"), 1.5}
	if !bert.Equal(back, want) {
		t.Fatalf("round trip %#v, want %#v", back, want)
	}
	// FLOAT_EXT (99), not NEW_FLOAT_EXT, so Ruby's bert can read it.
	f, _ := bert.Encode(ernie.FromErlang(1.5))
	if f[1] != 99 {
		t.Fatalf("float tag %d, want 99", f[1])
	}
}

func TestToGo(t *testing.T) {
	args := etf.List{bertTuple("nil"), etf.Tuple{etf.Atom("bert"), etf.Atom("dict"), etf.List{etf.Tuple{etf.Atom("a"), int64(1)}}}}
	before, _ := etf.Encode(args, etf.EncodeOptions{})
	got, err := ernie.ToGo(args)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != nil {
		t.Fatalf("nil → %#v", got[0])
	}
	if d, ok := got[1].(bert.Dict); !ok || len(d) != 1 {
		t.Fatalf("dict → %#v", got[1])
	}
	after, _ := etf.Encode(args, etf.EncodeOptions{})
	if string(before) != string(after) {
		t.Fatal("ToGo modified its input")
	}
	if _, err := ernie.ToGo(etf.List{etf.Tuple{etf.Atom("bert"), etf.Atom("bogus")}}); err == nil {
		t.Fatal("unknown complex type accepted")
	}
}

func TestErlangError(t *testing.T) {
	stack := etf.List{
		etf.Tuple{etf.Atom("tnat"), etf.Atom("boom"), int64(0), etf.List{
			etf.Tuple{etf.Atom("file"), etf.List{int64('t'), int64('.'), int64('e'), int64('r'), int64('l')}},
			etf.Tuple{etf.Atom("line"), int64(12)}}},
	}
	e := ernie.ErlangError("error", etf.Tuple{etf.Atom("badmatch"), int64(2)}, stack)
	if e.Type != "user" || e.Class != "RuntimeError" || e.Detail != "{badmatch,2}" {
		t.Fatalf("error %+v", e)
	}
	if len(e.Backtrace) != 1 || e.Backtrace[0] != `{tnat,boom,0,[{file,"t.erl"},{line,12}]}` {
		t.Fatalf("backtrace %q", e.Backtrace)
	}
	if e := ernie.ErlangError("throw", etf.Atom("oops"), nil); e.Detail != "throw: oops" {
		t.Fatalf("throw detail %q", e.Detail)
	}
}
