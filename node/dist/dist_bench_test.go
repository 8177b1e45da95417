package dist

import (
	"testing"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/handshake"
)

// echoCore answers every bridged call at once, as imperial_echo does.
type echoCore struct {
	fakeCore
	c *conn
}

func (e *echoCore) RouteCallProcessID(from gen.PID, to gen.ProcessID, o gen.MessageOptions, m any) error {
	return e.c.SendResponse(gen.PID{Node: e.c.self, ID: 1005, Creation: 7}, from, gen.MessageOptions{Ref: o.Ref}, m)
}
func (e *echoCore) RouteMonitorProcessID(pid gen.PID, t gen.ProcessID) error   { return nil }
func (e *echoCore) RouteDemonitorProcessID(pid gen.PID, t gen.ProcessID) error { return nil }

// BenchmarkGenCall: the work on our side of one gen_server:call from erl to a
// registered process, as OTP 25 sends it: MONITOR_P, REG_SEND of the
// '$gen_call', our ALIAS_SEND reply (encoded as the writer does), DEMONITOR_P.
func BenchmarkGenCall(b *testing.B) {
	core := &echoCore{}
	c := benchConn(core)
	core.c = c
	fr := newFrameReader(c)
	mref := etf.Ref{Node: peer, Creation: 9, IDs: []uint32{0x2BB53, 0x2F080001, 0x7DFC17CA}}
	name := etf.Atom("imperial_echo")
	req := etf.Tuple{etf.Atom("bench"), etf.List{int64(1), int64(2), int64(3)}, []byte("payload")}
	monitor := pframe(b, etf.Tuple{int64(opMonitorP), erlPid, name, mref}, nil)
	call := pframe(b, etf.Tuple{int64(opRegSend), erlPid, etf.Atom(""), name},
		etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{erlPid, etf.ImproperList{Elems: []any{etf.Atom("alias")}, Tail: mref}}, req})
	demonitor := pframe(b, etf.Tuple{int64(opDemonitorP), erlPid, name, mref}, nil)
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range [][]byte{monitor, call, demonitor} {
			if err := fr.frame(f); err != nil {
				b.Fatal(err)
			}
		}
		out = drain(b, c, out, 1)
	}
}

// rpcCore runs every RequestExecute at once and answers with its first
// argument, as imperial:echo does.
type rpcCore struct {
	fakeCore
	c *conn
}

func (r *rpcCore) RouteCallProcessID(from gen.PID, to gen.ProcessID, o gen.MessageOptions, m any) error {
	req := m.(RequestExecute)
	return r.c.SendResponse(gen.PID{Node: r.c.self, ID: 1006, Creation: 7}, from, gen.MessageOptions{Ref: o.Ref},
		Result{Class: ClassReturn, Value: req.Args[0]})
}

// BenchmarkRPC: our side of one rpc:call(N, imperial, echo, [T]) from OTP 25:
// SPAWN_REQUEST of erpc:execute_call/4 with a monitor, our SPAWN_REPLY, and
// the DOWN that carries the result (both encoded as the writer does).
func BenchmarkRPC(b *testing.B) {
	core := &rpcCore{}
	c := benchConn(core)
	core.c = c
	fr := newFrameReader(c)
	reqID := etf.Ref{Node: peer, Creation: 9, IDs: []uint32{0x2BB53, 0x2F080001, 0x7DFC17CA}}
	res := etf.Ref{Node: peer, Creation: 9, IDs: []uint32{0x2BB54, 0x2F080001, 0x7DFC17CA}}
	t := etf.Tuple{etf.Atom("bench"), etf.List{int64(1), int64(2), int64(3)}, []byte("payload")}
	spawn := pframe(b, etf.Tuple{int64(opSpawnRequest), reqID, erlPid, erlPid,
		etf.Tuple{etf.Atom("erpc"), etf.Atom("execute_call"), int64(4)},
		etf.List{etf.Tuple{etf.Atom("reply"), etf.Atom("error_only")}, etf.Atom("monitor")}},
		etf.List{res, etf.Atom("imperial"), etf.Atom("echo"), etf.List{t}})
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		if err := fr.frame(spawn); err != nil {
			b.Fatal(err)
		}
		out = drain(b, c, out, 2) // SPAWN_REPLY and DOWN
	}
}

// benchConn is a joined connection without a socket: corked, its queue only
// fills, and the benchmark drains it.
func benchConn(core gen.Core) *conn {
	p := New(Options{RPCName: "imperial_rpc"})
	c := newConn(p.opts, core, gen.HandshakeResult{Peer: peer}, handshake.Negotiated{
		Flags: handshake.DefaultFlags, PeerCreation: 9, Peer: peer}, nopLog{})
	c.joinedFlag.Store(true)
	c.corked = true
	return c
}

// drain encodes the want queued frames as the writer would, into out.
func drain(b *testing.B, c *conn, out []byte, want int) []byte {
	c.wmu.Lock()
	q := c.wq
	c.wq = nil
	c.wmu.Unlock()
	if len(q) != want {
		b.Fatalf("%d frames queued, want %d", len(q), want)
	}
	out = out[:0]
	for i := range q {
		out = c.appendFrame(out, &q[i])
	}
	return out
}
