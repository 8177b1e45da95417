package subscription

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"imperial/internal/nbio"
)

// ErrSocketClosed: a Socket was aborted.
var ErrSocketClosed = errors.New("subscription: socket closed")

// DeferAcceptSecs is TCP_DEFER_ACCEPT on the uwsgi sockets of routers and
// workers, as uWSGI sets it (its --socket-timeout, 4 s): the kernel hands a
// connection over only once the request's first bytes are in, so it is read
// at once instead of waited for, and idle connects cost nothing.
const DeferAcceptSecs = 4

// ListenRaw binds addr as Listen does, for accepting with an Acceptor: it
// returns the listener (for its address, and to close) and a duplicate of
// its socket as an *os.File (the runtime waits for connections only
// through a file; a listener's own raw connection cannot). Close both.
//
// A TCP listener gets TCP_DEFER_ACCEPT, and delayed ACKs (TCP_QUICKACK off
// after listen, which would reset it; its connections inherit it): the
// kernel's quick-ack mode would otherwise answer the request of every new
// connection with an ACK segment of its own, where the answer can carry it.
// A Socket acknowledges at once whenever it has to wait for input (Poll), so
// a client whose Nagle algorithm holds back the rest of its request until
// it is acknowledged never waits for the delayed-ACK timer.
func ListenRaw(addr string) (net.Listener, *os.File, error) {
	l, err := Listen(addr)
	if err != nil {
		return nil, nil, err
	}
	if tl, ok := l.(*net.TCPListener); ok {
		if rc, err := tl.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, DeferAcceptSecs)
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 0)
			})
		}
	}
	fl, ok := l.(interface{ File() (*os.File, error) })
	if !ok {
		l.Close()
		return nil, nil, ErrOptions
	}
	f, err := fl.File()
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, f, nil
}

// Acceptor takes connections from a ListenRaw file as raw non-blocking
// descriptors (for Socket): net.Listener.Accept would add a TCP_NODELAY
// setsockopt, a getsockname, a poller registration and its allocations per
// connection, which a one-request uwsgi connection does not need.
//
// The waiting stays in the meta process that owns the loop: it passes Step
// to the file's raw connection (rc.Read(step), which waits on the poller
// while Step says nothing is there) and then takes the result with Conn.
// One per goroutine; several may share the file.
type Acceptor struct {
	fd  int
	err syscall.Errno
}

