package vassal

// odMeta owns the listening socket of an on-demand vassal (spec §3.10).
//
// Accepts  odArm (wait for the next connection; sent when the vassal is back
//          to on-demand mode).
// Replies  nothing.
// Sends    odReady to its parent, the vassal actor, when the socket becomes
//          readable (a client is waiting); it never accepts: the vassal
//          process gets the socket as fd 0 and accepts the pending connection.
// Spawns   nothing.
// Owns     the listening socket (bound in Init: TCP "host:port" with
//          SO_REUSEADDR, or a unix path unlinked first and made 0666; closed
//          and, for unix, unlinked when Start ends), a wake pipe for Terminate.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"ergo.services/ergo/gen"
	"golang.org/x/sys/unix"
)

const onDemandBacklog = 100

type odMeta struct {
	proc gen.MetaProcess
	addr string

	ln           *os.File // fixed after Init; read by the vassal actor to hand it to procMeta
	lnFD, wakeFD int      // raw descriptors polled by Start (fixed after Init)
	wakeR, wakeW *os.File
	arm          chan struct{}
	stop         chan struct{}
	once         sync.Once
}

func newOnDemand(addr string) *odMeta {
	return &odMeta{addr: addr, arm: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (m *odMeta) Init(p gen.MetaProcess) error {
	m.proc = p
	fd, err := bindOnDemand(m.addr)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrBind, m.addr, err)
	}
	var pfd [2]int
	if err := syscall.Pipe2(pfd[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("%w %q: pipe: %v", ErrBind, m.addr, err)
	}
	m.ln = os.NewFile(uintptr(fd), m.addr)
	m.lnFD, m.wakeFD = fd, pfd[0]
	m.wakeR, m.wakeW = os.NewFile(uintptr(pfd[0]), "wake"), os.NewFile(uintptr(pfd[1]), "wake")
	return nil
}

// bindOnDemand binds and listens as uWSGI's on_demand_bind does, returning a
// blocking, close-on-exec descriptor.
func bindOnDemand(addr string) (int, error) {
	host, port, tcp := strings.Cut(addr, ":")
	if !tcp {
		if err := syscall.Unlink(addr); err != nil && !errors.Is(err, syscall.ENOENT) {
			return -1, err
		}
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: addr}); err != nil {
			syscall.Close(fd)
			return -1, err
		}
		if err := syscall.Chmod(addr, 0o666); err != nil {
			syscall.Close(fd)
			return -1, err
		}
		if err := syscall.Listen(fd, onDemandBacklog); err != nil {
			syscall.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return -1, fmt.Errorf("bad port %q", port)
	}
	sa := &syscall.SockaddrInet4{Port: p}
	if host != "" {
		ip := net.ParseIP(host).To4()
		if ip == nil {
			return -1, fmt.Errorf("bad IPv4 address %q", host)
		}
		copy(sa.Addr[:], ip)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Listen(fd, onDemandBacklog); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (m *odMeta) Start() error {
	defer func() {
		m.ln.Close()
		m.wakeR.Close()
		m.wakeW.Close()
		if !strings.Contains(m.addr, ":") {
			syscall.Unlink(m.addr)
		}
	}()
	armed := true
	for {
		if !armed {
			select {
			case <-m.arm:
				armed = true
			case <-m.stop:
				return nil
			}
		}
		fds := []unix.PollFd{
			{Fd: int32(m.lnFD), Events: unix.POLLIN},
			{Fd: int32(m.wakeFD), Events: unix.POLLIN},
		}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("vassal: poll on-demand socket %s: %w", m.addr, err)
		}
		select {
		case <-m.stop:
			return nil
		default:
		}
		if fds[1].Revents != 0 {
			var b [16]byte
			syscall.Read(m.wakeFD, b[:])
		}
		if fds[0].Revents != 0 {
			armed = false
			m.proc.Send(m.proc.Parent(), odReady{})
		}
	}
}

func (m *odMeta) HandleMessage(from gen.PID, message any) error {
	if _, ok := message.(odArm); ok {
		select {
		case m.arm <- struct{}{}:
		default:
		}
	}
	return nil
}

func (m *odMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return nil, nil
}

func (m *odMeta) Terminate(reason error) {
	m.once.Do(func() {
		close(m.stop)
		m.wakeW.Write([]byte{0})
	})
}

func (m *odMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"socket": m.addr}
}
