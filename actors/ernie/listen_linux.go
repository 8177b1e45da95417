package ernie

import "syscall"

// deferAcceptSecs is TCP_DEFER_ACCEPT on Ernie's listening socket: the
// kernel hands a connection over once its first bytes are in (a BERT-RPC
// client speaks first), so its first read finds the request instead of
// parking the goroutine until it arrives. A client that connects and stays
// silent is handed over after about this long.
const deferAcceptSecs = 1

// listenControl sets the listening socket's options (net.ListenConfig).
func listenControl(network, address string, c syscall.RawConn) error {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, deferAcceptSecs)
	})
	if err != nil {
		return err
	}
	return serr
}
