package mongrel2

// logPusher: one ZeroMQ log collector.
//
// Accepts  nothing (messages are logged and ignored).
// Owns     a PUSH connection (zmtp.go) to the collector's endpoint (the
//          collector binds a PULL, as with uWSGI): Start connects, retrying
//          until the collector listens, then sends every line of its
//          LogQueue as one single-part message, and connects again when a
//          send fails; the line that failed is sent first on the new
//          connection. One goroutine per connection reads from it, only to
//          notice the collector closing it (then it closes the connection, so
//          the next send fails at once instead of into the void). Terminate
//          closes the connection, which ends a blocked dial or send.

import (
	"context"
	"sync"
	"time"

	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"
)

var _ gen.MetaBehavior = (*logPusher)(nil)

type logPusher struct {
	gen.MetaProcess
	t      LogTarget
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	conn    *zconn
}

func newLogPusher(t LogTarget) *logPusher {
	p := &logPusher{t: t, done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

func (p *logPusher) Init(process gen.MetaProcess) error {
	p.MetaProcess = process
	return nil
}

func (p *logPusher) Start() error {
	var pending []byte // a line whose send failed: sent first on the next connection
	for {
		c, err := dialZMTP(p.ctx, p.t.Endpoint, zmq4.Push, "", maxControl)
		if err == nil {
			p.mu.Lock()
			if p.stopped {
				p.mu.Unlock()
				c.close()
				return nil
			}
			p.conn = c
			p.mu.Unlock()
			go func() {
				for {
					if _, _, err := c.readMsg(); err != nil {
						c.close()
						return
					}
				}
			}()
			pending = p.drain(c, pending)
			c.close()
		}
		wait := dialRetry // nobody listens yet
		if err == nil {
			wait = DefaultReconnect // the collector went away
		}
		t := time.NewTimer(wait)
		select {
		case <-p.done:
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// drain sends queued lines until a send fails (returning the failed line)
// or the pusher stops.
func (p *logPusher) drain(c *zconn, pending []byte) []byte {
	for {
		line := pending
		if line == nil {
			select {
			case line = <-p.t.Queue.ch:
			case <-p.done:
				return nil
			}
		}
		if err := c.send(line); err != nil {
			return line
		}
		pending = nil
	}
}

func (p *logPusher) HandleMessage(from gen.PID, message any) error {
	p.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (p *logPusher) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (p *logPusher) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"endpoint": p.t.Endpoint}
}

func (p *logPusher) Terminate(reason error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		close(p.done)
		p.cancel()
	}
	if p.conn != nil {
		p.conn.close()
	}
}