// Step is a syscall.RawConn read function: one accept4; false (wait) when
// no connection is pending.
func (a *Acceptor) Step(lfd uintptr) bool {
	r, _, e := syscall.RawSyscall6(syscall.SYS_ACCEPT4, lfd, 0, 0,
		syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
	if e == syscall.EAGAIN {
		return false
	}
	a.fd, a.err = int(r), e
	return true
}

// Conn is what the last Step took: a descriptor, or -1 and nil for a
// connection that was aborted or an interrupted call (step again), or -1
// and an error (EMFILE: the caller backs off).
func (a *Acceptor) Conn() (int, error) {
	switch a.err {
	case 0:
		return a.fd, nil
	case syscall.EINTR, syscall.ECONNABORTED:
		return -1, nil
	}
	return -1, os.NewSyscallError("accept4", a.err)
}

// Socket is an accepted connection (NewSocket) or one to a node (dialRaw,
// connected again after a reset: Picker.Recycle): a raw non-blocking
// descriptor, read and written with plain system calls as long as they do
// not block, and handed to the runtime poller (an *os.File) only the first
// time one would.
//
// Why: a uwsgi client sends its whole request before the connection is even
// accepted (TCP_DEFER_ACCEPT), and an answer of a few kilobytes fits the
// socket buffer, so on the common path nothing ever waits on the socket.
// Registering it with the poller would cost two epoll_ctl calls, a poll
// descriptor, a finalizer and deadline timers per connection, none of which
// uWSGI pays for.
//
// One goroutine owns it (Read, Write, WriteLast, Close); once Poll was
// called, one other may Read while the owner writes. Abort may come from
// any goroutine: it closes a polled socket, which ends a wait, and makes
// every later call fail; it never closes a raw descriptor, whose number
// could meanwhile be reused (the owner's Close does).
type Socket struct {
	fd      int
	timeout time.Duration
	// ackOnWait: the connection came from a ListenRaw listener, with
	// delayed ACKs; Poll acknowledges what was read before any wait.
	ackOnWait bool
	// domain is the address family of a socket we connect (dialRaw), 0
	// for an accepted one.
	domain int
	rexp   time.Time // of the poller read deadline last set
	wexp   time.Time // of the poller write deadline last set

	mu      sync.Mutex // f's creation against Abort
	f       *os.File   // nil while raw
	aborted atomic.Bool

	// the polled read: f's raw connection and its read function's
	// arguments and results (no allocation per read)
	rc     syscall.RawConn
	readFn func(uintptr) bool
	rbuf   []byte
	rn     int
	re     syscall.Errno
}

// NewSocket takes fd (non-blocking), a connection accepted from a ListenRaw
// listener; timeout bounds each wait, renewed at most once a second.
func NewSocket(fd int, timeout time.Duration) *Socket {
	return &Socket{fd: fd, timeout: timeout, ackOnWait: true}
}

// deadlineSlack: a poller deadline is renewed once it is this old.
const deadlineSlack = time.Second

// Read reads into p: 0, io.EOF at the end of the stream.
func (s *Socket) Read(p []byte) (int, error) {
	if s.aborted.Load() {
		return 0, ErrSocketClosed
	}
	if s.f == nil {
		n, e := nbio.Read(s.fd, p)
		switch {
		case e == 0 && n == 0 && len(p) > 0:
			return 0, io.EOF
		case e == 0:
			return n, nil
		case e != syscall.EAGAIN:
			return 0, os.NewSyscallError("read", e)
		}
		if err := s.Poll(); err != nil {
			return 0, err
		}
	}
	if now := time.Now(); s.rexp.Sub(now) < s.timeout-deadlineSlack {
		s.rexp = now.Add(s.timeout)
		_ = s.f.SetReadDeadline(s.rexp)
	}
	// Through the file's raw connection, so that the read itself is a raw
	// call too (internal/nbio), as on the raw path.
	rc, err := s.rawConn()
	if err != nil {
		return s.f.Read(p)
	}
	s.rbuf, s.rn, s.re = p, 0, 0
	err = rc.Read(s.readFn)
	s.rbuf = nil
	switch {
	case err != nil:
		return 0, err
	case s.re != 0:
		return 0, os.NewSyscallError("read", s.re)
	case s.rn == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return s.rn, nil
}

func (s *Socket) readStep(fd uintptr) bool {
	n, e := nbio.Read(int(fd), s.rbuf)
	if e == syscall.EAGAIN {
		return false
	}
	s.rn, s.re = n, e
	return true
}

// Write writes all of p.
func (s *Socket) Write(p []byte) (int, error) {
	return s.write(p, 0)
}

// WriteLast writes all of p, the last bytes before Close: on a raw TCP
// socket with MSG_MORE, so that the close sends them and its FIN in one
// segment and the peer is woken once for both.
func (s *Socket) WriteLast(p []byte) (int, error) {
	return s.write(p, syscall.MSG_MORE)
}

func (s *Socket) write(p []byte, flags int) (int, error) {
	if s.aborted.Load() {
		return 0, ErrSocketClosed
	}
	done := 0
	if s.f == nil {
		n, e := sendAll(s.fd, p, &flags)
		done = n
		if e != 0 && e != syscall.EAGAIN {
			return done, os.NewSyscallError("write", e)
		}
		if done == len(p) {
			return done, nil
		}
		if err := s.Poll(); err != nil {
			return done, err
		}
	}
	if now := time.Now(); s.wexp.Sub(now) < s.timeout-deadlineSlack {
		s.wexp = now.Add(s.timeout)
		_ = s.f.SetWriteDeadline(s.wexp)
	}
	// Through the file's raw connection, which tries the raw send before
	// it waits, and holds the descriptor against a concurrent Abort.
	rc, err := s.rawConn()
	if err != nil {
		n, err := s.f.Write(p[done:])
		return done + n, err
	}
	var e syscall.Errno
	err = rc.Write(func(fd uintptr) bool {
		var n int
		n, e = sendAll(int(fd), p[done:], &flags)
		done += n
		return e != syscall.EAGAIN
	})
	if err == nil && e != 0 {
		err = os.NewSyscallError("write", e)
	}
	return done, err
}

// sendAll sends p until it is all written or the socket refuses more
// (EAGAIN, or another errno). Flags are dropped, for good, by a socket that
// rejects them (a unix socket and MSG_MORE).
func sendAll(fd int, p []byte, flags *int) (int, syscall.Errno) {
	done := 0
	for done < len(p) {
		n, e := nbio.Send(fd, p[done:], *flags)
		if e != 0 && e != syscall.EAGAIN && *flags != 0 {
			*flags = 0
			continue
		}
		if e != 0 {
			return done, e
		}
		done += n
	}
	return done, 0
}

// rawConn is the polled file's raw connection, kept for later calls.
func (s *Socket) rawConn() (syscall.RawConn, error) {
	if s.rc == nil {
		rc, err := s.f.SyscallConn()
		if err != nil {
			return nil, err
		}
		s.rc, s.readFn = rc, s.readStep
	}
	return s.rc, nil
}

// Poll hands the socket to the runtime poller, so that calls can wait on
// it and Abort can end them.
func (s *Socket) Poll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted.Load() {
		return ErrSocketClosed
	}
	if s.f == nil && s.fd >= 0 {
		if s.ackOnWait {
			// Leaves delayed-ACK mode and acknowledges now (a no-op
			// error on a unix socket).
			_ = nbio.SetsockoptInt(s.fd, syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		}
		s.f = os.NewFile(uintptr(s.fd), "socket")
	}
	return nil
}

// TryRead reads what the socket holds without ever waiting, raw or
// polled: n, or 0 and EAGAIN when there is nothing yet; 0, 0 at the end.
func (s *Socket) TryRead(p []byte) (int, syscall.Errno) {
	if s.aborted.Load() || s.fd < 0 {
		return 0, syscall.EBADF
	}
	return nbio.Read(s.fd, p)
}

// connect connects the socket (new, or dissolved by dissolve) to a node
// and writes first to it.
func (s *Socket) connect(ap netip.AddrPort, first []byte) error {
	if e := nbio.Connect(s.fd, ap); e != 0 && e != syscall.EINPROGRESS {
		return os.NewSyscallError("connect", e)
	}
	// A loopback connection is established (or refused) by connect itself,
	// and the request fits the empty socket buffer; otherwise the write
	// waits on the poller for the connection.
	_, err := s.Write(first)
	return err
}

// dissolve resets a connection we connected (Reset) and reports whether
// the socket can connect again: not when it was aborted.
func (s *Socket) dissolve() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.domain == 0 || s.fd < 0 || s.aborted.Load() {
		return false
	}
	if nbio.Disconnect(s.fd) != 0 {
		return false
	}
	// The reset left the socket's error set (ECONNRESET) until the next
	// connect clears it. Taken now, so that the runtime poller, which may
	// look at the socket while it connects again, never sees the error
	// alone and takes the socket for a broken one ("not pollable").
	return nbio.TakeError(s.fd) == 0
}

// SetDeadline, SetReadDeadline and SetWriteDeadline set a poller deadline
// (NodeConn): the socket is polled from then on, and t holds until the
// idle timeout would renew it.
func (s *Socket) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// SetReadDeadline: see SetDeadline.
func (s *Socket) SetReadDeadline(t time.Time) error {
	if err := s.Poll(); err != nil {
		return err
	}
	s.rexp = t
	return s.f.SetReadDeadline(t)
}

// SetWriteDeadline: see SetDeadline.
func (s *Socket) SetWriteDeadline(t time.Time) error {
	if err := s.Poll(); err != nil {
		return err
	}
	s.wexp = t
	return s.f.SetWriteDeadline(t)
}

// Abort makes every later call fail, ends a wait in progress and closes the
// connection for the peer (a raw descriptor is shut down, not closed, so
// that its number stays the owner's until Close).
func (s *Socket) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted.Store(true)
	switch {
	case s.f != nil:
		s.f.Close()
	case s.fd >= 0:
		_ = syscall.Shutdown(s.fd, syscall.SHUT_RDWR)
	}
}

// Close closes the socket (the owner; again is a no-op).
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	switch {
	case s.f != nil:
		err = s.f.Close() // f stays: a reader may still hold it and then fails
	case s.fd >= 0:
		if e := nbio.Close(s.fd); e != 0 {
			err = os.NewSyscallError("close", e)
		}
	}
	s.fd = -1 // its number may be reused at once
	if errors.Is(err, os.ErrClosed) {
		err = nil // aborted
	}
	return err
}

// RemoteAddr is the peer's address, for log lines.
func (s *Socket) RemoteAddr() string {
	sa, err := syscall.Getpeername(s.fd)
	if err != nil {
		return "?"
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *syscall.SockaddrInet6:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *syscall.SockaddrUnix:
		return "unix:" + a.Name
	}
	return "?"
}
