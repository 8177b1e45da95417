// Package nbio makes system calls on non-blocking sockets with RawSyscall.
//
// Why not syscall.Read and friends: these calls never wait, so the
// runtime's syscall bookkeeping around them buys nothing, and costs twice.
// Its entry and exit show in a router's profile. A P found "in a syscall" by
// sysmon during a slow loopback connect or close (tens of µs of TCP work) is
// handed to another thread and taken back on return, a thread wake-up and a
// futex sleep per hand-off, while the retakes keep sysmon itself polling every
// 20 µs (it backs off only when it has nothing to retake). And every syscall
// entered while all Ps were idle wakes a deep-sleeping sysmon (a futex wake)
// and resets it to 20 µs polls: a node whose P idles between calls paid a
// tenth of its CPU for sysmon. Raw calls leave sysmon asleep.
//
// Only for descriptors in non-blocking mode: a raw call that blocks holds its P.
package nbio

import (
	"net/netip"
	"syscall"
	"unsafe"
)

func ptr(p []byte) uintptr {
	if len(p) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(p)))
}

// Read reads from a non-blocking descriptor: n, or 0 and the errno
// (EAGAIN when there is nothing to read; 0, 0 at the end of the stream).
func Read(fd int, p []byte) (int, syscall.Errno) {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), ptr(p), uintptr(len(p)))
		if e != syscall.EINTR {
			if e != 0 {
				return 0, e
			}
			return int(r), 0
		}
	}
}

// Write writes to a non-blocking descriptor: n, or 0 and the errno (EAGAIN
// when the socket buffer is full).
func Write(fd int, p []byte) (int, syscall.Errno) { return Send(fd, p, 0) }

// Send is send(2): Write with MSG_* flags.
func Send(fd int, p []byte, flags int) (int, syscall.Errno) {
	for {
		var r uintptr
		var e syscall.Errno
		if flags == 0 {
			r, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), ptr(p), uintptr(len(p)))
		} else {
			r, _, e = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), ptr(p), uintptr(len(p)), uintptr(flags), 0, 0)
		}
		if e != syscall.EINTR {
			if e != 0 {
				return 0, e
			}
			return int(r), 0
		}
	}
}

// Close closes a descriptor.
func Close(fd int) syscall.Errno {
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
	return e
}

// Connect starts a connect of a non-blocking socket: 0 when connected,
// EINPROGRESS when under way.
func Connect(fd int, ap netip.AddrPort) syscall.Errno {
	var p unsafe.Pointer
	var n uintptr
	port := ap.Port()
	var sa4 syscall.RawSockaddrInet4
	var sa6 syscall.RawSockaddrInet6
	if a := ap.Addr().Unmap(); a.Is4() {
		sa4.Family = syscall.AF_INET
		pp := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		pp[0], pp[1] = byte(port>>8), byte(port)
		sa4.Addr = a.As4()
		p, n = unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	} else {
		sa6.Family = syscall.AF_INET6
		pp := (*[2]byte)(unsafe.Pointer(&sa6.Port))
		pp[0], pp[1] = byte(port>>8), byte(port)
		sa6.Addr = a.As16()
		p, n = unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
	}
	for {
		_, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(p), n)
		if e != syscall.EINTR {
			return e
		}
	}
}

// Disconnect dissolves a TCP connection with a reset (a connect to
// AF_UNSPEC, the kernel's disconnect): the socket returns to the closed
// state, from which it may connect again.
func Disconnect(fd int) syscall.Errno {
	sa := syscall.RawSockaddrInet6{Family: syscall.AF_UNSPEC}
	_, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	return e
}

// TakeError reads and clears a socket's pending error (SO_ERROR).
func TakeError(fd int) syscall.Errno {
	var v int32
	n := uint32(unsafe.Sizeof(v))
	_, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_ERROR,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&n)), 0)
	return e
}

// SetsockoptInt sets an int socket option.
func SetsockoptInt(fd, level, opt, value int) syscall.Errno {
	v := int32(value)
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	return e
}
