//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package bertrpc

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed reports whether the server has closed conn (or sent bytes
// nobody asked for), by peeking at the socket without blocking. A
// connection whose state cannot be inspected is assumed open.
func peerClosed(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var rerr error
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	switch {
	case err != nil:
		return true
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK) || errors.Is(rerr, syscall.EINTR):
		return false // open, nothing to read
	case rerr != nil:
		return true
	}
	return true // n == 0: EOF; n > 0: unsolicited data, out of step
}
