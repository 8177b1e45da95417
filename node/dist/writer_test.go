package dist

import (
	"testing"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/handshake"
)

// TestTypedFrames: the frames the writer builds from typed fields are byte for
// byte the general encoding of the same control tuple and payload.
func TestTypedFrames(t *testing.T) {
	p := New(Options{RPCName: "imperial_rpc"})
	c := newConn(p.opts, &fakeCore{}, gen.HandshakeResult{Peer: peer}, handshake.Negotiated{
		Flags: handshake.DefaultFlags, PeerCreation: 9, Peer: peer}, nopLog{})
	ours, theirs := PIDFromETF(ourPid), PIDFromETF(erlPid)
	pseudo := gen.PID{Node: "imp@127.0.0.1", ID: 1<<40 | 12, Creation: 7}
	tag := etf.ImproperList{Elems: []any{etf.Atom("alias")}, Tail: aRef}
	value := etf.Tuple{etf.Atom("bench"), etf.List{int64(1)}, []byte("payload"), ours}
	cases := []struct {
		typed   outFrame
		ctl     etf.Tuple
		payload any
	}{
		{outFrame{kind: frameAliasReply, from: ours, ref: aRef, tag: tag, payload: value},
			etf.Tuple{int64(opAliasSend), ours, aRef}, etf.Tuple{tag, value}},
		{outFrame{kind: frameSpawnReply, ref: aRef, to: theirs, n: 3, from: pseudo},
			etf.Tuple{int64(opSpawnReply), aRef, theirs, int64(3), pseudo}, nil},
		{outFrame{kind: frameDown, from: pseudo, to: theirs, ref: aRef, payload: etf.Tuple{aRef, etf.Atom("return"), value}},
			etf.Tuple{int64(opPayloadMonitorPExit), pseudo, theirs, aRef}, etf.Tuple{aRef, etf.Atom("return"), value}},
	}
	for _, tc := range cases {
		got := c.appendFrame(nil, &tc.typed)
		general := outFrame{ctl: tc.ctl, payload: tc.payload, hasPayload: tc.payload != nil}
		want := c.appendFrame(nil, &general)
		if len(want) == 0 || string(got) != string(want) {
			t.Errorf("kind %d:\n got % x\nwant % x", tc.typed.kind, got, want)
		}
	}
	// ergo refs go through the append hook as the encode hook would write them
	ref := gen.Ref{Node: "imp@127.0.0.1", Creation: 7, ID: [3]uint64{1, 2, 3}}
	got, _ := etf.AppendTerm(nil, ref, etf.EncodeOptions{Append: appendHook})
	want, _ := etf.AppendTerm(nil, RefToETF(ref), etf.EncodeOptions{})
	if string(got) != string(want) {
		t.Errorf("gen.Ref: % x, want % x", got, want)
	}
}
