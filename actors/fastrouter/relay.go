package fastrouter

import (
	"io"
	"os"
	"syscall"
)

// relay reads a node's answer for the session's copy loop, one step per
// call of its read method (a syscall.RawConn read function).
//
// Why it holds a chunk back: the loop writes a chunk to the client only
// once the next read from the node has said what follows it. When the node
// has closed (the usual case: it writes its answer and closes at once), the
// last chunk goes out with MSG_MORE and the close that follows tacks the FIN
// onto the same segment, so the client is woken once for answer and end
// instead of twice. When the node has nothing more yet, the held chunk is
// written before the session waits, so nothing is delayed.
type relay struct {
	buf   []byte
	held  int   // bytes at the start of buf read and not yet written
	n     int   // bytes the last step read
	err   error // the last step's error; io.EOF at the end
	flush bool  // the last step found nothing to read while a chunk is held
	fn    func(fd uintptr) bool
}

func newRelay() *relay {
	r := &relay{}
	r.fn = r.read
	return r
}

// read is one step: it reads what the node has; with nothing there it asks
// to flush the held chunk, or to wait when there is none.
func (r *relay) read(fd uintptr) bool {
	r.n, r.err, r.flush = 0, nil, false
	for {
		n, err := syscall.Read(int(fd), r.buf[r.held:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if r.held > 0 {
				r.flush = true
				return true
			}
			return false
		case err != nil:
			r.err = os.NewSyscallError("read", err)
		case n == 0:
			r.err = io.EOF
		default:
			r.n = n
		}
		return true
	}
}
