package node

// The outbound API for Go code (the seed's erlang_connect, erlang_rpc,
// erlang_send_message, erlang_recv_message, erlang_register_process,
// erlang_close). Connections are ergo's: kept and reused until closed.

import (
	"context"
	"errors"
	"fmt"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/kernel"
)

// Connect makes sure n is connected to peer (erlang_connect).
func Connect(n gen.Node, peer gen.Atom) error {
	_, err := n.Network().GetNode(peer)
	return err
}

// RPC calls Module:Function(Args) on peer as erpc:call does (erlang_rpc). A remote
// exception comes back as *dist.RPCError.
func RPC(ctx context.Context, n gen.Node, peer gen.Atom, module, function etf.Atom, args ...any) (any, error) {
	return kernel.RPC(ctx, n, peer, module, function, args)
}

// Send sends msg to a registered name on peer, or to a pid (erlang_send_message).
func Send(n gen.Node, peer gen.Atom, to any, msg any) error {
	switch t := to.(type) {
	case gen.PID:
		return n.Send(t, msg)
	case gen.Atom:
		return n.Send(gen.ProcessID{Name: t, Node: peer}, msg)
	case etf.Atom:
		return n.Send(gen.ProcessID{Name: gen.Atom(t), Node: peer}, msg)
	case string:
		return n.Send(gen.ProcessID{Name: gen.Atom(t), Node: peer}, msg)
	}
	return fmt.Errorf("node: send to %T", to)
}

// Close drops the connection to peer (erlang_close); peer sees nodedown.
func Close(n gen.Node, peer gen.Atom) error {
	rn, err := n.Network().Node(peer)
	if err != nil {
		return err
	}
	rn.Disconnect()
	return nil
}

// Message is one message a Mailbox received.
type Message struct {
	From gen.PID
	Body any
}

// ErrMailboxClosed: the mailbox's process is gone.
var ErrMailboxClosed = errors.New("node: mailbox closed")

// Mailbox is a registered process whose messages Go code receives
// (erlang_register_process + erlang_recv_message). Erlang nodes reach it with
// {Name, Node} ! Msg; gen_server calls to it get {error, mailbox}.
type Mailbox struct {
	n    gen.Node
	pid  gen.PID
	msgs chan Message
	done chan struct{}
}

// MailboxSize bounds the messages a Mailbox holds; more are dropped and logged.
const MailboxSize = 4096

// NewMailbox registers name on n.
func NewMailbox(n gen.Node, name gen.Atom) (*Mailbox, error) {
	m := &Mailbox{n: n, msgs: make(chan Message, MailboxSize), done: make(chan struct{})}
	pid, err := n.SpawnRegister(name, func() gen.ProcessBehavior { return &mailbox{m: m} }, gen.ProcessOptions{})
	if err != nil {
		return nil, err
	}
	m.pid = pid
	return m, nil
}

// PID is the mailbox process.
func (m *Mailbox) PID() gen.PID { return m.pid }

// Recv waits for the next message.
func (m *Mailbox) Recv(ctx context.Context) (Message, error) {
	select {
	case msg := <-m.msgs:
		return msg, nil
	case <-m.done:
		return Message{}, ErrMailboxClosed
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Close unregisters the mailbox and stops its process.
func (m *Mailbox) Close() error { return m.n.Kill(m.pid) }

// mailbox is the Mailbox's process.
// Accepts any message (handed to Mailbox.Recv; dropped with a log line when
// MailboxSize are waiting) and Calls (answered {error, mailbox}).
// Owns nothing: the channel belongs to the Mailbox.
type mailbox struct {
	act.Actor
	m *Mailbox
}

func (p *mailbox) HandleMessage(from gen.PID, msg any) error {
	select {
	case p.m.msgs <- Message{From: from, Body: msg}:
	default:
		p.Log().Warning("mailbox %s full, message from %s dropped", p.Name(), from)
	}
	return nil
}

func (p *mailbox) HandleCall(from gen.PID, ref gen.Ref, req any) (any, error) {
	return etf.Tuple{etf.Atom("error"), etf.Atom("mailbox")}, nil
}

func (p *mailbox) Terminate(reason error) { close(p.m.done) }
