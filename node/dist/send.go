package dist

import (
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/handshake"
)

// send queues one control message (and payload) for the writer, which encodes it
// in the pass-through form: the only form allowed when neither FRAGMENTS nor
// DIST_HDR_ATOM_CACHE is negotiated, and we advertise neither (spec §4.2).
func (c *conn) send(ctl etf.Tuple, payload any, hasPayload bool) error {
	return c.queue(outFrame{ctl: ctl, payload: payload, hasPayload: hasPayload})
}

func (c *conn) sendMessage(from gen.PID, to gen.PID, msg any) error {
	if c.has(handshake.FlagSendSender) {
		return c.send(etf.Tuple{int64(opSendSender), from, to}, msg, true)
	}
	return c.send(etf.Tuple{int64(opSend), etf.Atom(""), to}, msg, true)
}

func (c *conn) sendExitSignal(from, to gen.PID, reason any, linkExit bool) error {
	if c.has(handshake.FlagExitPayload) {
		op := opPayloadExit2
		if linkExit {
			op = opPayloadExit
		}
		return c.send(etf.Tuple{int64(op), from, to}, reason, true)
	}
	op := opExit2
	if linkExit {
		op = opExit
	}
	return c.send(etf.Tuple{int64(op), from, to, reason}, nil, false)
}

// sendDown reports a monitored process's end; from is a pid or a name atom.
func (c *conn) sendDown(from any, to gen.PID, ref etf.Ref, reason any) error {
	if c.has(handshake.FlagExitPayload) {
		if p, ok := from.(gen.PID); ok {
			return c.queue(outFrame{kind: frameDown, from: p, to: to, ref: ref, payload: reason})
		}
		return c.send(etf.Tuple{int64(opPayloadMonitorPExit), from, to, ref}, reason, true)
	}
	return c.send(etf.Tuple{int64(opMonitorPExit), from, to, ref, reason}, nil, false)
}

// newRef mints a reference unique to this connection (ergo's MakeRef repeats
// every 2^18 calls: ergo-network P12).
func (c *conn) newRef() etf.Ref {
	n := c.seq.Add(1)
	return etf.Ref{Node: etf.Atom(c.self), Creation: uint32(c.selfCreation),
		IDs: []uint32{uint32(n), uint32(n >> 32), c.magic}}
}

// newInternalRef mints the gen.Ref that keys an inbound request.
func (c *conn) newInternalRef() gen.Ref {
	n := c.seq.Add(1)
	return gen.Ref{Node: c.self, Creation: c.selfCreation, ID: [3]uint64{n, uint64(c.magic), 0x1D157}}
}

// newPseudoPID mints a pid for an erpc job; its ID range never meets ergo's.
func (c *conn) newPseudoPID() gen.PID {
	return gen.PID{Node: c.self, ID: 1<<40 | c.seq.Add(1)&0xFFFFFFFF, Creation: c.selfCreation}
}

func isDownOrExit(m any) bool {
	switch m.(type) {
	case gen.MessageDownPID, gen.MessageDownProcessID, gen.MessageDownAlias, gen.MessageDownEvent,
		gen.MessageDownNode, gen.MessageExitPID, gen.MessageExitProcessID, gen.MessageExitAlias,
		gen.MessageExitEvent, gen.MessageExitNode:
		return true
	}
	return false
}

// gen.Connection: outbound

func (c *conn) SendPID(from gen.PID, to gen.PID, o gen.MessageOptions, m any) error {
	if isDownOrExit(m) {
		// ergo's own notices to remote watchers; the wire DOWN/EXIT come from SendTerminate*
		return nil
	}
	if to.ID == 0 {
		return nil // the peer pseudo pid
	}
	if to.Creation != c.peerCreation {
		return gen.ErrProcessIncarnation
	}
	if o.ImportantDelivery {
		return gen.ErrUnsupported
	}
	return c.sendMessage(from, to, m)
}

func (c *conn) SendProcessID(from gen.PID, to gen.ProcessID, o gen.MessageOptions, m any) error {
	if o.ImportantDelivery {
		return gen.ErrUnsupported
	}
	return c.send(etf.Tuple{int64(opRegSend), from, etf.Atom(""), etf.Atom(to.Name)}, m, true)
}

func (c *conn) SendAlias(from gen.PID, to gen.Alias, o gen.MessageOptions, m any) error {
	if !c.has(handshake.FlagAlias) || o.ImportantDelivery {
		return gen.ErrUnsupported
	}
	return c.send(etf.Tuple{int64(opAliasSend), from, RefToETF(gen.Ref(to))}, m, true)
}

func (c *conn) SendEvent(gen.PID, gen.MessageOptions, gen.MessageEvent) error {
	return gen.ErrUnsupported
}

func (c *conn) SendExit(from gen.PID, to gen.PID, reason error) error {
	return c.sendExitSignal(from, to, ReasonToTerm(reason), false)
}

