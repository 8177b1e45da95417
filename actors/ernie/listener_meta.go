package ernie

// The listening socket: a meta process of ernie_server.
//
// Accepts  messageStopMeta (close the socket: halt).
// Spawns   one conn meta per accepted connection (children of ernie_server).
// Owns     the listening socket and its accept loop (Start).

import (
	"errors"
	"net"
	"time"

	"ergo.services/ergo/gen"
)

// acceptRetry is the pause after a failed accept (out of file descriptors).
const acceptRetry = 50 * time.Millisecond

type listenerMeta struct {
	gen.MetaProcess
	ln       net.Listener
	conn     connOptions // template: conn and accepted are set per connection
	maxConns int64
}

func (l *listenerMeta) Init(process gen.MetaProcess) error {
	l.MetaProcess = process
	return nil
}

func (l *listenerMeta) Start() error {
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
		o := l.conn
		o.conn, o.accepted = conn, time.Now()
		if _, err := l.Spawn(newConnMeta(o), gen.MetaOptions{MailboxSize: 2 * connInbox}); err != nil {
			l.Log().Error("ernie: spawn connection: %v", err)
			l.conn.counters.conns.Add(-1)
			conn.Close()
		}
	}
}

func (l *listenerMeta) HandleMessage(from gen.PID, message any) error {
	if _, ok := message.(messageStopMeta); ok {
		return gen.TerminateReasonNormal
	}
	return nil
}

func (l *listenerMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (l *listenerMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listen": l.ln.Addr().String()}
}

func (l *listenerMeta) Terminate(reason error) { l.ln.Close() }
