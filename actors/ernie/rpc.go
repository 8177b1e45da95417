package ernie

import (
	"context"
	"fmt"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/node/etf"
)

// DefaultRPCTimeout bounds Call when no timeout is given.
const DefaultRPCTimeout = 60 * time.Second

// Call runs mod:fun(args) through Ernie's routing for an Erlang caller
// (rpc:call(ImperialNode, Mod, Fun, Args) reaches it through node/rpc),
// from the process p serving that call. args and the result are plain
// Erlang terms: native Go modules get and return them through the BERT
// conversions (nil ↔ [], booleans ↔ true/false), native Erlang modules are
// called on the BEAM peer unchanged, external workers get {call, Mod, Fun,
// Args} with bert.erl's conversion and their reply converted back.
//
// Errors: ernie.ErrNoModule or ernie.ErrNoFunction (wrapped) when nothing
// serves the call, a *bert.Error for an error reply, or a transport error.
func Call(p gen.Process, mod, fun string, args []any, timeout time.Duration) (any, error) {
	if timeout <= 0 {
		timeout = DefaultRPCTimeout
	}
	secs := int((timeout + time.Second - 1) / time.Second)
	v, err := p.CallWithTimeout(ServerName, RequestDispatcher{}, secs)
	if err != nil {
		return nil, fmt.Errorf("ernie: %s: %w", ServerName, err)
	}
	r, ok := v.(ResponseDispatcher)
	if !ok || !r.Ready {
		return nil, ernie.ServerError(ernie.CodeUndesignated, "Ernie is not serving yet")
	}
	d := r.D
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	list := etf.List(args)
	goArgs := &lazyArgs{raw: list}
	h, err := d.route(ctx, p, mod, fun, list, goArgs)
	if err != nil {
		return nil, err
	}
	switch h.Kind {
	case ernie.ErlangNative:
		return d.erlang(ctx, p, mod, fun, list)
	case ernie.GoNative:
		v, err := d.runNative(ctx, p, h, fun, list, goArgs)
		if err != nil {
			return nil, ernie.ErrorReply(err, mod, fun)
		}
		t, err := bert.ToTerm(v)
		if err != nil {
			return nil, ernie.ServerError(ernie.CodeUndesignated, "cannot encode the reply: "+err.Error())
		}
		return ernie.ToErlang(t), nil
	}
	conv, _ := ernie.FromErlang(list).(etf.List)
	if conv == nil {
		conv = etf.List{}
	}
	payload, err := bert.Encode(bert.Request{Kind: bert.Call, Module: mod, Function: fun, Args: conv})
	if err != nil {
		return nil, ernie.InvalidRequest(err.Error())
	}
	v, err = p.CallWithTimeout(PoolName(h.Module()), extworker.RequestRun{Payload: payload}, secs)
	if err != nil {
		return nil, fmt.Errorf("ernie: %s: %w", PoolName(h.Module()), err)
	}
	rr, ok := v.(extworker.ResponseRun)
	if !ok {
		return nil, fmt.Errorf("ernie: %s answered %T", PoolName(h.Module()), v)
	}
	if rr.Reply.Err != nil {
		return nil, ernie.ServerError(ernie.CodeUndesignated, "External process error: "+rr.Reply.Err.Error())
	}
	t, n, err := etf.Decode(rr.Reply.Payload, etf.DecodeOptions{})
	if err != nil || n != len(rr.Reply.Payload) {
		return nil, ernie.ServerError(ernie.CodeUndesignated, fmt.Sprintf("undecodable reply from the worker: %v", err))
	}
	m, err := bert.ParseMessage(t)
	if err != nil {
		return nil, ernie.ServerError(ernie.CodeUndesignated, "bad reply from the worker: "+err.Error())
	}
	switch x := m.(type) {
	case bert.Reply:
		return ernie.ToErlang(x.Result), nil
	case *bert.Error:
		return nil, x
	case bert.NoReply:
		return etf.Atom("ok"), nil
	}
	return nil, ernie.ServerError(ernie.CodeUndesignated, fmt.Sprintf("unexpected reply %T from the worker", m))
}