// SendResponse answers a request that came from the peer: a bridged gen_server
// call, or an erpc job whose result becomes the DOWN/EXIT reason.
func (c *conn) SendResponse(from gen.PID, to gen.PID, o gen.MessageOptions, v any) error {
	c.mu.Lock()
	in := c.t.delInbound(o.Ref)
	c.mu.Unlock()
	if in == nil {
		return gen.ErrResponseIgnored
	}
	if in.kind == inboundJob {
		return c.finishJob(in, v, nil)
	}
	return c.replyGenCall(from, in, v)
}

// SendResponseError has no Erlang counterpart: the caller gets {error, Reason}.
func (c *conn) SendResponseError(from gen.PID, to gen.PID, o gen.MessageOptions, err error) error {
	c.mu.Lock()
	in := c.t.delInbound(o.Ref)
	c.mu.Unlock()
	if in == nil {
		return gen.ErrResponseIgnored
	}
	if in.kind == inboundJob {
		return c.finishJob(in, nil, err)
	}
	return c.replyGenCall(from, in, etf.Tuple{etf.Atom("error"), ReasonToTerm(err)})
}

func (c *conn) replyGenCall(from gen.PID, in *inbound, v any) error {
	if il, ok := in.tag.(etf.ImproperList); ok && c.has(handshake.FlagAlias) && len(il.Elems) == 1 && il.Elems[0] == etf.Atom("alias") {
		if alias, ok := il.Tail.(etf.Ref); ok {
			return c.queue(outFrame{kind: frameAliasReply, from: from, ref: alias, tag: in.tag, payload: v})
		}
	}
	return c.sendMessage(from, in.caller, etf.Tuple{in.tag, v})
}

// SendTerminatePID: a local process that peer processes link to or monitor ended.
func (c *conn) SendTerminatePID(t gen.PID, reason error) error {
	r := ReasonToTerm(reason)
	c.mu.Lock()
	var exits []gen.PID
	for k, l := range c.t.links {
		if k.local == t {
			if l.active {
				exits = append(exits, k.remote)
			}
			delete(c.t.links, k)
		}
	}
	downs := c.t.takeTarget(target{pid: t})
	c.mu.Unlock()
	for _, remote := range exits {
		c.sendExitSignal(t, remote, r, true)
	}
	for _, m := range downs {
		c.sendDown(t, m.watcher, m.ref, r)
	}
	return nil
}

// SendTerminateProcessID: a registered name that peer processes monitor went away.
func (c *conn) SendTerminateProcessID(t gen.ProcessID, reason error) error {
	r := ReasonToTerm(reason)
	c.mu.Lock()
	downs := c.t.takeTarget(target{name: t.Name})
	c.mu.Unlock()
	for _, m := range downs {
		c.sendDown(etf.Atom(t.Name), m.watcher, m.ref, r)
	}
	return nil
}

func (c *conn) SendTerminateAlias(gen.Alias, error) error { return nil }
func (c *conn) SendTerminateEvent(gen.Event, error) error { return nil }

// CallPID: one of our processes calls a peer process as gen_server:call does:
// MONITOR_P with the tag, then {'$gen_call', {From, Tag}, Msg}. A plain ref tag,
// so the reply comes to the pid (spec §7.2).
func (c *conn) CallPID(from gen.PID, to gen.PID, o gen.MessageOptions, m any) error {
	if to.Creation != c.peerCreation {
		return gen.ErrProcessIncarnation
	}
	tag, err := c.addOutCall(from, o.Ref, to)
	if err != nil {
		return err
	}
	if err := c.send(etf.Tuple{int64(opMonitorP), from, to, tag}, nil, false); err != nil {
		return err
	}
	return c.sendMessage(from, to, etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{from, tag}, m})
}

func (c *conn) CallProcessID(from gen.PID, to gen.ProcessID, o gen.MessageOptions, m any) error {
	name := etf.Atom(to.Name)
	tag, err := c.addOutCall(from, o.Ref, name)
	if err != nil {
		return err
	}
	if err := c.send(etf.Tuple{int64(opMonitorP), from, name, tag}, nil, false); err != nil {
		return err
	}
	return c.send(etf.Tuple{int64(opRegSend), from, etf.Atom(""), name},
		etf.Tuple{etf.Atom("$gen_call"), etf.Tuple{from, tag}, m}, true)
}

func (c *conn) CallAlias(gen.PID, gen.Alias, gen.MessageOptions, any) error {
	return gen.ErrUnsupported
}

func (c *conn) addOutCall(from gen.PID, ref gen.Ref, to any) (etf.Ref, error) {
	tag := c.newRef()
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.t.outCalls) >= maxPending {
		for k, oc := range c.t.outCalls {
			if now.Sub(oc.at) > pendingMaxAge {
				delete(c.t.outCalls, k)
			}
		}
		if len(c.t.outCalls) >= maxPending {
			return tag, ErrTooManyPending
		}
	}
	c.t.outCalls[keyOf(tag)] = outCall{from: from, ref: ref, to: to, at: now}
	return tag, nil
}

