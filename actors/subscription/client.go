package subscription

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/internal/nbio"
)

// Errors of Client.
var (
	ErrNoNode    = errors.New("subscription: no node for key")
	ErrNoAnswer  = errors.New("subscription: server did not answer")
	ErrAllFailed = errors.New("subscription: every node refused")
)

// DefaultRetries is uWSGI's max_retries: attempts after the first failed
// connect.
const DefaultRetries = 3

// Client is how a router reaches the server; Picker is one session's use of
// it.
type Client struct {
	Server  any           // the server: Name, or a gen.ProcessID
	Timeout time.Duration // for the server's answer and for each connect
	Retries int           // connect attempts after the first; 0 means DefaultRetries, <0 none
	// Table, when set, is the server's table on this node (Options.Table):
	// picks and releases use it in place instead of messages.
	Table *Shared
}

// Picker is what a router session (a meta process) uses to reach a node
// through the server: ask for a node, connect, fail over to another node when
// one refuses (spec §2.8 step 6), and report the end of the session. It is
// not safe for concurrent use: one per session, reusable for the session's
// successive connections.
type Picker struct {
	c       Client
	replies chan MessageNode
	seq     uint64
	// spare is a node socket whose connection was dissolved (Recycle), to
	// connect again instead of opening a new one.
	spare *Socket
}

// NewPicker makes a session's Picker.
func NewPicker(c Client) *Picker {
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	c.Retries = max(c.Retries, 0)
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	return &Picker{c: c, replies: make(chan MessageNode, 1)}
}

// Connect asks for a node for key, connects to it and writes first(node)
// to it (the request with that node's modifiers; nil writes nothing). On a
// refused connection it logs as uWSGI does, reports the failure with the
// next pick, and tries again. The returned node must be given to Done.
func (p *Picker) Connect(mp gen.MetaProcess, key string, first func(MessageNode) []byte) (NodeConn, MessageNode, error) {
	pick := MessagePick{Key: key, Reply: p.replies}
	for attempt := 0; ; attempt++ {
		node, err := p.pick(mp, pick)
		if err != nil {
			return nil, MessageNode{}, err
		}
		if !node.Found {
			if attempt > 0 {
				return nil, MessageNode{}, fmt.Errorf("%w: %s", ErrAllFailed, key)
			}
			return nil, MessageNode{}, fmt.Errorf("%w: %s", ErrNoNode, key)
		}
		var payload []byte
		if first != nil {
			payload = first(node)
		}
		conn, err := p.dial(node.Address, payload)
		if err == nil {
			return conn, node, nil
		}
		mp.Log().Error("[uwsgi-fastrouter] unable to connect() to node \"%s\" (%d retries): %s",
			node.Address, attempt, cause(err))
		if attempt >= p.c.Retries {
			if p.c.Table != nil {
				p.c.Table.Release(node.Key, node.Address, 0, 0, true)
			} else {
				_ = mp.Send(p.c.Server, MessageDone{Key: node.Key, Address: node.Address, Failed: true})
			}
			return nil, MessageNode{}, fmt.Errorf("%w: %s: %w", ErrAllFailed, key, err)
		}
		pick.Failed, pick.FailedKey = node.Address, node.Key
	}
}

