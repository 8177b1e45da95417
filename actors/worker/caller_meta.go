package worker

// caller: the mailbox that request goroutines wait on.
//
// Accepts  extworker.MessageReply (an external worker's answer) and
//          messageRPCResult (an RPC executor's answer): each is handed to the
//          goroutine waiting for its ID, or dropped when it gave up.
// Sends    nothing itself; request goroutines send through it (their replies
//          come back to its alias).
// Owns     the table of waiting requests; Start only waits for Terminate.

import (
	"sync"
	"sync/atomic"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
)

// callerMailbox bounds the caller's mailbox: one answer per request in flight.
const callerMailbox = 1 << 16

var _ gen.MetaBehavior = (*caller)(nil)

type caller struct {
	gen.MetaProcess
	seq  atomic.Uint64
	done chan struct{}

	mu      sync.Mutex
	waiting map[uint64]chan any
}

func newCaller() *caller {
	return &caller{done: make(chan struct{}), waiting: map[uint64]chan any{}}
}

func (c *caller) Init(process gen.MetaProcess) error {
	c.MetaProcess = process
	return nil
}

func (c *caller) Start() error {
	<-c.done
	return nil
}

// call sends the message mk builds (with a fresh ID and the caller's alias
// as reply address) to to, and waits up to timeout (0: forever, until the
// caller ends) for the answer with that ID.
func (c *caller) call(to any, timeout time.Duration, mk func(id uint64, replyTo gen.Alias) any) (any, error) {
	id := c.seq.Add(1)
	ch := make(chan any, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
	}()
	if err := c.Send(to, mk(id, c.ID())); err != nil {
		return nil, err
	}
	return await(ch, timeout, c.done)
}

// callExternal is call for the extworker pool, whose replies come straight
// to the request's channel (extworker.MessageRequest.ReplyTo may be one):
// no mailbox, no goroutine started by ergo to drain it, no table entry.
func (c *caller) callExternal(pool any, timeout time.Duration, payload []byte) (extworker.MessageReply, error) {
	ch := make(chan extworker.MessageReply, 1) // the pool never blocks on it; a late reply is dropped with it
	req := extworker.MessageRequest{ID: c.seq.Add(1), ReplyTo: ch, Payload: payload}
	if err := c.Send(pool, req); err != nil {
		return extworker.MessageReply{}, err
	}
	return await(ch, timeout, c.done)
}

// await waits for the reply on ch, for at most timeout (none when 0), or
// until done closes.
func await[T any](ch <-chan T, timeout time.Duration, done <-chan struct{}) (T, error) {
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	var zero T
	select {
	case r := <-ch:
		return r, nil
	case <-expire:
		return zero, ErrNoAnswer
	case <-done:
		return zero, ErrNoAnswer
	}
}

func (c *caller) deliver(id uint64, v any) {
	c.mu.Lock()
	ch := c.waiting[id]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- v:
		default:
		}
	}
}

func (c *caller) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case extworker.MessageReply:
		c.deliver(m.ID, m)
	case messageRPCResult:
		c.deliver(m.ID, m)
	default:
		c.Log().Warning("unexpected message from %s: %T", from, message)
	}
	return nil
}

func (c *caller) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (c *caller) HandleInspect(from gen.PID, item ...string) map[string]string { return nil }

func (c *caller) Terminate(reason error) { close(c.done) }
