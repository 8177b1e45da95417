package kernel

import (
	"context"
	"fmt"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/dist"
	"imperial/node/etf"
	"imperial/node/rpc"
)

// RegisterBuiltins adds the functions every imperial node serves: module
// imperial (echo/1, nodes/0, erlang_rpc/4, erlang_send_message/3) and the few
// erlang/lists functions peers use to probe a node (erlang:node/0, nodes/0,1,
// is_alive/0, lists:reverse/1).
func RegisterBuiltins(r *rpc.Registry) {
	imp := etf.Atom("imperial")
	r.Register(imp, "echo", func(c rpc.Call) (any, error) {
		if len(c.Args) != 1 {
			return nil, rpc.Undef()
		}
		return c.Args[0], nil
	})
	r.Register(imp, "nodes", func(c rpc.Call) (any, error) {
		if len(c.Args) != 0 {
			return nil, rpc.Undef()
		}
		return nodeList(c.Process.Node()), nil
	})
	r.Register(imp, "erlang_rpc", func(c rpc.Call) (any, error) {
		if len(c.Args) != 4 {
			return nil, rpc.Undef()
		}
		peer, ok1 := c.Args[0].(etf.Atom)
		m, ok2 := c.Args[1].(etf.Atom)
		f, ok3 := c.Args[2].(etf.Atom)
		args, ok4 := c.Args[3].(etf.List)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, rpc.Badarg()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		v, err := RPC(ctx, c.Process.Node(), gen.Atom(peer), m, f, args)
		if err != nil {
			return nil, reraise(err)
		}
		return v, nil
	})
	r.Register(imp, "erlang_send_message", func(c rpc.Call) (any, error) {
		if len(c.Args) != 3 {
			return nil, rpc.Undef()
		}
		peer, ok := c.Args[0].(etf.Atom)
		if !ok {
			return nil, rpc.Badarg()
		}
		var to any
		switch t := c.Args[1].(type) {
		case etf.Atom:
			to = gen.ProcessID{Name: gen.Atom(t), Node: gen.Atom(peer)}
		case gen.PID:
			to = t
		default:
			return nil, rpc.Badarg()
		}
		if err := c.Process.Send(to, c.Args[2]); err != nil {
			return nil, rpc.Raise(etf.Tuple{etf.Atom("send_failed"), []byte(err.Error())})
		}
		return etf.Atom("true"), nil
	})

	erl := etf.Atom("erlang")
	r.Register(erl, "node", func(c rpc.Call) (any, error) {
		if len(c.Args) != 0 {
			return nil, rpc.Undef()
		}
		return etf.Atom(c.Process.Node().Name()), nil
	})
	r.Register(erl, "nodes", func(c rpc.Call) (any, error) {
		if len(c.Args) > 1 {
			return nil, rpc.Undef()
		}
		return nodeList(c.Process.Node()), nil
	})
	r.Register(erl, "is_alive", func(c rpc.Call) (any, error) { return etf.Atom("true"), nil })
	r.Register("lists", "reverse", func(c rpc.Call) (any, error) {
		if len(c.Args) != 1 {
			return nil, rpc.Undef()
		}
		l, ok := c.Args[0].(etf.List)
		if !ok {
			return nil, rpc.Raise(etf.Atom("function_clause"))
		}
		out := make(etf.List, len(l))
		for i, v := range l {
			out[len(l)-1-i] = v
		}
		return out, nil
	})
}

func nodeList(n gen.Node) etf.List {
	out := etf.List{}
	for _, p := range n.Network().Nodes() {
		out = append(out, etf.Atom(p))
	}
	return out
}

// reraise passes a remote exception on unchanged, and wraps a transport failure
// as {badrpc, Reason}.
func reraise(err error) error {
	if e, ok := err.(*dist.RPCError); ok {
		if e.Class == "badrpc" {
			return rpc.Throw(etf.Tuple{etf.Atom("badrpc"), e.Reason})
		}
		return &rpc.Exception{Class: e.Class, Reason: e.Reason, Stack: e.Stack}
	}
	return rpc.Throw(etf.Tuple{etf.Atom("badrpc"), dist.ReasonToTerm(err)})
}

// RPC calls Module:Function(Args) on peer as erpc:call does, connecting first if
// needed (the seed's erlang_rpc).
func RPC(ctx context.Context, n gen.Node, peer gen.Atom, m, f etf.Atom, args []any) (any, error) {
	rn, err := n.Network().GetNode(peer)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", peer, err)
	}
	c, ok := rn.(dist.Caller)
	if !ok {
		return nil, fmt.Errorf("%s: not an Erlang distribution peer", peer)
	}
	return c.RPC(ctx, n.PID(), m, f, args)
}
