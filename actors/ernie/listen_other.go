//go:build !linux

package ernie

import "syscall"

// listenControl sets the listening socket's options (net.ListenConfig):
// none outside Linux.
func listenControl(network, address string, c syscall.RawConn) error { return nil }
