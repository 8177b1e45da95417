package kernel

// net_kernel
//
// Accepts  Call {is_auth, Node} → yes (net_adm:ping's question); other calls →
//          {error, unsupported}.
// Owns     nothing.

import (
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// NetKernelName is registered as erl's net_kernel is.
const NetKernelName gen.Atom = "net_kernel"

var _ act.ActorBehavior = (*netKernel)(nil)

func factoryNetKernel() gen.ProcessBehavior { return &netKernel{} }

type netKernel struct{ act.Actor }

func (n *netKernel) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	if t, ok := request.(etf.Tuple); ok && len(t) == 2 && t[0] == etf.Atom("is_auth") {
		return etf.Atom("yes"), nil
	}
	return etf.Tuple{etf.Atom("error"), etf.Atom("unsupported")}, nil
}
