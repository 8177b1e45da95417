package router

import (
	"imperial/actors/subscription"
	"imperial/node/etf"
	"imperial/node/rpc"
)

// ModuleName is the Erlang module the router answers to:
//
//	rpc:call(Node, imperial_router, subscriptions, []) →
//	    [{Key, [{Address, Modifier1, Modifier2, Requests, Weight, Ref, Dead}]}]
//
// Key and Address are binaries, Dead a boolean. (To subscribe a node from
// Erlang, send {imperial_subscription, Node} ! {imperial_subscription,
// Datagram}.)
const ModuleName etf.Atom = "imperial_router"

// callTimeout bounds a call to the subscription server, in seconds.
const callTimeout = 5

// Module is the imperial_router RPC module.
type Module struct{}

var _ rpc.Module = Module{}

// Exports lists subscriptions/0.
func (Module) Exports(function etf.Atom, arity int) bool {
	return function == "subscriptions" && arity == 0
}

// Call runs one function from the RPC worker's process.
func (Module) Call(c rpc.Call) (any, error) {
	r, err := c.Process.CallWithTimeout(subscription.Name, subscription.RequestStats{}, callTimeout)
	if err != nil {
		return nil, err
	}
	resp, ok := r.(subscription.ResponseStats)
	if !ok {
		return nil, rpc.Raise(etf.Atom("badreply"))
	}
	out := etf.List{}
	for _, sl := range resp.Slots {
		nodes := etf.List{}
		for _, n := range sl.Nodes {
			nodes = append(nodes, etf.Tuple{[]byte(n.Name), int64(n.Modifier1), int64(n.Modifier2),
				int64(n.Requests), int64(n.Weight), int64(n.Ref), n.DeathMark})
		}
		out = append(out, etf.Tuple{[]byte(sl.Key), nodes})
	}
	return out, nil
}
