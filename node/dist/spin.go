package dist

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"imperial/internal/nbio"
)

// spinFor is how long a reader that just had input polls its socket before it
// parks in the poller.
const spinFor = 50 * time.Microsecond

var (
	// spinAllowed: the machine has a core to spare (AllowSpin).
	spinAllowed atomic.Bool
	// spinners counts the readers polling now: one is enough to keep the
	// machine's idle cores from sleeping.
	spinners atomic.Int32
	// polled is the time readers spent polling an empty socket.
	polled atomic.Int64
)

// AllowSpin turns polling on or off for every connection. Whoever watches the
// machine's load calls it (rel/sched): polling pays only while a core is idle;
// on a saturated machine it takes the CPU that the peer needs to answer.
func AllowSpin(on bool) { spinAllowed.Store(on) }

// SpinTime is the total time readers spent polling an empty socket: CPU given
// up at once when anything else wants it, so idle time rather than load.
func SpinTime() time.Duration { return time.Duration(polled.Load()) }

// spinReader reads a socket as BEAM's schedulers wait (+sbwt): a request
// answered, the next one usually follows within tens of microseconds, so the
// reader polls the socket (yielding to other goroutines between polls) for a
// short while before it parks. Parking costs a sleep and a wake-up of the
// thread in epoll_wait and a round of the runtime's sysmon, more than the
// polls. Nothing polls without recent input or without a spare core.
type spinReader struct {
	nc   net.Conn
	rc   syscall.RawConn
	last time.Time // when a read last returned data
}

func newSpinReader(nc net.Conn) io.Reader {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	return &spinReader{nc: nc, rc: rc}
}

func (s *spinReader) Read(p []byte) (int, error) {
	if spinAllowed.Load() {
		if now := time.Now(); now.Sub(s.last) < spinFor {
			if spinners.Add(1) == 1 {
				n, ok := s.spin(p, now)
				spinners.Add(-1)
				if ok {
					s.last = time.Now()
					return n, nil
				}
			} else {
				spinners.Add(-1)
			}
		}
	}
	n, err := s.read(p)
	if n > 0 {
		s.last = time.Now()
	}
	return n, err
}

// read waits in the poller until the socket has input, then reads it with a
// raw system call (internal/nbio: the runtime's syscall bookkeeping would wake
// sysmon every time the reader comes back from an idle wait).
func (s *spinReader) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := s.rc.Read(func(fd uintptr) bool {
		n, errno = nbio.Read(int(fd), p)
		return errno != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// spin polls from start until data arrives or spinFor passes; ok with n > 0
// bytes. Errors and the end of input are left to the blocking read. The time
// other goroutines ran while it yielded is theirs, not polling.
func (s *spinReader) spin(p []byte, start time.Time) (n int, ok bool) {
	var others time.Duration
	for {
		var rerr error
		err := s.rc.Read(func(fd uintptr) bool {
			var e syscall.Errno
			n, e = nbio.Read(int(fd), p)
			if e != 0 {
				rerr = e
			}
			return true
		})
		now := time.Now()
		switch {
		case err == nil && rerr == nil && n > 0:
			polled.Add(int64(now.Sub(start) - others))
			return n, true
		case err != nil || rerr != syscall.EAGAIN:
			return 0, false
		case now.Sub(start) > spinFor:
			polled.Add(int64(now.Sub(start) - others))
			return 0, false
		}
		runtime.Gosched()
		others += time.Since(now)
	}
}
