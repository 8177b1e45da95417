package subscription

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"ergo.services/ergo/gen"
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

// Client is what a router session (a meta process) uses to reach a node
// through the server: ask for a node, connect, fail over to another node when
// one refuses (spec §2.8 step 6), and report the end of the session. The
// session's HandleMessage must pass every MessageNode it gets to the replies
// channel given to Connect.
type Client struct {
	Server  any           // the server: Name, or a gen.ProcessID
	Timeout time.Duration // for the server's answer and for each connect
	Retries int           // connect attempts after the first; 0 means DefaultRetries, <0 none
}

// Connect asks for a node for key and connects to it. On a refused connect
// it logs as uWSGI does, reports the failure with the next pick, and tries
// again. The returned node must be given to Done.
func (c Client) Connect(mp gen.MetaProcess, replies <-chan MessageNode, key string) (net.Conn, MessageNode, error) {
	retries := c.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	retries = max(retries, 0)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	pick := MessagePick{Key: key, ReplyTo: mp.ID()}
	for attempt := 0; ; attempt++ {
		if err := mp.Send(c.Server, pick); err != nil {
			return nil, MessageNode{}, fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		var node MessageNode
		timer := time.NewTimer(timeout)
		select {
		case node = <-replies:
			timer.Stop()
		case <-timer.C:
			return nil, MessageNode{}, ErrNoAnswer
		}
		if !node.Found {
			if attempt > 0 {
				return nil, MessageNode{}, fmt.Errorf("%w: %s", ErrAllFailed, key)
			}
			return nil, MessageNode{}, fmt.Errorf("%w: %s", ErrNoNode, key)
		}
		conn, err := Dial(node.Address, timeout)
		if err == nil {
			return conn, node, nil
		}
		mp.Log().Error("[uwsgi-fastrouter] unable to connect() to node \"%s\" (%d retries): %s",
			node.Address, attempt, cause(err))
		if attempt >= retries {
			_ = mp.Send(c.Server, MessageDone{Key: node.Key, Address: node.Address, Failed: true})
			return nil, MessageNode{}, fmt.Errorf("%w: %s: %w", ErrAllFailed, key, err)
		}
		pick.Failed, pick.FailedKey = node.Address, node.Key
	}
}

// Done ends the session on node: tx bytes were read from it, rx written.
func (c Client) Done(mp gen.MetaProcess, node MessageNode, tx, rx uint64) {
	if err := mp.Send(c.Server, MessageDone{Key: node.Key, Address: node.Address, TX: tx, RX: rx}); err != nil {
		mp.Log().Warning("session end on %s not reported: %s", node.Address, err)
	}
}

// Dial connects to a node address: "host:port" over TCP, a path or an
// "@abstract" name over a unix stream socket.
func Dial(addr string, timeout time.Duration) (net.Conn, error) {
	network := "tcp"
	if !strings.Contains(addr, ":") {
		network = "unix"
	} else if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	if network == "tcp" {
		if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().IsLoopback() {
			// A loopback connect is answered at once (accepted or refused):
			// no deadline timer needed, and that is measurable per request.
			return net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(ap))
		}
	}
	// uWSGI sets no TCP keep-alive on router sockets; neither do we (it
	// costs four setsockopt calls per connection).
	d := net.Dialer{Timeout: timeout, KeepAlive: -1}
	return d.DialContext(context.Background(), network, addr)
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