func (c *conn) LinkPID(p gen.PID, t gen.PID) error {
	c.mu.Lock()
	c.t.links[linkKey{local: p, remote: t}] = &linkState{ours: true, active: true}
	c.mu.Unlock()
	return c.send(etf.Tuple{int64(opLink), p, t}, nil, false)
}

func (c *conn) UnlinkPID(p gen.PID, t gen.PID) error {
	id := c.seq.Add(1)
	c.mu.Lock()
	l := c.t.links[linkKey{local: p, remote: t}]
	if l == nil {
		c.mu.Unlock()
		return nil
	}
	l.active, l.unlinkID = false, id
	c.mu.Unlock()
	if !c.has(handshake.FlagUnlinkID) {
		c.mu.Lock()
		delete(c.t.links, linkKey{local: p, remote: t})
		c.mu.Unlock()
		return c.send(etf.Tuple{int64(opUnlink), p, t}, nil, false)
	}
	return c.send(etf.Tuple{int64(opUnlinkID), int64(id), p, t}, nil, false)
}

// Erlang cannot link to a name: emulate with a monitor whose DOWN terminates the
// ergo link consumers (ergo links are one-way anyway).
func (c *conn) LinkProcessID(p gen.PID, t gen.ProcessID) error {
	return c.monitorOut(outMonKey{local: p, name: t.Name, isLink: true})
}

func (c *conn) UnlinkProcessID(p gen.PID, t gen.ProcessID) error {
	return c.demonitorOut(outMonKey{local: p, name: t.Name, isLink: true})
}

func (c *conn) MonitorPID(p gen.PID, t gen.PID) error {
	return c.monitorOut(outMonKey{local: p, pid: t})
}

func (c *conn) DemonitorPID(p gen.PID, t gen.PID) error {
	return c.demonitorOut(outMonKey{local: p, pid: t})
}

func (c *conn) MonitorProcessID(p gen.PID, t gen.ProcessID) error {
	return c.monitorOut(outMonKey{local: p, name: t.Name})
}

func (c *conn) DemonitorProcessID(p gen.PID, t gen.ProcessID) error {
	return c.demonitorOut(outMonKey{local: p, name: t.Name})
}

func (k outMonKey) target() any {
	if k.name != "" {
		return etf.Atom(k.name)
	}
	return k.pid
}

func (c *conn) monitorOut(k outMonKey) error {
	ref := c.newRef()
	c.mu.Lock()
	if _, dup := c.t.outMonIdx[k]; dup {
		c.mu.Unlock()
		return gen.ErrTargetExist
	}
	c.t.outMons[keyOf(ref)] = outMon{local: k.local, pid: k.pid, name: k.name, ref: ref, isLink: k.isLink}
	c.t.outMonIdx[k] = keyOf(ref)
	c.mu.Unlock()
	return c.send(etf.Tuple{int64(opMonitorP), k.local, k.target(), ref}, nil, false)
}

func (c *conn) demonitorOut(k outMonKey) error {
	c.mu.Lock()
	rk, ok := c.t.outMonIdx[k]
	var m outMon
	if ok {
		m = c.t.outMons[rk]
		delete(c.t.outMonIdx, k)
		delete(c.t.outMons, rk)
	}
	c.mu.Unlock()
	if !ok {
		return gen.ErrTargetUnknown
	}
	return c.send(etf.Tuple{int64(opDemonitorP), k.local, k.target(), m.ref}, nil, false)
}

func (c *conn) LinkAlias(gen.PID, gen.Alias) error   { return gen.ErrUnsupported }
func (c *conn) UnlinkAlias(gen.PID, gen.Alias) error { return gen.ErrUnsupported }
func (c *conn) LinkEvent(gen.PID, gen.Event) ([]gen.MessageEvent, error) {
	return nil, gen.ErrUnsupported
}
func (c *conn) UnlinkEvent(gen.PID, gen.Event) error    { return gen.ErrUnsupported }
func (c *conn) MonitorAlias(gen.PID, gen.Alias) error   { return gen.ErrUnsupported }
func (c *conn) DemonitorAlias(gen.PID, gen.Alias) error { return gen.ErrUnsupported }
func (c *conn) DemonitorEvent(gen.PID, gen.Event) error { return gen.ErrUnsupported }
func (c *conn) RemoteSpawn(gen.Atom, gen.ProcessOptionsExtra) (gen.PID, error) {
	return gen.PID{}, gen.ErrUnsupported
}
func (c *conn) MonitorEvent(gen.PID, gen.Event) ([]gen.MessageEvent, error) {
	return nil, gen.ErrUnsupported
}
