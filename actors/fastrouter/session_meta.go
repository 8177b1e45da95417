package fastrouter

// session: the FastRouter's client connections, one at a time.
//
// Accepts  nothing (answers from the subscription server arrive on its
//          Picker's channel; other messages are logged and ignored).
// Sends    subscription.MessagePick and subscription.MessageDone to the
//          subscription server, unless Options.Table lets it pick and
//          release in the server's table directly (the usual case).
// Owns     one client connection at a time (a raw descriptor, fd.go) and,
//          once connected, its node socket; one extra goroutine streams a
//          request body that was not read with the vars. Start serves the
//          connection the listener gave it, then waits for the next one the
//          listener hands over (a session is reused, so its goroutine and
//          buffer are not made per connection) and ends after sessionIdle
//          without one; Terminate closes the node socket and a polled client
//          socket (a raw one is never waited on).

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
	"imperial/actors/wire/uwsgi"
)

const (
	// sessionMailbox bounds a session's mailbox: nothing is expected there.
	sessionMailbox = 4
	// sessionIdle is how long a session waits for another connection.
	sessionIdle = 10 * time.Second
	// maxSessions bounds the sessions of one router; beyond it accepted
	// connections wait for a free session.
	maxSessions = 16384
	// bufSize is the session buffer: the request packet (grown when the
	// vars are larger) and then the copy buffer.
	bufSize = 16 << 10
	// maxKeyLen: longer routing keys are ignored, as uWSGI ignores them.
	maxKeyLen = 255
	// deadlineSlack: an idle deadline is renewed once it is this old, not on
	// every read and write.
	deadlineSlack = time.Second
)

var varsLimits = uwsgi.Limits{MaxVars: 4096}

var _ gen.MetaBehavior = (*session)(nil)

type session struct {
	gen.MetaProcess
	sh     *shared
	first  int // descriptor of the first connection
	picker *subscription.Picker
	buf    []byte
	done   chan struct{}

	// mu guards what Terminate closes: the client socket (aborted) and
	// the node socket.
	mu     sync.Mutex
	client *subscription.Socket
	node   subscription.NodeConn
	closed bool
}

func newSession(fd int, sh *shared) *session {
	return &session{sh: sh, first: fd, picker: subscription.NewPicker(sh.client),
		done: make(chan struct{})}
}

func (s *session) Init(process gen.MetaProcess) error {
	s.MetaProcess = process
	return nil
}

func (s *session) Start() error {
	defer s.sh.sessions.Add(-1)
	defer s.picker.Close()
	s.buf = make([]byte, bufSize)
	fd := s.first
	// The idle timer is not reset per connection (a timer-heap operation
	// each time): when it fires, a session that served within sessionIdle
	// sets it for the rest of that time.
	idle := time.NewTimer(sessionIdle)
	defer idle.Stop()
	var last time.Time
	for {
		c := subscription.NewSocket(fd, s.sh.timeout)
		if !s.setClient(c) {
			c.Close()
			return nil
		}
		s.sh.active.Add(1)
		s.serve(c)
		s.sh.active.Add(-1)
		c.Close()
		s.setClient(nil)
		last = time.Now()
		for fd = -1; fd < 0; {
			select {
			case fd = <-s.sh.conns:
			case <-idle.C:
				rest := sessionIdle - time.Since(last)
				if rest <= 0 {
					return nil
				}
				idle.Reset(rest)
			case <-s.done:
				return nil
			}
		}
	}
}

// setClient records the client socket for Terminate; false when the
// session is being terminated.
func (s *session) setClient(c *subscription.Socket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client = c
	return !s.closed
}

// setNode records the node socket for Terminate; false (and the socket
// closed) when the session is being terminated.
func (s *session) setNode(c subscription.NodeConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		if c != nil {
			c.Close()
		}
		return false
	}
	s.node = c
	return true
}

