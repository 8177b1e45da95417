package fastrouter

// session: one client connection of the FastRouter.
//
// Accepts  subscription.MessageNode (the server's answer to its pick).
// Sends    subscription.MessagePick and subscription.MessageDone to the
//          subscription server.
// Owns     the client socket and, once connected, the node socket; one extra
//          goroutine streams a request body that was not read with the vars.
//          Start reads the packet, connects and copies; Terminate closes both
//          sockets.

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
	"imperial/actors/wire/uwsgi"
)

// sessionMailbox bounds a session's mailbox: it expects one answer per pick.
const sessionMailbox = 8

// bufSize is the session buffer: the request packet (grown when the vars
// are larger) and then the copy buffer.
const bufSize = 16 << 10

// maxKeyLen: longer routing keys are ignored, as uWSGI ignores them.
const maxKeyLen = 255

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

var varsLimits = uwsgi.Limits{MaxVars: 4096}

var _ gen.MetaBehavior = (*session)(nil)

type session struct {
	gen.MetaProcess
	sh      *shared
	client  net.Conn
	replies chan subscription.MessageNode

	mu     sync.Mutex
	node   net.Conn
	closed bool
}

func newSession(c net.Conn, sh *shared) *session {
	return &session{sh: sh, client: c, replies: make(chan subscription.MessageNode, 1)}
}

func (s *session) Init(process gen.MetaProcess) error {
	s.MetaProcess = process
	return nil
}

func (s *session) Start() error {
	s.sh.active.Add(1)
	defer s.sh.active.Add(-1)
	defer s.client.Close()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	timeout := s.sh.timeout

	// 1. the header and the vars
	_ = s.client.SetReadDeadline(time.Now().Add(timeout))
	n, total := 0, 0
	for {
		size, err := uwsgi.PacketSize(buf[:n], varsLimits)
		if err == nil {
			total = size
			break
		}
		if !errors.Is(err, uwsgi.ErrNeedMore) {
			s.Log().Warning("fastrouter: bad request from %s: %s", s.client.RemoteAddr(), err)
			return nil
		}
		if size > len(buf) {
			nb := make([]byte, size)
			copy(nb, buf[:n])
			buf = nb
		}
		r, err := s.client.Read(buf[n:])
		n += r
		if err != nil {
			if n > 0 || !errors.Is(err, io.EOF) {
				s.Log().Debug("fastrouter: client %s: %s", s.client.RemoteAddr(), err)
			}
			return nil
		}
	}
	key, cl, err := scanRequest(buf[uwsgi.HeaderSize:total])
	if err != nil {
		s.Log().Warning("fastrouter: bad request from %s: %s", s.client.RemoteAddr(), err)
		return nil
	}
	if len(key) == 0 {
		return nil // uWSGI closes without an answer
	}

	// 2. a node
	node, picked, err := s.sh.client.Connect(s, s.replies, string(key))
	if err != nil {
		if errors.Is(err, subscription.ErrNoNode) {
			s.Log().Warning("[uwsgi-fastrouter] unable to find a node for key \"%s\"", key)
		} else {
			s.Log().Warning("fastrouter: %s", err)
		}
		return nil
	}
	var tx uint64
	var rx atomic.Uint64
	defer func() { s.sh.client.Done(s, picked, tx, rx.Load()) }()
	if !s.setNode(node) {
		return nil
	}
	defer node.Close()

	// 3. the packet with the node's modifiers, the body, the answer
	buf[0], buf[3] = picked.Modifier1, picked.Modifier2
	send := min(n, total+int(min(cl, int64(n-total))))
	_ = node.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := node.Write(buf[:send]); err != nil {
		s.Log().Debug("fastrouter: write to %s: %s", picked.Address, err)
		return nil
	}
	rx.Store(uint64(send))
	var bodyDone chan struct{}
	if rest := cl - int64(send-total); rest > 0 {
		bodyDone = make(chan struct{})
		go func() {
			defer close(bodyDone)
			w, _ := copyN(node, s.client, rest, timeout)
			rx.Add(uint64(w))
		}()
	}
	for {
		_ = node.SetReadDeadline(time.Now().Add(timeout))
		r, err := node.Read(buf)
		if r > 0 {
			tx += uint64(r)
			_ = s.client.SetWriteDeadline(time.Now().Add(timeout))
			if _, werr := s.client.Write(buf[:r]); werr != nil {
				break
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.Log().Debug("fastrouter: read from %s: %s", picked.Address, err)
			}
			break
		}
	}
	if bodyDone != nil {
		node.Close()
		s.client.Close()
		<-bodyDone
	}
	return nil
}

// setNode records the node socket for Terminate; false when the session is
// already being terminated (the socket is then closed).
func (s *session) setNode(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.node = c
	return true
}

// copyN streams n bytes from src to dst with an idle timeout per operation.
func copyN(dst, src net.Conn, n int64, timeout time.Duration) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var done int64
	for done < n {
		_ = src.SetReadDeadline(time.Now().Add(timeout))
		r, err := src.Read(buf[:min(int64(len(buf)), n-done)])
		if r > 0 {
			_ = dst.SetWriteDeadline(time.Now().Add(timeout))
			w, werr := dst.Write(buf[:r])
			done += int64(w)
			if werr != nil {
				return done, werr
			}
		}
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// scanRequest finds the routing key of a request's vars (spec §2.8 step 2:
// UWSGI_FASTROUTER_KEY always wins, HTTP_HOST beats SERVER_NAME, SERVER_NAME
// counts only when nothing else was seen; values over 255 bytes are ignored)
// and its CONTENT_LENGTH (0 when absent). The key is a view into vars.
func scanRequest(vars []byte) (key []byte, cl int64, err error) {
	sticky, haveKey := false, false
	var clv []byte
	_, err = uwsgi.ScanVars(vars, varsLimits, func(k, v []byte) bool {
		switch string(k) {
		case "UWSGI_FASTROUTER_KEY":
			if len(v) <= maxKeyLen {
				key, sticky, haveKey = v, true, true
			}
		case "HTTP_HOST":
			if !sticky && len(v) <= maxKeyLen {
				key, haveKey = v, len(v) > 0
			}
		case "SERVER_NAME":
			if !haveKey && len(v) <= maxKeyLen && len(v) > 0 {
				key, haveKey = v, true
			}
		case "CONTENT_LENGTH":
			clv = v
		}
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	if len(clv) > 0 {
		n, err := uwsgi.ParseNumber(clv, 1<<62)
		if err != nil {
			return nil, 0, err
		}
		cl = int64(n)
	}
	return key, cl, nil
}

func (s *session) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case subscription.MessageNode:
		select {
		case s.replies <- m:
		default:
			s.Log().Warning("fastrouter: unexpected second node answer")
		}
	default:
		s.Log().Warning("unexpected message from %s: %T", from, message)
	}
	return nil
}

func (s *session) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (s *session) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"client": s.client.RemoteAddr().String()}
}

func (s *session) Terminate(reason error) {
	s.mu.Lock()
	s.closed = true
	node := s.node
	s.mu.Unlock()
	s.client.Close()
	if node != nil {
		node.Close()
	}
}
