package emperor

import (
	"errors"

	"imperial/actors/emperor"
	"imperial/node/etf"
	"imperial/node/rpc"
)

// ModuleName is the Erlang module the emperor answers to:
//
//	rpc:call(Node, emperor, vassals, [])  → [{Name, State, OSPid, Restarts, LastChange}]
//	rpc:call(Node, emperor, reload, [Name]) → ok | {error, not_found}
//	rpc:call(Node, emperor, stop, [Name])   → ok | {error, not_found}
//
// Name is a binary (<<"app.ini">>), a string or an atom; State an atom
// (starting, running, reloading, stopping, stopped, throttled, on_demand,
// refused); OSPid 0 when no process runs; LastChange in Unix seconds.
const ModuleName etf.Atom = "emperor"

// callTimeout bounds a call to the emperor actor, in seconds.
const callTimeout = 5

// Module is the `emperor` RPC module; it calls the emperor actor from the RPC
// worker running the call.
type Module struct{}

var _ rpc.Module = Module{}

// Exports lists vassals/0, reload/1, stop/1.
func (Module) Exports(function etf.Atom, arity int) bool {
	switch function {
	case "vassals":
		return arity == 0
	case "reload", "stop":
		return arity == 1
	}
	return false
}

// Call runs one function.
func (Module) Call(c rpc.Call) (any, error) {
	switch c.Function {
	case "vassals":
		r, err := c.Process.CallWithTimeout(emperor.Name, emperor.RequestVassals{}, callTimeout)
		if err != nil {
			return nil, err
		}
		resp, ok := r.(emperor.ResponseVassals)
		if !ok {
			return nil, rpc.Raise(etf.Atom("badreply"))
		}
		out := etf.List{}
		for _, v := range resp.Vassals {
			out = append(out, etf.Tuple{[]byte(v.Name), etf.Atom(v.State), int64(v.OSPid), int64(v.Restarts), v.LastChange.Unix()})
		}
		return out, nil
	case "reload", "stop":
		name, ok := nameArg(c.Args[0])
		if !ok {
			return nil, rpc.Badarg()
		}
		var req any = emperor.RequestReload{Name: name}
		if c.Function == "stop" {
			req = emperor.RequestStop{Name: name}
		}
		r, err := c.Process.CallWithTimeout(emperor.Name, req, callTimeout)
		if err != nil {
			return nil, err
		}
		resp, ok := r.(emperor.ResponseAction)
		if !ok {
			return nil, rpc.Raise(etf.Atom("badreply"))
		}
		if errors.Is(resp.Err, emperor.ErrUnknownVassal) {
			return etf.Tuple{etf.Atom("error"), etf.Atom("not_found")}, nil
		}
		if resp.Err != nil {
			return etf.Tuple{etf.Atom("error"), []byte(resp.Err.Error())}, nil
		}
		return etf.Atom("ok"), nil
	}
	return nil, rpc.Undef()
}

// nameArg accepts a vassal name as a binary, a string (list of codes) or an atom.
func nameArg(a any) (string, bool) {
	switch v := a.(type) {
	case []byte:
		return string(v), true
	case etf.Atom:
		return string(v), true
	case etf.List:
		b := make([]byte, 0, len(v))
		for _, x := range v {
			n, ok := x.(int64)
			if !ok || n < 0 || n > 255 {
				return "", false
			}
			b = append(b, byte(n))
		}
		return string(b), true
	}
	return "", false
}
