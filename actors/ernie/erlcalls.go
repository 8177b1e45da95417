package ernie

// Native Erlang calls through the BEAM peer's call server.
//
// The peer runs one registered process, imperial_ernie_rpc (its source is
// rpcServerForms, compiled on the peer at boot). A call is one message
// each way over the distribution connection:
//
//	imperial → {imperial_ernie_rpc, Peer} ! {call, Id, M, F, A}
//	peer     → {ernie_beam, Imperial} ! {imperial_ernie_reply, Id, Class, Value}
//	                                    {imperial_ernie_reply, Id, error, Reason, Stack}
//
// The server spawns one monitored process per call, so a slow call delays
// no other; a call process that dies without replying (killed) is answered
// {exit, Reason} from its monitor. Before, each call was an erpc
// SPAWN_REQUEST with a monitor, answered by a SPAWN_REPLY and a DOWN: three
// frames and a remote spawn with a distributed monitor per call, which cost
// the peer more than the call itself.
//
// The table of waiting calls is shared by the callers (connection
// goroutines and rpc.go's Call), which add and cancel their own entries,
// and ernie_beam, which completes them from the replies and fails them all
// when the peer goes away.

import (
	"context"
	"errors"
	"sync"

	"imperial/ernie"
	"imperial/node/etf"
)

// Names on the wire.
const (
	rpcServerName = "imperial_ernie_rpc" // the peer's call server (and module)
	replyTag      = "imperial_ernie_reply"
	// maxErlCalls bounds the native Erlang calls in flight; more get a
	// server error at once. ernie_beam's mailbox holds that many replies.
	maxErlCalls = 1 << 14
)

// ErrTooManyCalls means maxErlCalls native Erlang calls are in flight.
var ErrTooManyCalls = errors.New("ernie: too many native Erlang calls in flight")

// ErrPeerGone means the BEAM peer went away while the call was in flight.
var ErrPeerGone = errors.New("ernie: BEAM peer went away")

// erlReply is the outcome of one call: a value, or an error that is an
// *ernie.ErlangException when the function raised.
type erlReply struct {
	value any
	err   error
}

// ErrPeerNotReady means the BEAM peer is (re)starting: its call server
// has not reported ready since the last peer exited.
var ErrPeerNotReady = errors.New("ernie: BEAM peer not ready")

// erlCalls is the table of calls waiting for the peer.
//
// It is open only between the peer's ready report and its exit. A call
// sent while a restarted peer boots would be lost: the peer's distribution
// is up (so ergo connects and the send succeeds) before its -eval has
// registered the call server, and a message to an unregistered name is
// dropped without a word, so the caller would wait out its whole timeout.
// Such calls fail at once instead.
type erlCalls struct {
	mu      sync.Mutex
	seq     int64
	open    bool
	waiting map[int64]chan<- erlReply
}

func newErlCalls() *erlCalls {
	return &erlCalls{waiting: make(map[int64]chan<- erlReply)}
}

// add registers a call; its reply will be put on ch (which has room).
func (t *erlCalls) add(ch chan<- erlReply) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.open {
		return 0, ErrPeerNotReady
	}
	if len(t.waiting) >= maxErlCalls {
		return 0, ErrTooManyCalls
	}
	t.seq++
	t.waiting[t.seq] = ch
	return t.seq, nil
}

// cancel forgets a call (timed out, or never sent).
func (t *erlCalls) cancel(id int64) {
	t.mu.Lock()
	delete(t.waiting, id)
	t.mu.Unlock()
}

// complete answers call id; false if nobody waits for it any more.
func (t *erlCalls) complete(id int64, r erlReply) bool {
	t.mu.Lock()
	ch, ok := t.waiting[id]
	delete(t.waiting, id)
	t.mu.Unlock()
	if ok {
		ch <- r // room: one reply per channel
	}
	return ok
}

// setOpen lets calls through: the peer's call server runs.
func (t *erlCalls) setOpen() {
	t.mu.Lock()
	t.open = true
	t.mu.Unlock()
}

// failAll closes the table (the peer is gone) and answers every waiting
// call with err.
func (t *erlCalls) failAll(err error) int {
	t.mu.Lock()
	w := t.waiting
	t.waiting = make(map[int64]chan<- erlReply)
	t.open = false
	t.mu.Unlock()
	for _, ch := range w {
		ch <- erlReply{err: err}
	}
	return len(w)
}

// sender is what sends the call message: a meta process or an actor.
type sender interface {
	Send(to, message any) error
}

// call runs m:f(args) on the peer's call server.
func (t *erlCalls) call(ctx context.Context, s sender, server any, m, f etf.Atom, args etf.List) (any, error) {
	ch := make(chan erlReply, 1)
	id, err := t.add(ch)
	if err != nil {
		return nil, err
	}
	if err := s.Send(server, etf.Tuple{etf.Atom("call"), id, m, f, args}); err != nil {
		t.cancel(id)
		return nil, err
	}
	select {
	case r := <-ch:
		return r.value, r.err
	case <-ctx.Done():
		t.cancel(id)
		select {
		case r := <-ch: // completed while we gave up
			return r.value, r.err
		default:
		}
		return nil, ctx.Err()
	}
}

// parseReply reads {imperial_ernie_reply, Id, Class, Value} and
// {imperial_ernie_reply, Id, error, Reason, Stack}.
func parseReply(t etf.Tuple) (int64, erlReply, bool) {
	if len(t) < 4 || len(t) > 5 || t[0] != etf.Atom(replyTag) {
		return 0, erlReply{}, false
	}
	id, ok1 := t[1].(int64)
	class, ok2 := t[2].(etf.Atom)
	if !ok1 || !ok2 {
		return 0, erlReply{}, false
	}
	if class == "return" && len(t) == 4 {
		return id, erlReply{value: t[3]}, true
	}
	e := &ernie.ErlangException{Class: class, Reason: t[3]}
	if len(t) == 5 {
		e.Stack = t[4]
	}
	return id, erlReply{err: e}, true
}

// rpcServerForms is the peer's call server, one form per string; the peer
// compiles them at boot (-eval cannot define a module). It is started by
// start(To) with To = {ernie_beam, ImperialNode}, registered before start
// returns, so no call can reach the peer before the name exists.
var rpcServerForms = []string{
	"-module(" + rpcServerName + ").",
	"-export([start/1, init/1, run/5]).",
	"start(To) -> Pid = spawn(" + rpcServerName + ", init, [To]), register(" + rpcServerName + ", Pid), Pid.",
	"init(To) -> loop(To, #{}).",
	"loop(To, Calls) -> receive " +
		"{call, Id, M, F, A} -> {_, Ref} = spawn_monitor(" + rpcServerName + ", run, [To, Id, M, F, A]), loop(To, Calls#{Ref => Id}); " +
		"{'DOWN', Ref, process, _, Reason} -> case maps:take(Ref, Calls) of " +
		"{Id, Rest} when Reason =/= normal -> To ! {" + replyTag + ", Id, exit, Reason}, loop(To, Rest); " +
		"{_, Rest} -> loop(To, Rest); " +
		"error -> loop(To, Calls) end; " +
		"_ -> loop(To, Calls) end.",
	"run(To, Id, M, F, A) -> To ! try apply(M, F, A) of V -> {" + replyTag + ", Id, return, V} " +
		"catch error:R:S -> {" + replyTag + ", Id, error, R, S}; C:R -> {" + replyTag + ", Id, C, R} end.",
}
