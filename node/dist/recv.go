package dist

import (
	"errors"
	"fmt"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// dispatch routes one control message (spec §5, ergo-network §3.1). It runs on the
// read goroutine, so per-pair ordering is the arrival order. A malformed control
// message closes the connection, as erl does.
func (c *conn) dispatch(ctl etf.Tuple, payload any, hasPayload bool) error {
	op, ok := ctl[0].(int64)
	if !ok {
		return fmt.Errorf("%w: op %v", ErrMalformed, ctl[0])
	}
	bad := func() error { return fmt.Errorf("%w: %v", ErrMalformed, ctl) }
	pidAt := func(i int) (gen.PID, bool) {
		if i >= len(ctl) {
			return gen.PID{}, false
		}
		p, ok := ctl[i].(gen.PID)
		return p, ok
	}
	arity := func(n int, payload bool) bool { return len(ctl) == n && hasPayload == payload }

	switch op {
	case opSend, opSendTT:
		if !(arity(3, true) || op == opSendTT && arity(4, true)) {
			return bad()
		}
		to, ok := pidAt(2)
		if !ok {
			return bad()
		}
		return c.deliver(c.peerPID, to, payload)

	case opSendSender, opSendSenderTT:
		from, ok1 := pidAt(1)
		to, ok2 := pidAt(2)
		if !ok1 || !ok2 || !(arity(3, true) || op == opSendSenderTT && arity(4, true)) {
			return bad()
		}
		return c.deliver(from, to, payload)

	case opRegSend, opRegSendTT:
		from, ok1 := pidAt(1)
		name, ok2 := ctl[min(3, len(ctl)-1)].(etf.Atom)
		if !ok1 || !ok2 || !(arity(4, true) || op == opRegSendTT && arity(5, true)) {
			return bad()
		}
		return c.deliverName(from, gen.Atom(name), payload)

	case opAliasSend, opAliasSendTT:
		from, ok1 := pidAt(1)
		alias, ok2 := ctl[min(2, len(ctl)-1)].(etf.Ref)
		if !ok1 || !ok2 || !(arity(3, true) || op == opAliasSendTT && arity(4, true)) {
			return bad()
		}
		if c.response(from, payload) {
			return nil
		}
		if gen.Atom(alias.Node) != c.self || len(alias.IDs) != 3 {
			return nil // not ours: erts drops it
		}
		a := gen.Alias{Node: c.self, Creation: int64(alias.Creation),
			ID: [3]uint64{uint64(alias.IDs[0]), uint64(alias.IDs[1]), uint64(alias.IDs[2])}}
		c.ignore(c.core.RouteSendAlias(from, a, gen.MessageOptions{}, payload))
		return nil

	case opLink:
		from, ok1 := pidAt(1)
		to, ok2 := pidAt(2)
		if !ok1 || !ok2 || !arity(3, false) {
			return bad()
		}
		return c.linkIn(from, to)

	case opUnlinkID:
		if !arity(4, false) {
			return bad()
		}
		from, ok1 := pidAt(2)
		to, ok2 := pidAt(3)
		if !ok1 || !ok2 {
			return bad()
		}
		c.mu.Lock()
		k := linkKey{local: to, remote: from}
		if l := c.t.links[k]; l != nil && l.active {
			delete(c.t.links, k)
		}
		c.mu.Unlock()
		// the ack goes out before any other signal to From (spec §5)
		return c.send(etf.Tuple{int64(opUnlinkIDAck), ctl[1], to, from}, nil, false)

	case opUnlinkIDAck:
		if !arity(4, false) {
			return bad()
		}
		from, ok1 := pidAt(2)
		to, ok2 := pidAt(3)
		if !ok1 || !ok2 {
			return bad()
		}
		id, _ := ctl[1].(int64)
		c.mu.Lock()
		k := linkKey{local: to, remote: from}
		if l := c.t.links[k]; l != nil && !l.active && int64(l.unlinkID) == id {
			delete(c.t.links, k)
		}
		c.mu.Unlock()
		return nil

	case opExit, opExitTT, opPayloadExit, opPayloadExitTT, opExit2, opExit2TT, opPayloadExit2, opPayloadExit2TT:
		from, ok1 := pidAt(1)
		to, ok2 := pidAt(2)
		if !ok1 || !ok2 {
			return bad()
		}
		var reason any
		switch op {
		case opExit, opExit2:
			if !arity(4, false) {
				return bad()
			}
			reason = ctl[3]
		case opExitTT, opExit2TT:
			if !arity(5, false) {
				return bad()
			}
			reason = ctl[4]
		case opPayloadExit, opPayloadExit2:
			if !arity(3, true) {
				return bad()
			}
			reason = payload
		default:
			if !arity(4, true) {
				return bad()
			}
			reason = payload
		}
		linkExit := op == opExit || op == opExitTT || op == opPayloadExit || op == opPayloadExitTT
		c.exitIn(from, to, reason, linkExit)
		return nil

	case opMonitorP:
		from, ok1 := pidAt(1)
		ref, ok2 := ctl[min(3, len(ctl)-1)].(etf.Ref)
		if !ok1 || !ok2 || !arity(4, false) {
			return bad()
		}
		tg, ok3 := targetOf(ctl[2])
		if !ok3 {
			return bad()
		}
		return c.monitorIn(from, tg, ref)

	case opDemonitorP:
		ref, ok := ctl[min(3, len(ctl)-1)].(etf.Ref)
		if !ok || !arity(4, false) {
			return bad()
		}
		tg, _ := targetOf(ctl[2]) // anything else matches no monitor
		c.demonitorIn(tg, keyOf(ref))
		return nil

	case opMonitorPExit, opPayloadMonitorPExit:
		if !(op == opMonitorPExit && arity(5, false) || op == opPayloadMonitorPExit && arity(4, true)) {
			return bad()
		}
		ref, ok := ctl[3].(etf.Ref)
		if !ok {
			return bad()
		}
		reason := payload
		if op == opMonitorPExit {
			reason = ctl[4]
		}
		c.downIn(ctl[1], ref, reason)
		return nil

	case opSpawnRequest, opSpawnRequestTT:
		if !(op == opSpawnRequest && arity(6, true) || op == opSpawnRequestTT && arity(7, true)) {
			return bad()
		}
		return c.spawnRequest(ctl, payload)

	case opSpawnReply, opSpawnReplyTT:
		if !(op == opSpawnReply && arity(5, false) || op == opSpawnReplyTT && arity(6, false)) {
			return bad()
		}
		return c.spawnReply(ctl)

	case opGroupLeader, opUnlink, opNodeLink:
		// group leaders of our processes are not Erlang's; UNLINK and NODE_LINK are obsolete
		return nil
	}
	return fmt.Errorf("%w: unknown op %d", ErrMalformed, op)
}

// targetOf reads a monitor target: a pid or a registered name.
func targetOf(v any) (target, bool) {
	switch t := v.(type) {
	case gen.PID:
		return target{pid: t}, true
	case etf.Atom:
		return target{name: gen.Atom(t)}, true
	}
	return target{}, false
}

// ignore drops a routing error for a name or pid that is gone: erl does the same.
func (c *conn) ignore(err error) {
	if err != nil && c.log.Level() <= gen.LogLevelDebug {
		c.log.Debug("dist: from %s: %s", c.peer, err)
	}
}

// deliver routes a message to a local pid: a reply to one of our calls, a bridged
// $gen_call, a message for a pseudo process, or a plain message.
func (c *conn) deliver(from, to gen.PID, msg any) error {
	if c.response(from, msg) {
		return nil
	}
	if to.ID>>40 != 0 || to.ID == glID {
		c.pseudoMessage(to, msg)
		return nil
	}
	if call, ok := genCall(msg); ok {
		ref, err := c.addGenCall(call)
		if err != nil {
			return nil
		}
		if err := c.core.RouteCallPID(call.from, to, gen.MessageOptions{Ref: ref}, call.req); err != nil {
			c.dropInbound(ref)
			c.ignore(err)
		}
		return nil
	}
	c.ignore(c.core.RouteSendPID(from, to, gen.MessageOptions{}, msg))
	return nil
}

func (c *conn) deliverName(from gen.PID, name gen.Atom, msg any) error {
	if call, ok := genCall(msg); ok {
		ref, err := c.addGenCall(call)
		if err != nil {
			return nil
		}
		to := gen.ProcessID{Name: name, Node: c.self}
		if err := c.core.RouteCallProcessID(call.from, to, gen.MessageOptions{Ref: ref}, call.req); err != nil {
			// the caller's MONITOR_P has already told it noproc
			c.dropInbound(ref)
			c.ignore(err)
		}
		return nil
	}
	c.ignore(c.core.RouteSendProcessID(from, gen.ProcessID{Name: name, Node: c.self}, gen.MessageOptions{}, msg))
	return nil
}

type genCallMsg struct {
	from gen.PID
	tag  any
	req  any
}

// genCall recognises {'$gen_call', {From, Tag}, Request}.
func genCall(msg any) (genCallMsg, bool) {
	t, ok := msg.(etf.Tuple)
	if !ok || len(t) != 3 || t[0] != etf.Atom("$gen_call") {
		return genCallMsg{}, false
	}
	ft, ok := t[1].(etf.Tuple)
	if !ok || len(ft) != 2 {
		return genCallMsg{}, false
	}
	from, ok := ft[0].(gen.PID)
	if !ok {
		return genCallMsg{}, false
	}
	return genCallMsg{from: from, tag: ft[1], req: t[2]}, true
}

// mrefOf finds the monitor ref inside an [alias|Mref] (or [[alias|Mref]|_]) tag.
func mrefOf(tag any) (etf.Ref, bool) {
	il, ok := tag.(etf.ImproperList)
	if !ok || len(il.Elems) != 1 {
		return etf.Ref{}, false
	}
	if il.Elems[0] == etf.Atom("alias") {
		r, ok := il.Tail.(etf.Ref)
		return r, ok
	}
	return mrefOf(il.Elems[0])
}

func (c *conn) addGenCall(call genCallMsg) (gen.Ref, error) {
	ref := c.newInternalRef()
	in := &inbound{kind: inboundGenCall, caller: call.from, tag: call.tag, at: time.Now()}
	if r, ok := mrefOf(call.tag); ok {
		k := keyOf(r)
		in.mref = &k
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.t.inbound) >= maxPending {
		return ref, ErrTooManyPending
	}
	c.t.inbound[ref] = in
	if in.mref != nil {
		c.t.byMref[*in.mref] = ref
	}
	return ref, nil
}

func (c *conn) dropInbound(ref gen.Ref) {
	c.mu.Lock()
	c.t.delInbound(ref)
	c.mu.Unlock()
}

// response completes one of our outbound calls if msg is {Tag, Value} with a Tag
// we issued.
func (c *conn) response(from gen.PID, msg any) bool {
	t, ok := msg.(etf.Tuple)
	if !ok || len(t) != 2 {
		return false
	}
	tag, ok := t[0].(etf.Ref)
	if !ok || gen.Atom(tag.Node) != c.self {
		return false
	}
	k := keyOf(tag)
	c.mu.Lock()
	oc, found := c.t.outCalls[k]
	if found {
		delete(c.t.outCalls, k)
	}
	c.mu.Unlock()
	if !found {
		return false
	}
	c.send(etf.Tuple{int64(opDemonitorP), oc.from, oc.to, tag}, nil, false)
	c.ignore(c.core.RouteSendResponse(from, oc.from, gen.MessageOptions{Ref: oc.ref}, t[1]))
	return true
}

func (c *conn) linkIn(from, to gen.PID) error {
	if to.ID>>40 != 0 {
		return nil // a pseudo process: links come from spawn options
	}
	err := c.core.RouteLinkPID(from, to)
	if errors.Is(err, gen.ErrProcessUnknown) || errors.Is(err, gen.ErrProcessTerminated) {
		return c.sendExitSignal(to, from, etf.Atom("noproc"), true)
	}
	c.mu.Lock()
	k := linkKey{local: to, remote: from}
	if c.t.links[k] == nil {
		c.t.links[k] = &linkState{active: true}
	}
	c.mu.Unlock()
	return nil
}

// exitIn handles a link exit (linkExit) or an exit/2 signal from a peer process.
func (c *conn) exitIn(from, to gen.PID, reason any, linkExit bool) {
	if to.ID>>40 != 0 {
		c.cancelJob(to)
		return
	}
	if !linkExit {
		if reason == etf.Atom("normal") {
			return // ergo actors die on any exit; Erlang ignores a normal exit/2
		}
		c.ignore(c.core.RouteSendExit(from, to, TermToReason(reason)))
		return
	}
	k := linkKey{local: to, remote: from}
	c.mu.Lock()
	l := c.t.links[k]
	if l != nil {
		delete(c.t.links, k)
	}
	c.mu.Unlock()
	if l == nil || !l.active {
		return
	}
	if l.ours {
		c.ignore(c.core.RouteTerminatePID(from, TermToReason(reason)))
		return
	}
	if reason != etf.Atom("normal") {
		c.ignore(c.core.RouteSendExit(from, to, TermToReason(reason)))
	}
}

// monitorIn: a peer process monitors a local pid or name. One ergo registration per
// target, with the peer pseudo pid as consumer (ergo-network P11).
func (c *conn) monitorIn(from gen.PID, tg target, ref etf.Ref) error {
	if tg.pid.ID>>40 != 0 || tg.pid.ID == glID && tg.pid.Node == c.self {
		return nil // pseudo processes live as long as their work
	}
	c.mu.Lock()
	first := c.t.addInMon(inMon{target: tg, watcher: from, ref: ref})
	c.mu.Unlock()
	if !first {
		return nil
	}
	var err error
	if tg.name != "" {
		err = c.core.RouteMonitorProcessID(c.peerPID, gen.ProcessID{Name: tg.name, Node: c.self})
	} else {
		err = c.core.RouteMonitorPID(c.peerPID, tg.pid)
	}
	if err == nil || errors.Is(err, gen.ErrTargetExist) {
		return nil
	}
	c.mu.Lock()
	downs := c.t.takeTarget(tg)
	c.mu.Unlock()
	for _, m := range downs {
		c.sendDown(tg.term(), m.watcher, m.ref, etf.Atom("noproc"))
	}
	return nil
}

func (c *conn) demonitorIn(tg target, k refKey) {
	c.mu.Lock()
	c.t.delInMon(k)
	var cancelled *inbound
	if r, ok := c.t.byMref[k]; ok {
		// the caller of a bridged gen_server:call gave up
		cancelled = c.t.delInbound(r)
	}
	c.mu.Unlock()
	_ = cancelled
	if tg.pid.ID>>40 != 0 {
		c.cancelJob(tg.pid)
	}
}

// downIn: a peer process we monitor (or called, or spawned) is gone.
func (c *conn) downIn(from any, ref etf.Ref, reason any) {
	k := keyOf(ref)
	c.mu.Lock()
	if sw, ok := c.t.spawns[k]; ok {
		delete(c.t.spawns, k)
		c.mu.Unlock()
		sw.reply <- rpcOutcome{down: reason}
		return
	}
	if oc, ok := c.t.outCalls[k]; ok {
		delete(c.t.outCalls, k)
		c.mu.Unlock()
		c.ignore(c.core.RouteSendResponseError(c.peerPID, oc.from, gen.MessageOptions{Ref: oc.ref}, callError(reason)))
		return
	}
	m, ok := c.t.outMons[k]
	if ok {
		delete(c.t.outMons, k)
		delete(c.t.outMonIdx, outMonKey{local: m.local, pid: m.pid, name: m.name, isLink: m.isLink})
	}
	c.mu.Unlock()
	if !ok {
		return
	}
	if m.name != "" {
		c.ignore(c.core.RouteTerminateProcessID(gen.ProcessID{Name: m.name, Node: c.peer}, TermToReason(reason)))
		return
	}
	c.ignore(c.core.RouteTerminatePID(m.pid, TermToReason(reason)))
}

// callError is what an ergo Call to a peer process returns when the callee is gone.
func callError(reason any) error {
	switch reason {
	case etf.Atom("noproc"):
		return gen.ErrProcessUnknown
	case etf.Atom("noconnection"):
		return gen.ErrNoConnection
	}
	return TermToReason(reason)
}

// failPending answers everything still waiting on this peer when it goes away.
func (c *conn) failPending() {
	c.mu.Lock()
	calls := c.t.outCalls
	spawns := c.t.spawns
	c.t.outCalls = make(map[refKey]outCall)
	c.t.spawns = make(map[refKey]*spawnWait)
	c.t.inbound = make(map[gen.Ref]*inbound)
	c.t.byMref = make(map[refKey]gen.Ref)
	c.t.jobs = make(map[gen.PID]gen.Ref)
	c.mu.Unlock()
	for _, oc := range calls {
		c.core.RouteSendResponseError(c.peerPID, oc.from, gen.MessageOptions{Ref: oc.ref}, gen.ErrNoConnection)
	}
	for _, sw := range spawns {
		sw.reply <- rpcOutcome{err: gen.ErrNoConnection}
	}
}
