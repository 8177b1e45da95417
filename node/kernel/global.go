package kernel

// global_name_server: the minimal global responder (erlang-dist.md §8.2)
//
// Accepts  casts init_connect, lock_set, exchange (answered with our own, empty
//          name table and the list of our other visible peers, so that erl's
//          global connects to them: the transitive cluster); calls set_lock,
//          del_lock → true, register/register_ext → yes, unregister → ok.
//          resolved, new_nodes, in_sync, init_connect_ack, cancel_connect are ignored;
//          {remove_connection, N} (global asks us to drop N) disconnects N.
// Sends    to {global_name_server, Peer}.
// Owns     the peer tags (their sync tag) and a name table it only echoes.

import (
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// GlobalName is registered as erl's global_name_server is.
const GlobalName gen.Atom = "global_name_server"

var _ act.ActorBehavior = (*global)(nil)

func factoryGlobal() gen.ProcessBehavior { return &global{} }

type global struct {
	act.Actor
	myTag any
	tags  map[gen.Atom]any // each peer's sync tag, from its init_connect: echoed in our casts
	names map[etf.Atom]any
}

func (g *global) Init(args ...any) error {
	g.myTag = -int64(time.Now().UnixNano() & 0x7FFFFFFFFFFF)
	g.names = make(map[etf.Atom]any)
	g.tags = make(map[gen.Atom]any)
	return nil
}

func (g *global) cast(peer gen.Atom, msg any) {
	g.Send(gen.ProcessID{Name: GlobalName, Node: peer}, etf.Tuple{etf.Atom("$gen_cast"), msg})
}

// others lists our visible peers other than peer: what we tell erl we know.
func (g *global) others(peer gen.Atom) etf.List {
	out := etf.List{}
	for _, n := range g.Node().Network().Nodes() {
		if n != peer {
			out = append(out, etf.Atom(n))
		}
	}
	return out
}

func (g *global) HandleMessage(from gen.PID, message any) error {
	t, ok := message.(etf.Tuple)
	if !ok || len(t) == 0 {
		return nil
	}
	self := etf.Atom(g.Node().Name())
	if t[0] == etf.Atom("$gen_cast") && len(t) == 2 {
		c, ok := t[1].(etf.Tuple)
		if !ok || len(c) == 0 {
			return nil
		}
		switch c[0] {
		case etf.Atom("init_connect"):
			// {init_connect, {Vsn, Tag}, Peer, {locker, _, _, _}}
			if len(c) != 4 {
				return nil
			}
			vt, ok1 := c[1].(etf.Tuple)
			peer, ok2 := c[2].(etf.Atom)
			if !ok1 || !ok2 || len(vt) != 2 {
				return nil
			}
			g.tags[gen.Atom(peer)] = vt[1]
			g.cast(gen.Atom(peer), etf.Tuple{etf.Atom("init_connect"), etf.Tuple{vt[0], g.myTag}, self,
				etf.Tuple{etf.Atom("locker"), etf.Atom("no_longer_a_pid"), etf.Map{}, g.PID()}})
			g.Send(gen.ProcessID{Name: GlobalName, Node: gen.Atom(peer)},
				etf.Tuple{etf.Atom("init_connect_ack"), self, vt[1], g.myTag})
		case etf.Atom("lock_set"):
			// {lock_set, TheirLocker, true, Known, TheirTag}: their tag for us comes back
			if len(c) != 5 {
				return nil
			}
			locker, ok := c[1].(gen.PID)
			if !ok {
				return nil
			}
			if tag, ok := g.tags[locker.Node]; ok {
				g.cast(locker.Node, etf.Tuple{etf.Atom("lock_set"), g.PID(), etf.Atom("true"), etf.List{}, tag})
			}
		case etf.Atom("exchange"):
			// {exchange, Peer, Names, NamesExt, Tag}
			if len(c) != 5 {
				return nil
			}
			peer, ok := c[1].(etf.Atom)
			if !ok {
				return nil
			}
			tag, ok := g.tags[gen.Atom(peer)]
			if !ok {
				return nil
			}
			g.cast(gen.Atom(peer), etf.Tuple{etf.Atom("exchange"), self, etf.List{}, etf.List{}, tag})
			g.cast(gen.Atom(peer), etf.Tuple{etf.Atom("resolved"), self, etf.List{}, g.others(gen.Atom(peer)),
				etf.Atom("unused"), etf.List{}, tag})
		}
		return nil
	}
	if t[0] == etf.Atom("remove_connection") && len(t) == 2 {
		if n, ok := t[1].(etf.Atom); ok {
			if rn, err := g.Node().Network().Node(gen.Atom(n)); err == nil {
				rn.Disconnect()
			}
		}
	}
	return nil
}

func (g *global) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	t, ok := request.(etf.Tuple)
	if !ok || len(t) == 0 {
		return etf.Atom("false"), nil
	}
	switch t[0] {
	case etf.Atom("set_lock"), etf.Atom("del_lock"):
		return etf.Atom("true"), nil
	case etf.Atom("register"), etf.Atom("register_ext"):
		if len(t) >= 3 {
			if name, ok := t[1].(etf.Atom); ok {
				g.names[name] = t[2]
			}
		}
		return etf.Atom("yes"), nil
	case etf.Atom("unregister"):
		if len(t) == 2 {
			if name, ok := t[1].(etf.Atom); ok {
				delete(g.names, name)
			}
		}
		return etf.Atom("ok"), nil
	}
	return etf.Atom("false"), nil
}
