package fastrouter

// listener: one --fastrouter socket.
//
// Accepts  nothing (messages are logged and ignored).
// Spawns   a session meta process for an accepted connection when no session
//          is idle (the session's parent is the fastrouter actor); an idle one
//          gets the connection through the shared channel instead.
// Owns     the listening socket: Start accepts until Terminate closes it.

import (
	"net"
	"os"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
)

var _ gen.MetaBehavior = (*listener)(nil)

type listener struct {
	gen.MetaProcess
	l    net.Listener
	f    *os.File // l's socket, duplicated: the runtime accepts only through a file
	sh   *shared
	done chan struct{} // closed by Terminate
}

func (l *listener) Init(process gen.MetaProcess) error {
	l.MetaProcess = process
	return nil
}

func (l *listener) Start() error {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return err
	}
	var a subscription.Acceptor
	step := a.Step
	for {
		if err := rc.Read(step); err != nil {
			return nil // the file is closed (there is no deadline to miss)
		}
		fd, err := a.Conn()
		switch {
		case err != nil:
			// EMFILE and friends: back off instead of spinning.
			l.Log().Error("accept on %s: %s", l.l.Addr(), err)
			time.Sleep(10 * time.Millisecond)
		case fd >= 0:
			l.dispatch(fd)
		}
	}
}

// dispatch gives fd to an idle session, or to a new one; at maxSessions it
// waits for a session to come free.
func (l *listener) dispatch(fd int) {
	select {
	case l.sh.conns <- fd:
		return
	default:
	}
	if l.sh.sessions.Add(1) > maxSessions {
		l.sh.sessions.Add(-1)
		select {
		case l.sh.conns <- fd:
		case <-l.done:
			syscall.Close(fd)
		}
		return
	}
	if _, err := l.Spawn(newSession(fd, l.sh), gen.MetaOptions{MailboxSize: sessionMailbox}); err != nil {
		l.sh.sessions.Add(-1)
		syscall.Close(fd)
		l.Log().Error("unable to spawn a session: %s", err)
	}
}

func (l *listener) HandleMessage(from gen.PID, message any) error {
	l.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (l *listener) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (l *listener) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listener": l.l.Addr().String()}
}

func (l *listener) Terminate(reason error) {
	close(l.done)
	l.f.Close()
	l.l.Close()
}
