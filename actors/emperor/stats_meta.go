package emperor

// statsListener serves --emperor-stats: one JSON document per connection,
// then close, as uWSGI's emperor stats server does.
//
// Accepts  nothing.
// Replies  nothing.
// Sends    nothing itself.
// Spawns   one statsConn meta process per accepted connection.
// Owns     the listening socket (bound by the emperor before the spawn, closed
//          by Terminate, which ends Start's Accept loop).

// statsConn answers one stats connection.
//
// Accepts  statsJSON (the document to write).
// Replies  nothing.
// Sends    messageStats to its parent, the emperor.
// Spawns   nothing.
// Owns     the connection; it writes the document (or gives up after
//          statsTimeout) and closes it.

import (
	"errors"
	"net"
	"sync"
	"time"

	"ergo.services/ergo/gen"
)

const statsTimeout = 5 * time.Second

type statsListener struct {
	proc gen.MetaProcess
	ln   net.Listener
}

func (s *statsListener) Init(p gen.MetaProcess) error {
	s.proc = p
	return nil
}

func (s *statsListener) Start() error {
	defer s.ln.Close()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if _, err := s.proc.Spawn(&statsConn{conn: c, data: make(chan []byte, 1), stop: make(chan struct{})}, gen.MetaOptions{}); err != nil {
			c.Close()
		}
	}
}

func (s *statsListener) HandleMessage(from gen.PID, message any) error { return nil }

func (s *statsListener) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

func (s *statsListener) Terminate(reason error) { s.ln.Close() }

func (s *statsListener) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listen": s.ln.Addr().String()}
}

type statsConn struct {
	proc gen.MetaProcess
	conn net.Conn
	data chan []byte
	stop chan struct{}
	once sync.Once
}

func (s *statsConn) Init(p gen.MetaProcess) error {
	s.proc = p
	return nil
}

func (s *statsConn) Start() error {
	defer s.conn.Close()
	if err := s.proc.Send(s.proc.Parent(), messageStats{to: s.proc.ID()}); err != nil {
		return nil
	}
	select {
	case data := <-s.data:
		s.conn.SetWriteDeadline(time.Now().Add(statsTimeout))
		s.conn.Write(data)
	case <-s.stop:
	case <-time.After(statsTimeout):
	}
	return nil
}

func (s *statsConn) HandleMessage(from gen.PID, message any) error {
	if m, ok := message.(statsJSON); ok {
		select {
		case s.data <- m.data:
		default:
		}
	}
	return nil
}

func (s *statsConn) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

func (s *statsConn) Terminate(reason error) { s.once.Do(func() { close(s.stop) }) }

func (s *statsConn) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"peer": s.conn.RemoteAddr().String()}
}
