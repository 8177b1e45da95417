package ernie

// The listening socket and the connections: a meta process of ernie_server.
//
// Accepts  messageStopMeta (close the listening socket: halt; the open
//          connections keep being served until the node stops).
// Sends    (from its connection goroutines, see conn_meta.go)
//          extworker.MessageRequest to the pools, messageAdmin to
//          ernie_server, messageAccess to the access-log meta.
// Owns     the listening socket and its accept loop (Start), the
//          connection goroutines (at most one per open connection, each
//          serving one connection at a time and then the next one, ending
//          after connIdle without one), the open connections (closed in
//          Terminate) and the context native calls run under (cancelled in
//          Terminate).
//
// Why goroutines and not one meta process per connection: a fresh
// goroutine per connection paid, on every short-lived connection, for the
// meta process's spawn and alias registration, for its goroutine's stack
// growing while the first request is decoded, and for a fresh read buffer;
// a kept goroutine has all three already. Replies to a connection come
// back on its channels, not through a mailbox.

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"ergo.services/ergo/gen"
)

const (
	// acceptRetry is the pause after a failed accept (out of file
	// descriptors).
	acceptRetry = 50 * time.Millisecond
	// connIdle is how long a connection goroutine waits for the next
	// connection before it ends.
	connIdle = 10 * time.Second
)

// accepted is a connection handed from the accept loop to a goroutine.
type accepted struct {
	conn net.Conn
	at   time.Time
}

type listenerMeta struct {
	gen.MetaProcess
	ln       net.Listener
	conn     connOptions // template: fixed before the spawn
	maxConns int64

	// Fixed after Init.
	handoff chan accepted // to an idle connection goroutine (unbuffered)
	stop    chan struct{} // closed by Terminate
	ctx     context.Context
	cancel  context.CancelFunc

	stopOnce sync.Once
	wg       sync.WaitGroup // the connection goroutines
	mu       sync.Mutex
	open     map[net.Conn]struct{} // under mu
	stopped  bool                  // under mu: Terminate closed every open conn
}

func (l *listenerMeta) Init(process gen.MetaProcess) error {
	l.MetaProcess = process
	l.handoff, l.stop = make(chan accepted), make(chan struct{})
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.open = make(map[net.Conn]struct{})
	return nil
}

func (l *listenerMeta) Start() error {
	defer func() {
		<-l.stop // closed by Terminate, which closes the open connections
		l.wg.Wait()
	}()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			l.Log().Warning("ernie: accept: %v", err)
			time.Sleep(acceptRetry)
			continue
		}
		if l.conn.counters.conns.Add(1) > l.maxConns {
			l.conn.counters.conns.Add(-1)
			l.Log().Warning("ernie: %d connections open, refusing %s", l.maxConns, conn.RemoteAddr())
			conn.Close()
			continue
		}
		a := accepted{conn: conn, at: time.Now()}
		select {
		case l.handoff <- a:
		default:
			l.wg.Add(1)
			go l.serveConns(a)
		}
	}
}

// serveConns serves a, then each connection handed over, until connIdle
// passes without one or the listener stops.
func (l *listenerMeta) serveConns(a accepted) {
	defer l.wg.Done()
	c := newConnServer(l)
	idle := time.NewTimer(connIdle)
	defer idle.Stop()
	for {
		c.serve(a.conn, a.at)
		idle.Reset(connIdle)
		select {
		case a = <-l.handoff:
		case <-idle.C:
			return
		case <-l.stop:
			return
		}
	}
}

// track registers an open connection; false once the listener stopped
// (the caller closes it).
func (l *listenerMeta) track(conn net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return false
	}
	l.open[conn] = struct{}{}
	return true
}

func (l *listenerMeta) untrack(conn net.Conn) {
	l.mu.Lock()
	delete(l.open, conn)
	l.mu.Unlock()
}

func (l *listenerMeta) HandleMessage(from gen.PID, message any) error {
	if _, ok := message.(messageStopMeta); ok {
		l.ln.Close()
	}
	return nil
}

func (l *listenerMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (l *listenerMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	l.mu.Lock()
	n := len(l.open)
	l.mu.Unlock()
	return map[string]string{"listen": l.ln.Addr().String(), "open": strconv.Itoa(n)}
}

// Terminate stops accepting, cancels the native calls in flight and closes
// every open connection; the connection goroutines then end and Start
// returns.
func (l *listenerMeta) Terminate(reason error) {
	l.stopOnce.Do(func() {
		l.ln.Close()
		l.cancel()
		l.mu.Lock()
		l.stopped = true
		for c := range l.open {
			c.Close()
		}
		l.mu.Unlock()
		close(l.stop)
	})
}
