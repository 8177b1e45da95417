package dist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// RequestExecute asks the RPC process to run Module:Function(Args...). It arrives
// as a Call (erpc execute_call, plain spawn) or, with Cast set, as a message.
type RequestExecute struct {
	Module      etf.Atom
	Function    etf.Atom
	Args        []any
	GroupLeader gen.PID
	Caller      gen.PID
	Cast        bool
}

// Result is the RPC process's answer to RequestExecute: how the function ended,
// in erpc's terms. Class is return, throw, exit or error; Stack is used with error.
type Result struct {
	Class etf.Atom
	Value any
	Stack any
}

// Result classes.
const (
	ClassReturn = etf.Atom("return")
	ClassThrow  = etf.Atom("throw")
	ClassExit   = etf.Atom("exit")
	ClassError  = etf.Atom("error")
)

// glID is the ID of this node's group leader pseudo process: remote functions
// that print while we call them block until it answers io_reply (spec §6.4).
const glID = 1<<40 - 1

// GroupLeader is the pid our outbound calls name as group leader.
func (c *conn) groupLeader() gen.PID {
	return gen.PID{Node: c.self, ID: glID, Creation: c.selfCreation}
}

// isMFA tells whether {M, F, A} names module:function/arity.
func isMFA(mfa etf.Tuple, m, f etf.Atom, a int64) bool {
	return mfa[0] == m && mfa[1] == f && mfa[2] == a
}

var mfaExecuteCall = etf.Tuple{etf.Atom("erpc"), etf.Atom("execute_call"), int64(4)}

// spawnRequest emulates spawn_request for erpc (ergo-network §4 option B): the
// SPAWN_REPLY goes out first, then the work runs in the RPC process, and its result
// becomes the DOWN (and EXIT) of a pseudo pid.
func (c *conn) spawnRequest(ctl etf.Tuple, payload any) error {
	reqID, ok1 := ctl[1].(etf.Ref)
	from, ok2 := ctl[2].(gen.PID)
	gl, _ := ctl[3].(gen.PID)
	mfa, ok3 := ctl[4].(etf.Tuple)
	opts, ok4 := ctl[5].(etf.List)
	args, ok5 := payload.(etf.List)
	if !ok1 || !ok2 || !ok3 || len(mfa) != 3 || !ok4 || !ok5 {
		return fmt.Errorf("%w: spawn request %v", ErrMalformed, ctl)
	}
	var link, monitor bool
	for _, o := range opts {
		switch o {
		case etf.Atom("link"):
			link = true
		case etf.Atom("monitor"):
			monitor = true
		}
	}
	flags := int64(0)
	if link {
		flags |= spawnFlagLink
	}
	if monitor {
		flags |= spawnFlagMonitor
	}
	refuse := func(reason string) error {
		return c.send(etf.Tuple{int64(opSpawnReply), reqID, from, int64(0), etf.Atom(reason)}, nil, false)
	}
	if c.opts.RPCName == "" && len(c.opts.RPCWorkers) == 0 {
		return refuse("notsup")
	}
	m, okm := mfa[0].(etf.Atom)
	f, okf := mfa[1].(etf.Atom)
	if !okm || !okf {
		return refuse("badarg")
	}

	job := &inbound{kind: inboundJob, caller: from, reqID: reqID, link: link, monitor: monitor, at: time.Now()}
	req := RequestExecute{GroupLeader: gl, Caller: from}
	switch {
	case isMFA(mfa, "erpc", "execute_call", 4):
		if len(args) != 4 {
			return refuse("badarg")
		}
		job.res = args[0]
		req.Module, _ = args[1].(etf.Atom)
		req.Function, _ = args[2].(etf.Atom)
		req.Args = listElems(args[3])
	case isMFA(mfa, "erpc", "execute_cast", 3):
		if len(args) != 3 {
			return refuse("badarg")
		}
		req.Module, _ = args[0].(etf.Atom)
		req.Function, _ = args[1].(etf.Atom)
		req.Args = listElems(args[2])
		req.Cast = true
	default:
		req.Module, req.Function, req.Args = m, f, args
	}

	job.pid = c.newPseudoPID()
	if err := c.queue(outFrame{kind: frameSpawnReply, ref: reqID, to: from, n: flags, from: job.pid}); err != nil {
		return err
	}
	rpc := gen.ProcessID{Name: c.rpcTarget(), Node: c.self}
	if req.Cast {
		c.ignore(c.core.RouteSendProcessID(from, rpc, gen.MessageOptions{}, req))
		if link || monitor {
			return c.finishJob(job, Result{Class: ClassReturn, Value: etf.Atom("ok")}, nil)
		}
		return nil
	}
	ref := c.newInternalRef()
	c.mu.Lock()
	if len(c.t.inbound) >= maxPending {
		c.mu.Unlock()
		return c.finishJob(job, nil, ErrTooManyPending)
	}
	c.t.inbound[ref] = job
	c.t.jobs[job.pid] = ref
	c.mu.Unlock()
	if err := c.core.RouteCallProcessID(from, rpc, gen.MessageOptions{Ref: ref}, req); err != nil {
		c.mu.Lock()
		c.t.delInbound(ref)
		c.mu.Unlock()
		return c.finishJob(job, nil, err)
	}
	return nil
}

