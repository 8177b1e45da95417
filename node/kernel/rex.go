package kernel

// rex
//
// Accepts  {From, features_request} → From ! {features_reply, Node, [erpc]};
//          Call {call, M, F, A, GL} and {block_call, M, F, A, GL} → rpc's reply value;
//          {'$gen_cast', {cast, M, F, A, GL}} → runs it; {From, {call, M, F, A, GL}} →
//          From ! {rex, Reply} (the old C-node form); {From, {send, Name, Msg}} →
//          Name ! {From, Msg}.
// Owns     nothing; calls run in rex itself, one at a time, as OTP's block_call does.

import (
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/rpc"
)

// RexName is registered as erl's rpc server is.
const RexName gen.Atom = "rex"

var _ act.ActorBehavior = (*rex)(nil)

func factoryRex() gen.ProcessBehavior { return &rex{} }

type rex struct {
	act.Actor
	reg *rpc.Registry
}

func (r *rex) Init(args ...any) error {
	o, err := optionsArg(args)
	r.reg = o.Registry
	return err
}

// mfa unpacks {Tag, M, F, A, GL}.
func mfa(t etf.Tuple) (rpc.Call, bool) {
	if len(t) != 5 {
		return rpc.Call{}, false
	}
	m, ok1 := t[1].(etf.Atom)
	f, ok2 := t[2].(etf.Atom)
	args, ok3 := t[3].(etf.List)
	if !ok1 || !ok2 || !ok3 {
		return rpc.Call{}, false
	}
	gl, _ := t[4].(gen.PID)
	return rpc.Call{Module: m, Function: f, Args: args, GroupLeader: gl}, true
}

func (r *rex) run(c rpc.Call) any {
	c.Process = r
	return rpc.RexValue(r.reg.Execute(c))
}

func (r *rex) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	t, ok := request.(etf.Tuple)
	if ok && len(t) == 5 && (t[0] == etf.Atom("call") || t[0] == etf.Atom("block_call")) {
		if c, ok := mfa(t); ok {
			c.Caller = from
			return r.run(c), nil
		}
	}
	return etf.Tuple{etf.Atom("badrpc"), etf.Tuple{etf.Atom("EXIT"), etf.Atom("badarg")}}, nil
}

func (r *rex) HandleMessage(from gen.PID, message any) error {
	t, ok := message.(etf.Tuple)
	if !ok || len(t) != 2 {
		return nil
	}
	if t[0] == etf.Atom("$gen_cast") {
		if ct, ok := t[1].(etf.Tuple); ok && len(ct) == 5 && ct[0] == etf.Atom("cast") {
			if c, ok := mfa(ct); ok {
				c.Caller = from
				r.run(c)
			}
		}
		return nil
	}
	to, ok := t[0].(gen.PID)
	if !ok {
		return nil
	}
	switch req := t[1].(type) {
	case etf.Atom:
		if req == "features_request" {
			r.Send(to, etf.Tuple{etf.Atom("features_reply"), etf.Atom(r.Node().Name()), etf.List{etf.Atom("erpc")}})
		}
	case etf.Tuple:
		switch {
		case len(req) == 5 && req[0] == etf.Atom("call"):
			if c, ok := mfa(req); ok {
				c.Caller = to
				r.Send(to, etf.Tuple{etf.Atom("rex"), r.run(c)})
			}
		case len(req) == 3 && req[0] == etf.Atom("send"):
			if name, ok := req[1].(etf.Atom); ok {
				r.Send(gen.Atom(name), etf.Tuple{to, req[2]})
			}
		}
	}
	return nil
}
