package worker

// The Erlang bridge of external workers: a unix socket on which a worker
// process (the Python adapter's erlang_* functions) asks the node to reach
// Erlang nodes. Each message is {packet,4} BERT, one answer per request:
//
//	{connect, Node}                → ok | {error, Reason}
//	{rpc, Node, Module, Fun, Args} → {ok, Result} | {error, Reason}
//	{send, Node, Dest, Msg}        → ok | {error, Reason}   Dest: a name or a pid
//	{register, Name}               → ok | {error, Reason}   a mailbox named Name on this node
//	{recv, Name, TimeoutMs}        → {ok, From, Msg} | timeout | {error, Reason}
//	{close, Node}                  → ok | {error, Reason}
//
// bridgeListener accepts; bridgeConn serves one worker connection.
//
// bridgeListener
// Accepts  nothing. Spawns one bridgeConn per connection.
// Owns     the listening unix socket (removed in Terminate).
//
// bridgeConn
// Accepts  nothing (messages for its mailboxes go to the mailbox actors).
// Sends    the worker's messages (send) to Erlang processes.
// Spawns   one mailbox actor per register (killed in Terminate).
// Owns     the connection: Start reads requests and answers them in order;
//          Terminate closes it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"ergo.services/ergo/gen"

	"imperial/bertrpc/berp"
	"imperial/node/dist"
	"imperial/node/etf"
)

// maxBridgePacket bounds one bridge request.
const maxBridgePacket = 16 << 20

// bridgeRPCTimeout bounds one erlang_rpc.
const bridgeRPCTimeout = 60 * time.Second

func (w *worker) startBridge(path string, rpcFn RPCFunc) error {
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("worker: erlang bridge %s: %w", path, err)
	}
	b := &bridgeListener{l: l, path: path, node: w.Node(), rpc: rpcFn}
	if _, err := w.SpawnMeta(b, gen.MetaOptions{MailboxSize: 4}); err != nil {
		b.Terminate(err)
		return fmt.Errorf("worker: erlang bridge: %w", err)
	}
	return nil
}

type bridgeListener struct {
	gen.MetaProcess
	l    net.Listener
	path string
	node gen.Node
	rpc  RPCFunc
}

func (b *bridgeListener) Init(process gen.MetaProcess) error {
	b.MetaProcess = process
	return nil
}

func (b *bridgeListener) Start() error {
	for {
		c, err := b.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		bc := &bridgeConn{c: c, node: b.node, rpc: b.rpc, boxes: map[gen.Atom]*bridgeBox{}}
		if _, err := b.Spawn(bc, gen.MetaOptions{MailboxSize: 4}); err != nil {
			c.Close()
			b.Log().Error("erlang bridge: %s", err)
		}
	}
}

func (b *bridgeListener) HandleMessage(from gen.PID, message any) error { return nil }
func (b *bridgeListener) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}
func (b *bridgeListener) HandleInspect(from gen.PID, item ...string) map[string]string { return nil }
func (b *bridgeListener) Terminate(reason error) {
	b.l.Close()
	_ = os.Remove(b.path)
}

type bridgeBox struct {
	pid gen.PID
	ch  chan Message
}

type bridgeConn struct {
	gen.MetaProcess
	c    net.Conn
	node gen.Node
	rpc  RPCFunc

	mu     sync.Mutex
	boxes  map[gen.Atom]*bridgeBox
	closed bool
}

func (b *bridgeConn) Init(process gen.MetaProcess) error {
	b.MetaProcess = process
	return nil
}

var (
	atomOK      = etf.Atom("ok")
	atomError   = etf.Atom("error")
	atomTimeout = etf.Atom("timeout")
)

func errTerm(err error) any { return etf.Tuple{atomError, []byte(err.Error())} }

func (b *bridgeConn) Start() error {
	br := bufio.NewReader(b.c)
	for {
		pkt, err := berp.ReadPacket(br, maxBridgePacket)
		if err != nil {
			return nil
		}
		req, _, err := etf.Decode(pkt, etf.DecodeOptions{Pid: func(p etf.Pid) any { return dist.PIDFromETF(p) }})
		var reply any
		if err != nil {
			reply = errTerm(err)
		} else {
			reply = b.handle(req)
		}
		out, err := etf.Encode(reply, etf.EncodeOptions{Hook: termHook})
		if err != nil {
			out, _ = etf.Encode(errTerm(fmt.Errorf("reply not encodable: %w", err)), etf.EncodeOptions{})
		}
		if err := berp.WritePacket(b.c, out); err != nil {
			return nil
		}
	}
}

