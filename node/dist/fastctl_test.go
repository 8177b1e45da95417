package dist

import (
	"strings"
	"testing"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// generalCtl is what the general decoder makes of the same control tuple, in
// the fast path's terms; ok false if it is not one the fast path may take.
func generalCtl(t testing.TB, b []byte) (fastCtl, bool) {
	v, _, err := etf.DecodeTerm(b, etf.DecodeOptions{Pid: decodePid})
	if err != nil {
		return fastCtl{}, false
	}
	tu, ok := v.(etf.Tuple)
	if !ok || len(tu) < 3 {
		return fastCtl{}, false
	}
	op, _ := tu[0].(int64)
	var m fastCtl
	m.op = int(op)
	pid := func(i int) gen.PID { p, _ := tu[i].(gen.PID); return p }
	tgt := func(i int) target {
		switch x := tu[i].(type) {
		case gen.PID:
			return target{pid: x}
		case etf.Atom:
			return target{name: gen.Atom(x)}
		}
		return target{}
	}
	switch {
	case op == opSend && len(tu) == 3:
		m.to = target{pid: pid(2)}
	case op == opSendSender && len(tu) == 3:
		m.from, m.to = pid(1), target{pid: pid(2)}
	case op == opRegSend && len(tu) == 4:
		m.from, m.to = pid(1), tgt(3)
	case (op == opMonitorP || op == opDemonitorP) && len(tu) == 4:
		m.from, m.to = pid(1), tgt(2)
		r, _ := tu[3].(etf.Ref)
		m.ref = keyOf(r)
	default:
		return fastCtl{}, false
	}
	return m, true
}

func sameCtl(a, b fastCtl) bool {
	if a.op != b.op || a.from != b.from || a.to != b.to {
		return false
	}
	if a.op == opMonitorP || a.op == opDemonitorP {
		return a.ref == b.ref
	}
	return true
}

// encodeCtl encodes a control tuple that may hold ergo pids, without the
// version byte.
func encodeCtl(t testing.TB, tu etf.Tuple) []byte {
	b, err := etf.Encode(tu, etf.EncodeOptions{Hook: encodeHook})
	if err != nil {
		t.Fatal(err)
	}
	return b[1:]
}

func fastReader() *frameReader {
	c := &conn{self: "imp@127.0.0.1", peer: peer}
	return &frameReader{c: c, atoms: etf.NewAtomTable(16)}
}

// TestFastCtl: what the fast path reads equals what the general decoder reads,
// and it declines every other form.
func TestFastCtl(t *testing.T) {
	ours := PIDFromETF(ourPid)
	from := PIDFromETF(erlPid)
	take := []etf.Tuple{
		{int64(opSend), etf.Atom(""), ours},
		{int64(opSendSender), from, ours},
		{int64(opRegSend), from, etf.Atom(""), etf.Atom("imperial_echo")},
		{int64(opRegSend), from, etf.Atom(""), etf.Atom("ünïcode_name")},
		{int64(opMonitorP), from, etf.Atom("named"), aRef},
		{int64(opMonitorP), from, ours, aRef},
		{int64(opDemonitorP), from, etf.Atom("named"), aRef},
		{int64(opDemonitorP), from, ours, etf.Ref{Node: peer, Creation: 9, IDs: []uint32{1, 2, 3, 4, 5}}},
	}
	decline := []etf.Tuple{
		{int64(opLink), from, ours},
		{int64(opRegSend), from, etf.Atom(""), etf.Atom("")},
		{int64(opRegSend), from, etf.Atom("")},
		{int64(opSendSender), from, etf.Atom("name")},
		{int64(opMonitorP), from, int64(5), aRef},
		{int64(opMonitorP), from, etf.Atom("named"), etf.Atom("notaref")},
		{int64(opSpawnRequest), aRef, from, from, etf.Tuple{}, etf.List{}},
		{int64(300), from, ours},
	}
	fr := fastReader()
	for _, tu := range take {
		b := encodeCtl(t, tu) // no version byte
		var m fastCtl
		n, ok := fr.readFastCtl(b, &m)
		if !ok || n != len(b) {
			t.Errorf("%v: fast path declined (ok %v, n %d of %d)", tu, ok, n, len(b))
			continue
		}
		want, _ := generalCtl(t, b)
		if !sameCtl(m, want) {
			t.Errorf("%v: fast %+v, general %+v", tu, m, want)
		}
	}
	for _, tu := range decline {
		var m fastCtl
		if _, ok := fr.readFastCtl(encodeCtl(t, tu), &m); ok {
			t.Errorf("%v: fast path took it", tu)
		}
	}
	// old-style Latin-1 atoms and cut input go to the general path
	latin := []byte{tagSmallTuple, 3, tagSmallInt, opSend, 115, 0, tagNewPid}
	var m fastCtl
	if _, ok := fr.readFastCtl(latin, &m); ok {
		t.Error("SMALL_ATOM_EXT taken by the fast path")
	}
	full := encodeCtl(t, take[4])
	for i := range full {
		if _, ok := fr.readFastCtl(full[:i], &m); ok {
			t.Fatalf("cut at %d of %d taken", i, len(full))
		}
	}
	if fr.atoms.Len() > 16 {
		t.Fatalf("atom table grew to %d past its bound", fr.atoms.Len())
	}
}

// FuzzFastCtl: whenever the fast path takes a control tuple, the general
// decoder reads the same message from it.
func FuzzFastCtl(f *testing.F) {
	for _, tu := range []etf.Tuple{
		{int64(opRegSend), PIDFromETF(erlPid), etf.Atom(""), etf.Atom("rex")},
		{int64(opMonitorP), PIDFromETF(erlPid), etf.Atom("named"), aRef},
		{int64(opSendSender), PIDFromETF(erlPid), PIDFromETF(ourPid)},
	} {
		f.Add(encodeCtl(f, tu))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m fastCtl
		n, ok := fastReader().readFastCtl(b, &m)
		if !ok {
			return
		}
		want, gok := generalCtl(t, b[:n])
		if !gok || !sameCtl(m, want) {
			t.Fatalf("fast %+v, general %+v (ok %v)", m, want, gok)
		}
	})
}

// TestAppendPidRef: the writer's unboxed pid and ref encodings are what etf
// writes for the same values.
func TestAppendPidRef(t *testing.T) {
	long := etf.Atom(strings.Repeat("é", 200)) // 400 bytes: ATOM_UTF8_EXT
	for _, p := range []gen.PID{PIDFromETF(erlPid), {Node: "a@b", ID: 1<<40 | 7, Creation: 1 << 31}, {Node: gen.Atom(long)}} {
		want, err := etf.AppendTerm(nil, PIDToETF(p), etf.EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPid(nil, p); string(got) != string(want) {
			t.Errorf("pid %v: % x, want % x", p, got, want)
		}
	}
	for _, r := range []etf.Ref{aRef, {Node: "n@h", Creation: 3, IDs: []uint32{1, 2, 3, 4, 5}}, {Node: long, IDs: []uint32{9}}} {
		want, err := etf.AppendTerm(nil, r, etf.EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRef(nil, r); string(got) != string(want) {
			t.Errorf("ref %v: % x, want % x", r, got, want)
		}
	}
}