func listElems(t any) []any {
	switch l := t.(type) {
	case etf.List:
		return l
	case []any:
		return l
	}
	return nil
}

// finishJob sends the end of a job's pseudo process: its DOWN to the caller (if it
// monitors) and its link exit (if linked), with erpc's reason shapes (spec §6.2).
func (c *conn) finishJob(job *inbound, v any, err error) error {
	var reason any
	r, ok := v.(Result)
	switch {
	case err != nil:
		reason = c.jobFailure(job, err)
	case !ok:
		// a worker answered with a bare value: treat it as the return value
		r = Result{Class: ClassReturn, Value: v}
		fallthrough
	default:
		reason = c.jobReason(job, r)
	}
	var first error
	if job.monitor {
		first = c.sendDown(job.pid, job.caller, job.reqID, reason)
	}
	if job.link {
		if e := c.sendExitSignal(job.pid, job.caller, reason, true); first == nil {
			first = e
		}
	}
	return first
}

func (c *conn) jobReason(job *inbound, r Result) any {
	if job.res == nil {
		// a plain spawn: the process ends normally or with the error's reason
		switch r.Class {
		case ClassReturn:
			return etf.Atom("normal")
		case ClassError:
			return etf.Tuple{r.Value, stackOr(r.Stack)}
		}
		return r.Value
	}
	switch r.Class {
	case ClassReturn, ClassThrow, ClassExit:
		return etf.Tuple{job.res, r.Class, r.Value}
	}
	return etf.Tuple{job.res, ClassError, r.Value, stackOr(r.Stack)}
}

func stackOr(s any) any {
	if s == nil {
		return etf.List{}
	}
	return s
}

// jobFailure maps a dispatch failure to what erpc would report.
func (c *conn) jobFailure(job *inbound, err error) any {
	if job.res == nil {
		return etf.Atom("noproc")
	}
	if errors.Is(err, gen.ErrProcessUnknown) || errors.Is(err, gen.ErrProcessTerminated) {
		return etf.Tuple{job.res, ClassError, etf.Tuple{etf.Atom("erpc"), etf.Atom("notsup")}, etf.List{}}
	}
	return etf.Tuple{job.res, ClassExit, ReasonToTerm(err)}
}

// cancelJob forgets a job whose caller gave up (DEMONITOR_P or an exit to the
// pseudo pid); the RPC process's late answer is then ignored.
func (c *conn) cancelJob(p gen.PID) {
	c.mu.Lock()
	if ref, ok := c.t.jobs[p]; ok {
		c.t.delInbound(ref)
	}
	c.mu.Unlock()
}

// pseudoMessage handles messages to pseudo processes: io requests to our group
// leader get their reply; anything else is dropped as erts drops messages to
// dead pids.
func (c *conn) pseudoMessage(to gen.PID, msg any) {
	if to.ID != glID {
		return
	}
	t, ok := msg.(etf.Tuple)
	if !ok || len(t) != 4 || t[0] != etf.Atom("io_request") {
		return
	}
	from, ok := t[1].(gen.PID)
	if !ok {
		return
	}
	c.sendMessage(to, from, etf.Tuple{etf.Atom("io_reply"), t[2], ioReply(t[3])})
}