// nodeName reads a node name given as an atom or a binary.
func nodeName(v any) (gen.Atom, bool) {
	s, ok := text(v)
	return gen.Atom(s), ok && s != ""
}

func (b *bridgeConn) handle(req any) any {
	t, ok := req.(etf.Tuple)
	if !ok || len(t) == 0 {
		return errTerm(errors.New("want a tuple"))
	}
	op, _ := t[0].(etf.Atom)
	switch {
	case op == "connect" && len(t) == 2:
		peer, ok := nodeName(t[1])
		if !ok {
			return errTerm(errors.New("bad node name"))
		}
		if _, err := b.node.Network().GetNode(peer); err != nil {
			return errTerm(err)
		}
		return atomOK
	case op == "close" && len(t) == 2:
		peer, ok := nodeName(t[1])
		if !ok {
			return errTerm(errors.New("bad node name"))
		}
		rn, err := b.node.Network().Node(peer)
		if err != nil {
			return errTerm(err)
		}
		rn.Disconnect()
		return atomOK
	case op == "rpc" && len(t) == 5:
		peer, ok1 := nodeName(t[1])
		m, ok2 := text(t[2])
		f, ok3 := text(t[3])
		args, ok4 := t[4].(etf.List)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return errTerm(errors.New("want {rpc, Node, Module, Function, Args}"))
		}
		if b.rpc == nil {
			return errTerm(errors.New("this imperial runs without distribution (--erlang NAME)"))
		}
		ctx, cancel := context.WithTimeout(context.Background(), bridgeRPCTimeout)
		defer cancel()
		v, err := b.rpc(ctx, b.node, peer, etf.Atom(m), etf.Atom(f), []any(args))
		if err != nil {
			return errTerm(err)
		}
		return etf.Tuple{atomOK, v}
	case op == "send" && len(t) == 4:
		var to any
		switch d := t[2].(type) {
		case gen.PID:
			to = d
		default:
			name, ok := text(d)
			if !ok {
				return errTerm(errors.New("bad destination"))
			}
			peer, ok := nodeName(t[1])
			if !ok {
				peer = b.node.Name()
			}
			to = gen.ProcessID{Name: gen.Atom(name), Node: peer}
		}
		if err := b.Send(to, t[3]); err != nil {
			return errTerm(err)
		}
		return atomOK
	case op == "register" && len(t) == 2:
		name, ok := nodeName(t[1])
		if !ok {
			return errTerm(errors.New("bad process name"))
		}
		return b.register(name)
	case op == "recv" && len(t) == 3:
		name, ok := nodeName(t[1])
		if !ok {
			return errTerm(errors.New("bad process name"))
		}
		b.mu.Lock()
		box := b.boxes[name]
		b.mu.Unlock()
		if box == nil {
			return errTerm(fmt.Errorf("%s is not registered by this worker", name))
		}
		var expire <-chan time.Time
		if ms, ok := t[2].(int64); ok && ms >= 0 {
			tm := time.NewTimer(time.Duration(ms) * time.Millisecond)
			defer tm.Stop()
			expire = tm.C
		}
		select {
		case m, ok := <-box.ch:
			if !ok {
				return errTerm(errors.New("mailbox closed"))
			}
			return etf.Tuple{atomOK, m.From, m.Body}
		case <-expire:
			return atomTimeout
		}
	}
	return errTerm(fmt.Errorf("unknown request %v/%d", t[0], len(t)))
}

func (b *bridgeConn) register(name gen.Atom) any {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errTerm(errors.New("closing"))
	}
	if _, ok := b.boxes[name]; ok {
		return atomOK
	}
	ch := make(chan Message, MailboxSize)
	pid, err := b.node.SpawnRegister(name, MailboxFactory, gen.ProcessOptions{MailboxSize: MailboxSize}, ch)
	if err != nil {
		return errTerm(err)
	}
	b.boxes[name] = &bridgeBox{pid: pid, ch: ch}
	return atomOK
}

func (b *bridgeConn) HandleMessage(from gen.PID, message any) error { return nil }
func (b *bridgeConn) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}
func (b *bridgeConn) HandleInspect(from gen.PID, item ...string) map[string]string { return nil }

func (b *bridgeConn) Terminate(reason error) {
	b.c.Close()
	b.mu.Lock()
	b.closed = true
	boxes := b.boxes
	b.boxes = map[gen.Atom]*bridgeBox{}
	b.mu.Unlock()
	for _, box := range boxes {
		_ = b.node.Send(box.pid, messageMailboxStop{})
	}
}
