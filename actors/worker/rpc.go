package worker

// imperial_uwsgi_rpc (pool) and its workers: uWSGI RPC calls (modifier1 173)
// run on the node's RPC registry, the stack Erlang nodes reach with rpc:call.
//
// Accepts  messageRPC (from a uwsgi connection, through the caller): the
//          pool forwards it whole to a worker.
// Sends    messageRPCResult to the request's ReplyTo.
// Spawns   RPCOptions.Workers workers, linked (a dead worker takes the pool down).
// Owns     nothing.

import (
	"fmt"
	"runtime"
	"strconv"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/dist"
	"imperial/node/etf"
	"imperial/node/rpc"
)

// RPCName is the registered name of the uWSGI RPC executor pool.
const RPCName gen.Atom = "imperial_uwsgi_rpc"

// RPCModule is the module name uWSGI RPC calls carry: uWSGI names functions
// only, and the registry finds a function by name when no module of that
// name is registered.
const RPCModule = etf.Atom("uwsgi")

// RPCOptions configure the executor pool.
type RPCOptions struct {
	Registry *rpc.Registry
	Workers  int // 0 means 2 × GOMAXPROCS
}

func rpcOptionsArg(args []any) (RPCOptions, error) {
	if len(args) != 1 {
		return RPCOptions{}, fmt.Errorf("%w: want 1 argument (RPCOptions), got %d", ErrOptions, len(args))
	}
	o, ok := args[0].(RPCOptions)
	if !ok || o.Registry == nil {
		return RPCOptions{}, fmt.Errorf("%w: want RPCOptions with a Registry, got %T", ErrOptions, args[0])
	}
	return o, nil
}

var _ act.ActorBehavior = (*rpcPool)(nil)

// RPCFactory makes the executor pool; spawn it registered as RPCName with
// RPCOptions.
func RPCFactory() gen.ProcessBehavior { return &rpcPool{} }

// rpcPool hands each call to its workers in turn (ergo's act.Pool is not
// used: its ProcessInit races with its first workers).
type rpcPool struct {
	act.Actor
	workers []gen.PID
	next    int
}

func (p *rpcPool) Init(args ...any) error {
	o, err := rpcOptionsArg(args)
	if err != nil {
		return err
	}
	if o.Workers <= 0 {
		o.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	for i := 0; i < o.Workers; i++ {
		pid, err := p.Spawn(factoryRPCWorker, gen.ProcessOptions{LinkParent: true, MailboxSize: 1024}, o)
		if err != nil {
			return err
		}
		p.workers = append(p.workers, pid)
	}
	return nil
}

func (p *rpcPool) HandleMessage(from gen.PID, message any) error {
	m, ok := message.(messageRPC)
	if !ok {
		p.Log().Warning("unexpected message from %s: %T", from, message)
		return nil
	}
	p.next = (p.next + 1) % len(p.workers)
	if err := p.Send(p.workers[p.next], m); err != nil {
		_ = p.SendAlias(m.ReplyTo, messageRPCResult{ID: m.ID})
	}
	return nil
}

var _ act.ActorBehavior = (*rpcWorker)(nil)

func factoryRPCWorker() gen.ProcessBehavior { return &rpcWorker{} }

type rpcWorker struct {
	act.Actor
	reg *rpc.Registry
}

func (w *rpcWorker) Init(args ...any) error {
	o, err := rpcOptionsArg(args)
	w.reg = o.Registry
	return err
}

func (w *rpcWorker) HandleMessage(from gen.PID, message any) error {
	m, ok := message.(messageRPC)
	if !ok {
		w.Log().Warning("unexpected message from %s: %T", from, message)
		return nil
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		args[i] = a
	}
	res := w.reg.Execute(rpc.Call{Process: w, Module: RPCModule, Function: etf.Atom(m.Func), Args: args})
	out := messageRPCResult{ID: m.ID}
	if res.Class == dist.ClassReturn {
		out.Result, out.OK = ResultBytes(res.Value)
	} else {
		w.Log().Warning("uwsgi rpc %s/%d: %s: %v", m.Func, len(args), res.Class, res.Value)
	}
	_ = w.SendAlias(m.ReplyTo, out)
	return nil
}

// ResultBytes turns an RPC function's value into the bytes uWSGI RPC
// returns: binaries and strings as they are, atoms by name, numbers in
// decimal, iolists flattened, any other term as its external format
// (term_to_binary).
func ResultBytes(v any) ([]byte, bool) {
	switch t := v.(type) {
	case []byte:
		return t, true
	case string:
		return []byte(t), true
	case etf.Atom:
		return []byte(t), true
	case gen.Atom:
		return []byte(t), true
	case int64:
		return strconv.AppendInt(nil, t, 10), true
	case int:
		return strconv.AppendInt(nil, int64(t), 10), true
	case float64:
		return strconv.AppendFloat(nil, t, 'g', -1, 64), true
	case etf.List:
		if b, ok := iodata(t, nil); ok {
			return b, true
		}
	}
	b, err := etf.Encode(v, etf.EncodeOptions{Hook: termHook})
	if err != nil {
		return nil, false
	}
	return b, true
}

// termHook converts ergo values in terms bound for an external encoding.
func termHook(v any) (any, bool) {
	switch x := v.(type) {
	case gen.Atom:
		return etf.Atom(x), true
	case gen.PID:
		return dist.PIDToETF(x), true
	case gen.Ref:
		return dist.RefToETF(x), true
	case gen.Alias:
		return dist.RefToETF(gen.Ref(x)), true
	case gen.ProcessID:
		return etf.Tuple{etf.Atom(x.Name), etf.Atom(x.Node)}, true
	}
	return nil, false
}
