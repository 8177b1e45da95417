package kernel

// imperial_rpc (pool) and its workers
//
// Accepts  Call dist.RequestExecute → dist.Result (erpc:call, rpc:call, plain spawn);
//          message dist.RequestExecute with Cast set → runs it, no reply.
// Spawns   Options.Workers workers, linked; the pool forwards each request whole,
//          so a worker answers the Erlang caller directly.
// Owns     nothing.

import (
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/dist"
	"imperial/node/rpc"
)

// RPCName is the registered pool that serves erpc and rpc calls.
const RPCName gen.Atom = "imperial_rpc"

var _ act.PoolBehavior = (*rpcPool)(nil)

func factoryRPCPool() gen.ProcessBehavior { return &rpcPool{} }

type rpcPool struct{ act.Pool }

func (p *rpcPool) Init(args ...any) (act.PoolOptions, error) {
	o, err := optionsArg(args)
	if err != nil {
		return act.PoolOptions{}, err
	}
	return act.PoolOptions{
		PoolSize:          int64(o.Workers),
		WorkerFactory:     factoryRPCWorker,
		WorkerArgs:        []any{o},
		WorkerMailboxSize: 4096,
	}, nil
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
