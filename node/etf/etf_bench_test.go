package etf_test

import (
	"testing"

	"imperial/node/etf"
)

// genCall is what gen_server:call({Name, Node}, {get, key, 42}) sends
// (OTP 25, captured): {'$gen_call', {Pid, [alias|Ref]}, {get, key, 42}}.
var genCall = mustHex("83680377092467656E5F63616C6C680258" + nonode + "0000000900000000000000006C000000017705616C6961735A0003" + nonode + "000000000002BB532F0800017DFC17CA6803770367657477036B6579612A")

func genCallTerm() any {
	return etf.Tuple{etf.Atom("$gen_call"),
		etf.Tuple{etf.Pid{Node: "nonode@nohost", ID: 9},
			etf.ImproperList{Elems: []any{etf.Atom("alias")}, Tail: etf.Ref{Node: "nonode@nohost", IDs: []uint32{0x2BB53, 0x2F080001, 0x7DFC17CA}}}},
		etf.Tuple{etf.Atom("get"), etf.Atom("key"), int64(42)}}
}

func BenchmarkEncodeGenCall(b *testing.B) {
	term := genCallTerm()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(genCall) - 1))
	for b.Loop() {
		var err error
		if buf, err = etf.AppendTerm(buf[:0], term, etf.EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGenCall(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(genCall)))
	for b.Loop() {
		if _, _, err := etf.Decode(genCall, etf.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGenCallHooks(b *testing.B) {
	type gAtom string
	opts := etf.DecodeOptions{Atom: func(a etf.Atom) any { return gAtom(a) }}
	b.ReportAllocs()
	b.SetBytes(int64(len(genCall)))
	for b.Loop() {
		if _, _, err := etf.Decode(genCall, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMap40(b *testing.B) {
	m := make(etf.Map, 40)
	for i := range m {
		m[i] = etf.Pair{Key: etf.Tuple{etf.Atom("k"), int64(i)}, Value: []byte("value")}
	}
	enc, err := etf.Encode(m, etf.EncodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, _, err := etf.Decode(enc, etf.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