// dial connects to a node address as DialSend does, on the spare socket
// when there is one for its address family.
func (p *Picker) dial(addr string, first []byte) (NodeConn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || p.spare == nil || p.spare.domain != domainOf(ap) {
		return DialSend(addr, p.c.Timeout, first)
	}
	s := p.spare
	p.spare = nil
	if err := s.connect(ap, first); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Recycle ends a node connection whose node has sent everything, closed,
// and reads nothing more: a reset (a connect to AF_UNSPEC) dissolves it,
// which spares both kernels the FIN handshake and the node a TIME_WAIT
// socket, and the socket, back in the closed state, is kept for the next
// Connect: opening and closing a socket per request (its file, inode and
// poller registration) costs a router more than the connect itself. A
// connection without a descriptor is closed.
func (p *Picker) Recycle(c NodeConn) {
	s, ok := c.(*Socket)
	if !ok {
		c.Close()
		return
	}
	if !s.dissolve() || p.spare != nil {
		s.Close()
		return
	}
	p.spare = s
}

// Close closes the spare socket; the Picker stays usable.
func (p *Picker) Close() {
	if p.spare != nil {
		p.spare.Close()
		p.spare = nil
	}
}

// pick picks in the shared table, or asks the server.
func (p *Picker) pick(mp gen.MetaProcess, pick MessagePick) (MessageNode, error) {
	t := p.c.Table
	if t == nil {
		return p.ask(mp, pick)
	}
	if pick.Failed != "" {
		t.Release(pick.FailedKey, pick.Failed, 0, 0, true)
	}
	n, found := t.Pick(pick.Key, time.Now())
	return MessageNode{Found: found, Key: n.Key, Address: n.Address, Modifier1: n.Modifier1, Modifier2: n.Modifier2}, nil
}

// ask sends one pick and waits for its answer, releasing stale answers (to
// picks this session gave up on) as they come.
func (p *Picker) ask(mp gen.MetaProcess, pick MessagePick) (MessageNode, error) {
	p.seq++
	pick.Seq = p.seq
	if err := mp.Send(p.c.Server, pick); err != nil {
		return MessageNode{}, fmt.Errorf("%w: %w", ErrNoAnswer, err)
	}
	timer := time.NewTimer(p.c.Timeout)
	defer timer.Stop()
	for {
		select {
		case node := <-p.replies:
			if node.Seq == p.seq {
				return node, nil
			}
			if node.Found {
				p.Done(mp, node, 0, 0)
			}
		case <-timer.C:
			return MessageNode{}, ErrNoAnswer
		}
	}
}

// Done ends the session on node: tx bytes were read from it, rx written.
func (p *Picker) Done(mp gen.MetaProcess, node MessageNode, tx, rx uint64) {
	if p.c.Table != nil {
		p.c.Table.Release(node.Key, node.Address, tx, rx, false)
		return
	}
	if err := mp.Send(p.c.Server, MessageDone{Key: node.Key, Address: node.Address, TX: tx, RX: rx}); err != nil {
		mp.Log().Warning("session end on %s not reported: %s", node.Address, err)
	}
}

// NodeConn is a connection to a node: a net.Conn, or for IP addresses a
// *Socket (see DialSend).
type NodeConn interface {
	io.ReadWriteCloser
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Dial connects to a node address: "host:port" over TCP, a path or an
// "@abstract" name over a unix stream socket.
func Dial(addr string, timeout time.Duration) (NodeConn, error) {
	return DialSend(addr, timeout, nil)
}

// DialSend connects to a node address and writes first to it. For an IP
// address it opens the socket itself and writes without waiting for the
// connection to be reported established (a refused connection fails the
// write): with net.Dial a router pays, per request, for a TCP_NODELAY
// setsockopt, getsockname, getpeername and a wait for writability, which the
// uwsgi exchange (one write, then reads) does not need. Other addresses use
// net.Dial.
func DialSend(addr string, timeout time.Duration, first []byte) (NodeConn, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return dialRaw(ap, timeout, first)
	}
	network := "tcp"
	if !strings.Contains(addr, ":") {
		network = "unix"
	} else if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	// uWSGI sets no TCP keep-alive on router sockets; neither do we (it
	// costs four setsockopt calls per connection).
	d := net.Dialer{Timeout: timeout, KeepAlive: -1}
	c, err := d.DialContext(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	if len(first) > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := c.Write(first); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// dialRaw connects to an IP node with a raw Socket: connect, the request
// written and, often, the answer read and the socket closed without the
// socket ever meeting the poller.
func dialRaw(ap netip.AddrPort, timeout time.Duration, first []byte) (NodeConn, error) {
	domain := domainOf(ap)
	fd, err := syscall.Socket(domain, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// TCP_DEFER_ACCEPT on a connecting socket has the kernel hold back the
	// last ACK of the handshake for the request to carry (as it does in
	// delayed-ACK mode, which a reset connection loses, while this stays
	// for the socket's next connects).
	_ = nbio.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, 1)
	s := &Socket{fd: fd, timeout: timeout, domain: domain}
	if err := s.connect(ap, first); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// domainOf is the socket address family for ap.
func domainOf(ap netip.AddrPort) int {
	if ap.Addr().Unmap().Is4() {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

// cause is the system error of a dial error ("Connection refused"), as
// uWSGI's log shows it.
func cause(err error) string {
	var se interface{ Unwrap() error }
	for errors.As(err, &se) {
		inner := se.Unwrap()
		if inner == nil {
			break
		}
		err = inner
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// Listen binds a stream socket the way uWSGI spells addresses: "host:port"
// or ":port" (TCP, all interfaces), a path or an "@abstract" name (unix).
// A stale socket file at a path is removed first.
func Listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	if strings.Contains(addr, ":") {
		return lc.Listen(context.Background(), "tcp", addr)
	}
	if !strings.HasPrefix(addr, "@") {
		_ = removeSocket(addr)
	}
	return lc.Listen(context.Background(), "unix", addr)
}

// removeSocket removes path when it is a unix socket (never a regular file).
func removeSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return err
	}
	return os.Remove(path)
}
