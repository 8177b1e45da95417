package dist

import (
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// refKey is a comparable form of an Erlang reference.
type refKey struct {
	node     etf.Atom
	creation uint32
	n        uint8
	ids      [5]uint32
}

func keyOf(r etf.Ref) refKey {
	k := refKey{node: r.Node, creation: r.Creation, n: uint8(len(r.IDs))}
	copy(k.ids[:], r.IDs)
	return k
}

// ref is the Erlang reference k stands for.
func (k refKey) ref() etf.Ref {
	return etf.Ref{Node: k.node, Creation: k.creation, IDs: append([]uint32(nil), k.ids[:k.n]...)}
}

// target is a local process that a peer watches: by pid, or by registered name.
type target struct {
	pid  gen.PID
	name gen.Atom
}

func (t target) term() any {
	if t.name != "" {
		return etf.Atom(t.name)
	}
	return t.pid
}

type linkKey struct{ local, remote gen.PID }

// linkState follows the UNLINK_ID link protocol (spec §5 rules).
type linkState struct {
	ours     bool   // set up by a local ergo LinkPID (else by the peer's LINK)
	active   bool   // false while our UNLINK_ID waits for its ack
	unlinkID uint64 // of our pending UNLINK_ID
}

// inMon is a peer process monitoring one of ours.
type inMon struct {
	target  target
	watcher gen.PID
	ref     etf.Ref
}

// outMon is one of our processes monitoring a peer process (or, for an emulated
// LinkProcessID, linked to a peer name).
type outMon struct {
	local  gen.PID
	pid    gen.PID  // the peer process, or
	name   gen.Atom // the peer's registered name
	ref    etf.Ref
	isLink bool
}

type outMonKey struct {
	local  gen.PID
	pid    gen.PID
	name   gen.Atom
	isLink bool
}

type inboundKind int

const (
	inboundGenCall inboundKind = iota // {'$gen_call', {From, Tag}, Req} bridged to an ergo Call
	inboundJob                        // an erpc execute_call or plain spawn run by the RPC process
)

// inbound is a request from the peer waiting for an ergo process's answer.
type inbound struct {
	kind   inboundKind
	caller gen.PID
	tag    any     // gen call: the tag to echo back unchanged
	mref   *refKey // gen call: the monitor ref inside an [alias|Mref] tag
	// job
	pid     gen.PID // the pseudo pid erl sees
	reqID   etf.Ref
	res     any // execute_call's result reference; nil for a plain spawn
	link    bool
	monitor bool
	at      time.Time
}

// outCall is a Call from one of our processes to a peer process.
type outCall struct {
	from gen.PID
	ref  gen.Ref // ergo's ref for the waiting caller
	to   any     // pid or name, for DEMONITOR_P
	at   time.Time
}

// spawnWait is our own SPAWN_REQUEST (outbound RPC) waiting for its reply and DOWN.
type spawnWait struct {
	from  gen.PID
	res   etf.Ref
	reply chan rpcOutcome
	pid   gen.PID // set by SPAWN_REPLY
}

type tables struct {
	links map[linkKey]*linkState

	inMons     map[refKey]inMon
	inByTarget map[target]map[refKey]struct{}
	registered map[target]bool // ergo monitor registered with peerPID as consumer

	outMons   map[refKey]outMon
	outMonIdx map[outMonKey]refKey

	inbound map[gen.Ref]*inbound
	byMref  map[refKey]gen.Ref
	jobs    map[gen.PID]gen.Ref // pseudo pid → inbound job

	outCalls map[refKey]outCall

	spawns map[refKey]*spawnWait // by ReqId
}

func (t *tables) init() {
	t.links = make(map[linkKey]*linkState)
	t.inMons = make(map[refKey]inMon)
	t.inByTarget = make(map[target]map[refKey]struct{})
	t.registered = make(map[target]bool)
	t.outMons = make(map[refKey]outMon)
	t.outMonIdx = make(map[outMonKey]refKey)
	t.inbound = make(map[gen.Ref]*inbound)
	t.byMref = make(map[refKey]gen.Ref)
	t.jobs = make(map[gen.PID]gen.Ref)
	t.outCalls = make(map[refKey]outCall)
	t.spawns = make(map[refKey]*spawnWait)
}

func (t *tables) addInMon(m inMon) (first bool) {
	k := keyOf(m.ref)
	t.inMons[k] = m
	set := t.inByTarget[m.target]
	if set == nil {
		set = make(map[refKey]struct{})
		t.inByTarget[m.target] = set
	}
	set[k] = struct{}{}
	first = !t.registered[m.target]
	t.registered[m.target] = true
	return first
}

func (t *tables) delInMon(k refKey) (inMon, bool) {
	m, ok := t.inMons[k]
	if !ok {
		return m, false
	}
	delete(t.inMons, k)
	// an emptied set stays while the target's ergo monitor does (takeTarget
	// drops both): the next call to the same name reuses it
	delete(t.inByTarget[m.target], k)
	return m, true
}

// takeTarget removes and returns every peer monitor of a local target that died.
func (t *tables) takeTarget(tg target) []inMon {
	set := t.inByTarget[tg]
	delete(t.inByTarget, tg)
	delete(t.registered, tg)
	out := make([]inMon, 0, len(set))
	for k := range set {
		out = append(out, t.inMons[k])
		delete(t.inMons, k)
	}
	return out
}

func (t *tables) delInbound(ref gen.Ref) *inbound {
	in := t.inbound[ref]
	if in == nil {
		return nil
	}
	delete(t.inbound, ref)
	if in.mref != nil {
		delete(t.byMref, *in.mref)
	}
	if in.kind == inboundJob {
		delete(t.jobs, in.pid)
	}
	return in
}
