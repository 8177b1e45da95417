package mongrel2

// logPusher: one ZeroMQ log collector.
//
// Accepts  nothing (messages are logged and ignored).
// Owns     a PUSH socket dialled to the collector's endpoint (the collector
//          binds a PULL, as with uWSGI); Start connects (retrying until the
//          collector listens), then sends every line of its LogQueue as one
//          single-part message, and connects again with a fresh socket when a
//          send fails. zmq4 reports a lost peer only on the next failing
//          write: the line in flight then is sent again on the new
//          connection, the one before it may be lost. Terminate closes the
//          socket, which ends a blocked dial or send.

import (
	"context"
	"io"
	"log"
	"sync"
	"time"

	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"
)

var _ gen.MetaBehavior = (*logPusher)(nil)

type logPusher struct {
	gen.MetaProcess
	t    LogTarget
	done chan struct{}

	mu      sync.Mutex
	stopped bool
	sock    zmq4.Socket
}

func newLogPusher(t LogTarget) *logPusher {
	return &logPusher{t: t, done: make(chan struct{})}
}

func (p *logPusher) Init(process gen.MetaProcess) error {
	p.MetaProcess = process
	return nil
}

func (p *logPusher) Start() error {
	var pending []byte // a line whose send failed: sent first on the next connection
	delay := DefaultReconnect
	for {
		sock := zmq4.NewPush(context.Background(), zmq4.WithDialerRetry(dialRetry), zmq4.WithDialerMaxRetries(-1),
			zmq4.WithDialerTimeout(5*time.Second), zmq4.WithLogger(log.New(io.Discard, "", 0)))
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			sock.Close()
			return nil
		}
		p.sock = sock
		p.mu.Unlock()
		err := sock.Dial(p.t.Endpoint)
		if err == nil {
			delay = DefaultReconnect
			pending, err = p.drain(sock, pending)
		}
		sock.Close()
		select {
		case <-p.done:
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, MaxReconnect)
	}
}

// drain sends queued lines until a send fails (returning the failed line)
// or the pusher stops.
func (p *logPusher) drain(sock zmq4.Socket, pending []byte) ([]byte, error) {
	for {
		line := pending
		if line == nil {
			select {
			case line = <-p.t.Queue.ch:
			case <-p.done:
				return nil, errStopped
			}
		}
		if err := sock.Send(zmq4.NewMsg(line)); err != nil {
			return line, err
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
	}
	if p.sock != nil {
		p.sock.Close()
	}
}
