package ernie

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"ergo.services/ergo/gen"

	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/node/etf"
)

// ErlangRPC calls Module:Function(Args) on the BEAM peer node, as
// erpc:call does. When the call reached the function and it raised, the
// error is an *ernie.ErlangException; any other error means the peer could
// not be reached. rel/imperial builds it from node/kernel.RPC.
type ErlangRPC func(ctx context.Context, peer gen.Atom, m, f etf.Atom, args []any) (any, error)

// Dispatcher is the routing state the connection metas and Call share. It
// is immutable once ernie_server has built it and safe for concurrent use.
type Dispatcher struct {
	router      *ernie.Router
	peer        gen.Atom
	rpc         ErlangRPC
	callTimeout time.Duration
	pools       map[string]gen.Atom // external module → its pool's name
	calls       *erlCalls           // with rpcServer: the peer's call server runs
	rpcServer   gen.ProcessID
}

// newDispatcher builds the dispatcher of router.
func newDispatcher(router *ernie.Router, peer gen.Atom, rpc ErlangRPC, callTimeout time.Duration) *Dispatcher {
	d := &Dispatcher{router: router, peer: peer, rpc: rpc, callTimeout: callTimeout, pools: map[string]gen.Atom{}}
	for _, h := range router.Handlers() {
		if h.Kind == ernie.External {
			d.pools[h.Module()] = PoolName(h.Module())
		}
	}
	return d
}

// poolName names the pool of an external module without building the
// name on every request.
func (d *Dispatcher) poolName(module string) gen.Atom {
	if a, ok := d.pools[module]; ok {
		return a
	}
	return PoolName(module)
}

// Router returns the router.
func (d *Dispatcher) Router() *ernie.Router { return d.router }

// context bounds a native call by the call timeout, if any, within
// parent (which ends when the listener stops).
func (d *Dispatcher) context(parent context.Context) (context.Context, context.CancelFunc) {
	if d.callTimeout > 0 {
		return context.WithTimeout(parent, d.callTimeout)
	}
	return parent, func() {}
}

// route picks the handler of a request; goArgs converts the arguments for
// native Go predicates and functions once; s sends native Erlang calls.
func (d *Dispatcher) route(ctx context.Context, s sender, mod, fun string, args etf.List, goArgs *lazyArgs) (*ernie.Handler, error) {
	return d.router.Route(mod, fun, args, func(h *ernie.Handler) (bool, error) {
		if h.Kind == ernie.GoNative {
			f, _ := h.Function(fun, len(args))
			ga, err := goArgs.get()
			if err != nil {
				return false, err
			}
			return callPred(ctx, f.Pred, ga)
		}
		v, err := d.erlang(ctx, s, mod, fun+ernie.PredSuffix, args)
		if err != nil {
			return false, err
		}
		switch v {
		case etf.Atom("true"):
			return true, nil
		case etf.Atom("false"):
			return false, nil
		}
		return false, fmt.Errorf("%w: %s:%s%s returned %v", ernie.ErrBadPredicate, mod, fun, ernie.PredSuffix, v)
	})
}

// lazyArgs converts request arguments to Go values at most once.
type lazyArgs struct {
	raw  etf.List
	done bool
	args []any
	err  error
}

func (l *lazyArgs) get() ([]any, error) {
	if !l.done {
		l.done = true
		l.args, l.err = ernie.ToGo(l.raw)
		if l.err != nil {
			l.err = ernie.InvalidRequest(l.err.Error())
		}
	}
	return l.args, l.err
}

// runNative runs a native handler and returns the value to send in
// {reply, Value} (ready for bert.Encode), or an error for ErrorReply.
func (d *Dispatcher) runNative(ctx context.Context, s sender, h *ernie.Handler, fun string, args etf.List, goArgs *lazyArgs) (any, error) {
	if h.Kind == ernie.GoNative {
		f, ok := h.Function(fun, len(args))
		if !ok {
			return nil, fmt.Errorf("%w: %s:%s/%d", ernie.ErrNoFunction, h.Module(), fun, len(args))
		}
		ga, err := goArgs.get()
		if err != nil {
			return nil, err
		}
		return callGo(ctx, f.Call, ga)
	}
	v, err := d.erlang(ctx, s, h.Module(), fun, args)
	if err != nil {
		return nil, err
	}
	return ernie.FromErlang(v), nil
}

// erlang calls mod:fun on the BEAM peer with bert.erl's argument
// conversion, through the peer's call server (sent from s) or else
// ErlangRPC; errors come back as *bert.Error.
func (d *Dispatcher) erlang(ctx context.Context, s sender, mod, fun string, args etf.List) (any, error) {
	if d.calls == nil && d.rpc == nil || d.peer == "" {
		return nil, ernie.ServerError(ernie.CodeUndesignated, "no BEAM peer for native Erlang modules")
	}
	conv, _ := ernie.ToErlang(args).(etf.List)
	var v any
	var err error
	if d.calls != nil {
		v, err = d.calls.call(ctx, s, d.rpcServer, etf.Atom(mod), etf.Atom(fun), conv)
	} else {
		v, err = d.rpc(ctx, d.peer, etf.Atom(mod), etf.Atom(fun), []any(conv))
	}
	if err != nil {
		var ex *ernie.ErlangException
		if errors.As(err, &ex) {
			return nil, ex.Reply()
		}
		return nil, ernie.ServerError(ernie.CodeUndesignated, "native Erlang node "+string(d.peer)+" unavailable: "+err.Error())
	}
	return v, nil
}

// callGo runs a native Go function; a panic becomes a RuntimeError whose
// backtrace is the goroutine's stack.
func callGo(ctx context.Context, f ernie.Func, args []any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ernie.Exception{Message: fmt.Sprint("panic: ", r), Backtrace: stackLines()}
		}
	}()
	return f(ctx, args)
}

func callPred(ctx context.Context, p ernie.Pred, args []any) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ernie.Exception{Message: fmt.Sprint("panic in predicate: ", r), Backtrace: stackLines()}
		}
	}()
	return p(ctx, args)
}

func stackLines() []string {
	lines := strings.Split(strings.TrimSpace(string(debug.Stack())), "\n")
	if len(lines) > ernie.MaxFrames {
		lines = lines[:ernie.MaxFrames]
	}
	return lines
}

// encodeReply encodes {reply, v}; an unencodable value is a server error.
func encodeReply(v any) []byte {
	b, err := bert.Encode(bert.Reply{Result: v})
	if err != nil {
		return ernie.EncodeError(ernie.ServerError(ernie.CodeUndesignated, "cannot encode the reply: "+err.Error()))
	}
	return b
}

// noReply is {noreply} in BERT: 131, SMALL_TUPLE_EXT 1, ATOM_EXT "noreply".
// Treat as read-only.
var noReply = []byte{131, 104, 1, 100, 0, 7, 'n', 'o', 'r', 'e', 'p', 'l', 'y'}