// ioReply answers the io protocol: output is accepted (and discarded), input is at
// end of file.
func ioReply(req any) any {
	t, _ := req.(etf.Tuple)
	if len(t) > 0 {
		switch t[0] {
		case etf.Atom("put_chars"), etf.Atom("setopts"):
			return etf.Atom("ok")
		case etf.Atom("requests"):
			return etf.Atom("ok")
		case etf.Atom("get_chars"), etf.Atom("get_line"), etf.Atom("get_until"):
			return etf.Atom("eof")
		case etf.Atom("getopts"):
			return etf.List{}
		}
	}
	return etf.Tuple{etf.Atom("error"), etf.Atom("request")}
}

// rpcOutcome is what an outbound RPC waiter receives.
type rpcOutcome struct {
	refused any // SPAWN_REPLY error atom
	down    any // DOWN reason
	err     error
}

// RPCError is an Erlang exception raised by a remote function we called.
type RPCError struct {
	Class  etf.Atom // throw, exit or error, or "badrpc" when erpc itself failed
	Reason any
	Stack  any
}

func (e *RPCError) Error() string { return fmt.Sprintf("rpc %s: %v", e.Class, e.Reason) }

// RPC calls Module:Function(Args) on the peer the way erpc:call does: a
// SPAWN_REQUEST of erpc:execute_call/4 and a wait for the DOWN (spec §6.4). from is
// the calling process; the group leader is this connection's io sink.
func (c *conn) RPC(ctx context.Context, from gen.PID, m, f etf.Atom, args []any) (any, error) {
	reqID := c.newRef()
	res := c.newRef()
	sw := &spawnWait{from: from, res: res, reply: make(chan rpcOutcome, 2)}
	k := keyOf(reqID)
	c.mu.Lock()
	c.t.spawns[k] = sw
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.t.spawns, k)
		c.mu.Unlock()
	}()
	ctl := etf.Tuple{int64(opSpawnRequest), reqID, from, c.groupLeader(), mfaExecuteCall, etf.List{etf.Atom("monitor")}}
	if err := c.send(ctl, etf.List{res, m, f, etf.List(args)}, true); err != nil {
		return nil, err
	}
	for {
		select {
		case <-ctx.Done():
			if sw.pid.ID != 0 {
				c.send(etf.Tuple{int64(opDemonitorP), from, sw.pid, reqID}, nil, false)
			}
			return nil, ctx.Err()
		case o := <-sw.reply:
			switch {
			case o.err != nil:
				return nil, o.err
			case o.refused != nil:
				return nil, &RPCError{Class: "badrpc", Reason: o.refused}
			case o.down != nil:
				return rpcResult(res, o.down)
			}
		}
	}
}

func (c *conn) spawnReply(ctl etf.Tuple) error {
	reqID, ok := ctl[1].(etf.Ref)
	if !ok {
		return fmt.Errorf("%w: spawn reply %v", ErrMalformed, ctl)
	}
	k := keyOf(reqID)
	c.mu.Lock()
	sw := c.t.spawns[k]
	c.mu.Unlock()
	if sw == nil {
		return nil
	}
	switch r := ctl[4].(type) {
	case gen.PID:
		c.mu.Lock()
		sw.pid = r
		c.mu.Unlock()
	default:
		c.mu.Lock()
		delete(c.t.spawns, k)
		c.mu.Unlock()
		sw.reply <- rpcOutcome{refused: r}
	}
	return nil
}

// rpcResult decodes execute_call's exit reason (spec §6.2).
func rpcResult(res etf.Ref, reason any) (any, error) {
	t, ok := reason.(etf.Tuple)
	if ok && len(t) >= 3 && etf.Equal(t[0], res) {
		class, _ := t[1].(etf.Atom)
		switch {
		case class == ClassReturn && len(t) == 3:
			return t[2], nil
		case (class == ClassThrow || class == ClassExit) && len(t) == 3:
			return nil, &RPCError{Class: class, Reason: t[2]}
		case class == ClassError && len(t) == 4:
			return nil, &RPCError{Class: class, Reason: t[2], Stack: t[3]}
		case class == ClassError && len(t) == 3:
			return nil, &RPCError{Class: class, Reason: t[2]}
		}
	}
	if reason == etf.Atom("noconnection") {
		return nil, gen.ErrNoConnection
	}
	return nil, &RPCError{Class: ClassExit, Reason: reason}
}

// Caller is implemented by every connection of this protocol (the
// gen.RemoteNode that ergo's Network().GetNode returns).
type Caller interface {
	RPC(ctx context.Context, from gen.PID, m, f etf.Atom, args []any) (any, error)
}

var _ Caller = (*conn)(nil)
