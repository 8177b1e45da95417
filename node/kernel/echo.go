package kernel

// imperial_echo
//
// Accepts  Call Req → Req (gen_server:call echo); message {From, Msg} →
//          From ! {imperial_echo, Msg}; other messages are dropped.
// Owns     nothing.

import (
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// EchoName is the registered echo process.
const EchoName gen.Atom = "imperial_echo"

var _ act.ActorBehavior = (*echo)(nil)

func factoryEcho() gen.ProcessBehavior { return &echo{} }

type echo struct{ act.Actor }

func (e *echo) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return request, nil
}

func (e *echo) HandleMessage(from gen.PID, message any) error {
	if t, ok := message.(etf.Tuple); ok && len(t) == 2 {
		if to, ok := t[0].(gen.PID); ok {
			e.Send(to, etf.Tuple{etf.Atom(EchoName), t[1]})
		}
	}
	return nil
}
