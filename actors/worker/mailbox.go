package worker

// mailbox: a name registered for an external worker (erlang_register_process).
//
// Accepts  messageMailboxStop (from its bridge connection: ends normally);
//          any other message: handed to the bridge connection's channel, dropped
//          with a log line when MailboxSize messages already wait.
// Replies  Call → {error, mailbox}.
// Owns     nothing: the channel belongs to the bridge connection.

import (
	"fmt"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// MailboxSize bounds the messages waiting for an external worker's
// erlang_recv_message.
const MailboxSize = 1024

// Message is one message a mailbox received.
type Message struct {
	From gen.PID
	Body any
}

var _ act.ActorBehavior = (*mailbox)(nil)

// MailboxFactory makes a mailbox; spawn it registered, with its chan Message.
func MailboxFactory() gen.ProcessBehavior { return &mailbox{} }

type mailbox struct {
	act.Actor
	ch chan Message
}

func (m *mailbox) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: mailbox wants its channel", ErrOptions)
	}
	ch, ok := args[0].(chan Message)
	if !ok {
		return fmt.Errorf("%w: mailbox wants a chan Message, got %T", ErrOptions, args[0])
	}
	m.ch = ch
	return nil
}

// messageMailboxStop ends a mailbox (its bridge connection closed).
type messageMailboxStop struct{}

func (m *mailbox) HandleMessage(from gen.PID, message any) error {
	if _, ok := message.(messageMailboxStop); ok {
		return gen.TerminateReasonNormal
	}
	select {
	case m.ch <- Message{From: from, Body: message}:
	default:
		m.Log().Warning("mailbox %s full, message from %s dropped", m.Name(), from)
	}
	return nil
}

func (m *mailbox) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return etf.Tuple{etf.Atom("error"), etf.Atom("mailbox")}, nil
}
