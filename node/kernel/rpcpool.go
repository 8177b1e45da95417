package kernel

// imperial_rpc_N: the RPC workers
//
// Accepts  Call dist.RequestExecute → dist.Result (erpc:call, rpc:call, plain spawn);
//          message dist.RequestExecute with Cast set → runs it, no reply.
// Owns     nothing. node/dist spreads jobs over the workers round robin, so a
//          slow function holds up one worker only.

import (
	"fmt"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/dist"
	"imperial/node/rpc"
)

// RPCWorkerNames are the registered names of n RPC workers.
func RPCWorkerNames(n int) []gen.Atom {
	names := make([]gen.Atom, n)
	for i := range names {
		names[i] = gen.Atom(fmt.Sprintf("imperial_rpc_%d", i))
	}
	return names
}

var _ act.ActorBehavior = (*rpcWorker)(nil)

func factoryRPCWorker() gen.ProcessBehavior { return &rpcWorker{} }

type rpcWorker struct {
	act.Actor
	reg *rpc.Registry
}

func (w *rpcWorker) Init(args ...any) error {
	o, err := optionsArg(args)
	w.reg = o.Registry
	return err
}

func (w *rpcWorker) call(r dist.RequestExecute) dist.Result {
	return w.reg.Execute(rpc.Call{Process: w, Module: r.Module, Function: r.Function, Args: r.Args,
		Caller: r.Caller, GroupLeader: r.GroupLeader})
}

func (w *rpcWorker) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	r, ok := request.(dist.RequestExecute)
	if !ok {
		w.Log().Warning("imperial_rpc: unexpected call %T", request)
		return dist.Result{Class: dist.ClassError, Value: badarg}, nil
	}
	return w.call(r), nil
}

func (w *rpcWorker) HandleMessage(from gen.PID, message any) error {
	if r, ok := message.(dist.RequestExecute); ok {
		w.call(r)
	}
	return nil
}