// serve routes one client connection: header and vars, key, node, the
// packet with the node's modifiers, the body, the answer (spec §2.8).
func (s *session) serve(client *subscription.Socket) {
	timeout := s.sh.timeout
	buf, n, total, err := uwsgi.ReadPacket(client, s.buf, varsLimits)
	switch {
	case errors.Is(err, uwsgi.ErrTooLarge):
		s.Log().Warning("fastrouter: bad request from %s: %s", client.RemoteAddr(), err)
		return
	case err != nil:
		if n > 0 || !errors.Is(err, io.EOF) {
			s.Log().Debug("fastrouter: client %s: %s", client.RemoteAddr(), err)
		}
		return
	}
	key, cl, err := scanRequest(buf[uwsgi.HeaderSize:total])
	if err != nil {
		s.Log().Warning("fastrouter: bad request from %s: %s", client.RemoteAddr(), err)
		return
	}
	if len(key) == 0 {
		return // uWSGI closes without an answer
	}

	send := min(n, total+int(min(cl, int64(n-total))))
	node, picked, err := s.picker.Connect(s, string(key), func(nd subscription.MessageNode) []byte {
		buf[0], buf[3] = nd.Modifier1, nd.Modifier2
		return buf[:send]
	})
	if err != nil {
		if errors.Is(err, subscription.ErrNoNode) {
			s.Log().Warning("[uwsgi-fastrouter] unable to find a node for key \"%s\"", key)
		} else {
			s.Log().Warning("fastrouter: %s", err)
		}
		return
	}
	var tx uint64 // set by answer below
	var rx atomic.Uint64
	defer func() { s.picker.Done(s, picked, tx, rx.Load()) }()
	if !s.setNode(node) {
		return
	}
	// recycle: the node has sent everything and closed, and reads nothing
	// more from us: the connection ends with a reset rather than a FIN
	// handshake, which spares both kernels a segment and the node a
	// TIME_WAIT socket, and the socket serves the next request.
	recycle := false
	defer func() {
		if s.setNode(nil) && recycle {
			s.picker.Recycle(node)
		} else {
			node.Close()
		}
	}()

	rx.Store(uint64(send))
	var bodyDone chan struct{}
	if rest := cl - int64(send-total); rest > 0 {
		// The body goroutine reads the client while this one writes to it:
		// the socket is polled from the start, so that neither hands it to
		// the poller under the other.
		if err := client.Poll(); err != nil {
			return
		}
		if ns, ok := node.(*subscription.Socket); ok {
			if err := ns.Poll(); err != nil {
				return
			}
		}
		bodyDone = make(chan struct{})
		go func() {
			defer close(bodyDone)
			w, _ := copyN(node, client, rest, timeout)
			rx.Add(uint64(w))
		}()
	}
	if len(buf) > bufSize {
		buf = buf[:bufSize]
	}
	tx, eof := s.answer(client, node, buf, picked.Address)
	// The answer is complete: the client hears it before the node socket is
	// closed and the session end reported.
	client.Close()
	recycle = eof && bodyDone == nil
	if bodyDone != nil {
		node.Close()
		<-bodyDone
	}
}

// answer relays the node's answer to the client until the node closes (eof)
// or a socket fails; tx is the count of bytes read from the node.
//
// A chunk read is written to the client only once the next read from the
// node has said what follows it. When the node has closed (the usual case:
// it writes its answer and closes at once), the last chunk goes out with
// MSG_MORE and the close that follows tacks the FIN onto the same segment,
// so the client is woken once for answer and end instead of twice. When the
// node has nothing more yet, the held chunk is written before the session
// waits, so nothing is delayed.
//
// The node was only just sent the request, so the first read is one that
// waits (it tries once first) rather than a try that would find nothing.
func (s *session) answer(client *subscription.Socket, node subscription.NodeConn, buf []byte, addr string) (tx uint64, eof bool) {
	ns, ok := node.(*subscription.Socket)
	if !ok {
		return s.answerPlain(client, node, buf, addr)
	}
	held := 0
	for n, e := 0, syscall.EAGAIN; ; n, e = ns.TryRead(buf[held:]) {
		if e == syscall.EAGAIN {
			if held > 0 {
				if _, err := client.Write(buf[:held]); err != nil {
					return tx, false
				}
				held = 0
			}
			// Wait (the socket goes to the poller); n == 0 is the end.
			var err error
			if n, err = ns.Read(buf); err != nil && !errors.Is(err, io.EOF) {
				s.Log().Debug("fastrouter: read from %s: %s", addr, err)
				return tx, false
			}
		} else if e != 0 {
			if held > 0 {
				_, _ = client.Write(buf[:held])
			}
			s.Log().Debug("fastrouter: read from %s: %s", addr, e)
			return tx, false
		}
		if n == 0 {
			if held > 0 {
				_, _ = client.WriteLast(buf[:held])
			}
			return tx, true
		}
		tx += uint64(n)
		held += n
		if held == len(buf) {
			if _, err := client.Write(buf); err != nil {
				return tx, false
			}
			held = 0
		}
	}
}

// answerPlain is answer for a node socket without a descriptor.
func (s *session) answerPlain(client *subscription.Socket, node subscription.NodeConn, buf []byte, addr string) (tx uint64, eof bool) {
	for {
		r, err := node.Read(buf)
		if r > 0 {
			tx += uint64(r)
			if _, werr := client.Write(buf[:r]); werr != nil {
				return tx, false
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.Log().Debug("fastrouter: read from %s: %s", addr, err)
				return tx, false
			}
			return tx, true
		}
	}
}

// copyN streams n bytes from src (a Socket: it keeps its own idle timeout)
// to dst with an idle timeout per write.
func copyN(dst subscription.NodeConn, src io.Reader, n int64, timeout time.Duration) (int64, error) {
	buf := make([]byte, min(n, bufSize))
	var done int64
	for done < n {
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
	s.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (s *session) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (s *session) HandleInspect(from gen.PID, item ...string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return map[string]string{"client": "(idle)"}
	}
	return map[string]string{"client": "(serving)"} // its address would take a syscall racing the session's close
}

func (s *session) Terminate(reason error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	client, node := s.client, s.node
	s.mu.Unlock()
	close(s.done)
	if client != nil {
		client.Abort()
	}
	if node != nil {
		node.Close()
	}
}
