package http

// listener: one --http socket (router mode).
//
// Accepts  nothing (messages are logged and ignored).
// Spawns   one session meta process per accepted connection (the session's
//          parent is the fastrouter actor).
// Owns     the listening socket: Start accepts until Terminate closes it.

import (
	"errors"
	"net"
	"time"

	"ergo.services/ergo/gen"
)

var _ gen.MetaBehavior = (*listener)(nil)

type listener struct {
	gen.MetaProcess
	l  net.Listener
	sh *shared
}

func (l *listener) Init(process gen.MetaProcess) error {
	l.MetaProcess = process
	return nil
}

func (l *listener) Start() error {
	for {
		c, err := l.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off instead of spinning.
			l.Log().Error("accept on %s: %s", l.l.Addr(), err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if _, err := l.Spawn(newSession(c, l.sh), gen.MetaOptions{MailboxSize: sessionMailbox}); err != nil {
			c.Close()
			l.Log().Error("unable to spawn a session: %s", err)
		}
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

func (l *listener) Terminate(reason error) { l.l.Close() }
