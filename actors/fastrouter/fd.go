package fastrouter

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// errClosed: the session was terminated while a socket call would have
// had to wait.
var errClosed = errors.New("fastrouter: session closed")

// conn is a session's client socket: a raw non-blocking descriptor, read
// and written with plain system calls as long as they do not block, and
// handed to the runtime poller (an *os.File) only the first time one would.
//
// Why: a uwsgi client sends its whole request before the listener even
// accepts it (TCP_DEFER_ACCEPT), and the answer chunks relayed to it fit
// its socket buffer, so on the common path nothing ever waits on the client
// socket. Registering it with the poller would cost two epoll_ctl calls, a
// poll descriptor, a finalizer and deadline timers per connection, none of
// which uWSGI's router pays for.
//
// Only the session's goroutines use a conn; Terminate reaches it through
// the session's lock (promote and abort), and never closes a raw
// descriptor, whose number could meanwhile be reused.
type conn struct {
	fd      int
	f       *os.File  // nil while raw
	expires time.Time // of the poller deadline last set on f
	timeout time.Duration
}

// read reads into p: 0, io.EOF at the end of the stream.
func (c *conn) read(s *session, p []byte) (int, error) {
	if c.f == nil {
		n, err := syscall.Read(c.fd, p)
		for err == syscall.EINTR {
			n, err = syscall.Read(c.fd, p)
		}
		switch {
		case err == nil && n == 0 && len(p) > 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err != syscall.EAGAIN:
			return 0, os.NewSyscallError("read", err)
		}
		if err := s.promote(c); err != nil {
			return 0, err
		}
	}
	c.arm()
	return c.f.Read(p)
}

// write writes all of p.
func (c *conn) write(s *session, p []byte) (int, error) {
	done := 0
	if c.f == nil {
		for done < len(p) {
			n, err := syscall.Write(c.fd, p[done:])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				break
			}
			if err != nil {
				return done, os.NewSyscallError("write", err)
			}
			done += n
		}
		if done == len(p) {
			return done, nil
		}
		if err := s.promote(c); err != nil {
			return done, err
		}
	}
	c.arm()
	n, err := c.f.Write(p[done:])
	return done + n, err
}

// writeLast writes all of p, the last bytes before close: on a raw socket
// with MSG_MORE, so that the close sends them and the FIN in one segment.
func (c *conn) writeLast(s *session, p []byte) (int, error) {
	if c.f != nil {
		return c.write(s, p)
	}
	done := 0
	for done < len(p) {
		n, err := syscall.SendmsgN(c.fd, p[done:], nil, nil, syscall.MSG_MORE)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			break
		}
		done += n
	}
	if done == len(p) {
		return done, nil
	}
	n, err := c.write(s, p[done:])
	return done + n, err
}

// arm renews the poller deadline of a promoted conn once it is
// deadlineSlack old: the idle timeout per read or write phase, without a
// timer operation per call.
func (c *conn) arm() {
	now := time.Now()
	if c.expires.Sub(now) < c.timeout-deadlineSlack {
		c.expires = now.Add(c.timeout)
		_ = c.f.SetDeadline(c.expires)
	}
}

// close closes the socket (the session's goroutine; again is a no-op).
func (c *conn) close() {
	switch {
	case c.f != nil:
		c.f.Close()
	case c.fd >= 0:
		syscall.Close(c.fd)
	}
	c.fd, c.f = -1, nil
}

// remote is the peer's address, for log lines.
func (c *conn) remote() string {
	sa, err := syscall.Getpeername(c.fd)
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
