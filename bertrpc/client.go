package bertrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"imperial/bertrpc/berp"
	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

var (
	// ErrClosed means the Client was closed.
	ErrClosed = errors.New("bertrpc: client closed")
	// ErrConnect means the server could not be reached.
	ErrConnect = errors.New("bertrpc: unable to connect")
	// ErrProtocol means the server answered with something that is not a
	// valid reply to the request (undecodable, wrong form, streaming).
	ErrProtocol = errors.New("bertrpc: bad reply")
)

// MaxInfoReplies bounds the info packets accepted before a reply.
const MaxInfoReplies = 16

// Options configure a Client. The zero value is usable.
type Options struct {
	// Network for net.Dial; "" means "tcp".
	Network string
	// Timeout applies to each request (and to dialing) whose context has no
	// deadline; 0 means none, so only the context bounds a request.
	Timeout time.Duration
	// MaxPacket limits a reply packet; 0 means berp.MaxPacket.
	MaxPacket int
	// Limits bound decoding of replies; zero fields take the etf defaults.
	Limits etf.Limits
	// Dialer dials connections; nil means a zero net.Dialer.
	Dialer *net.Dialer
}

// Client is a BERT-RPC connection to one server address. It is safe for
// concurrent use, but carries one request at a time.
type Client struct {
	addr string
	opts Options
	sem  chan struct{} // one request at a time; also guards pending

	pending []byte // framed info packets for the next request

	mu     sync.Mutex // guards conn and closed
	conn   net.Conn
	closed bool
}

// RemoteError is a BERT-RPC error reply to a request. It unwraps to the
// *bert.Error.
type RemoteError struct {
	Addr     string
	Module   string
	Function string
	Err      *bert.Error
}

// Error includes the address and the function called.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("bertrpc: %s %s:%s: %v", e.Addr, e.Module, e.Function, e.Err)
}

// Unwrap returns the *bert.Error.
func (e *RemoteError) Unwrap() error { return e.Err }

// Dial connects to addr and returns a Client holding that connection.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	c := &Client{addr: addr, opts: opts, sem: make(chan struct{}, 1)}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.conn = conn
	return c, nil
}

// CallOnce dials addr, makes one call and closes the connection, as Ernie
// expects of its clients.
func CallOnce(ctx context.Context, addr string, opts Options, mod, fun string, args ...any) (any, error) {
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Call(ctx, mod, fun, args...)
}

// CastOnce dials addr, makes one cast and closes the connection.
func CastOnce(ctx context.Context, addr string, opts Options, mod, fun string, args ...any) error {
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Cast(ctx, mod, fun, args...)
}

// Addr returns the server address.
func (c *Client) Addr() string { return c.addr }

// Call sends {call, mod, fun, args} and waits for the reply: the result of
// {reply, X}, nil for {noreply}, or a *RemoteError for {error, …}.
func (c *Client) Call(ctx context.Context, mod, fun string, args ...any) (any, error) {
	return c.Do(ctx, bert.Request{Kind: bert.Call, Module: mod, Function: fun, Args: args})
}

// Cast sends {cast, mod, fun, args} and waits for the server to acknowledge
// it ({noreply}); the function's result is never seen.
func (c *Client) Cast(ctx context.Context, mod, fun string, args ...any) error {
	_, err := c.Do(ctx, bert.Request{Kind: bert.Cast, Module: mod, Function: fun, Args: args})
	return err
}

// Info queues {info, cmd, args} to be written just before the next request
// on this Client, e.g. Info(ctx, "priority", etf.Atom("low")) sends
// {info, priority, [low]}, the form Ernie honours. Queued infos go with
// whichever request this Client sends next (and are dropped if that request
// fails), so goroutines sharing a Client should pass infos to Do instead.
// Info waits its turn like a request; it fails only on an encoding error, a
// closed Client or ctx.
func (c *Client) Info(ctx context.Context, cmd string, args ...any) error {
	body, err := bert.Encode(bert.Info{Command: cmd, Args: etf.List(args)})
	if err != nil {
		return fmt.Errorf("bertrpc: info %s: %w", cmd, err)
	}
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	c.pending, err = berp.AppendPacket(c.pending, body)
	return err
}

// Do writes the queued infos, then infos, then req, and waits for the reply.
// For a call it returns the reply value; for a cast, nil. Error replies are
// returned as *RemoteError.
func (c *Client) Do(ctx context.Context, req bert.Request, infos ...bert.Info) (any, error) {
	msgs := make([]bert.Message, 0, len(infos)+1)
	for _, info := range infos {
		msgs = append(msgs, info)
	}
	var out []byte
	for _, m := range append(msgs, req) {
		body, err := bert.Encode(m)
		if err == nil {
			out, err = berp.AppendPacket(out, body)
		}
		if err != nil {
			return nil, fmt.Errorf("bertrpc: %s %s:%s: %w", req.Kind, req.Module, req.Function, err)
		}
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	if len(c.pending) > 0 {
		out = append(c.pending, out...)
		c.pending = nil
	}
	m, err := c.exchange(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("bertrpc: %s %s %s:%s: %w", c.addr, req.Kind, req.Module, req.Function, err)
	}
	switch r := m.(type) {
	case bert.Reply:
		if req.Kind == bert.Cast {
			return nil, nil
		}
		return r.Result, nil
	case bert.NoReply:
		return nil, nil
	case *bert.Error:
		return nil, &RemoteError{Addr: c.addr, Module: req.Module, Function: req.Function, Err: r}
	}
	c.drop()
	return nil, fmt.Errorf("bertrpc: %s %s %s:%s: %w: %T", c.addr, req.Kind, req.Module, req.Function, ErrProtocol, m)
}

// Close closes the connection; requests in progress fail and later ones
// return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("bertrpc: %s: %w", c.addr, ctx.Err())
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		<-c.sem
		return ErrClosed
	}
	return nil
}

func (c *Client) release() { <-c.sem }

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); !ok && c.opts.Timeout > 0 {
		return context.WithTimeout(ctx, c.opts.Timeout)
	}
	return context.WithCancel(ctx)
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	network := c.opts.Network
	if network == "" {
		network = "tcp"
	}
	d := c.opts.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, network, c.addr)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrConnect, c.addr, err)
	}
	return conn, nil
}

// connection returns the live connection, dialing a new one if there is
// none or if the server has closed the old one. Nothing has been written
// for the request yet, so redialing here is always safe.
func (c *Client) connection(ctx context.Context) (net.Conn, error) {
	c.mu.Lock()
	conn, closed := c.conn, c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if conn != nil && !peerClosed(conn) {
		return conn, nil
	}
	if conn != nil {
		c.drop()
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, ErrClosed
	}
	c.conn = conn
	return conn, nil
}

// drop closes and forgets the current connection.
func (c *Client) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// exchange writes out (framed packets) and reads until a non-info reply.
// Any failure drops the connection.
func (c *Client) exchange(ctx context.Context, out []byte) (m bert.Message, err error) {
	conn, err := c.connection(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.drop()
			switch {
			case ctx.Err() != nil:
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			case errors.Is(err, os.ErrDeadlineExceeded):
				// The conn deadline is the context's; it may fire first.
				err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
			}
		}
	}()
	deadline, _ := ctx.Deadline() // zero: no deadline
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// Cancellation without a deadline: unblock the I/O at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(out); err != nil {
		return nil, err
	}
	for range MaxInfoReplies + 1 {
		p, err := berp.ReadPacket(conn, c.opts.MaxPacket)
		if err != nil {
			return nil, err
		}
		m, err := bert.DecodeLimits(p, c.opts.Limits)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		msg, err := bert.ParseMessage(m)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		info, ok := msg.(bert.Info)
		if !ok {
			return msg, nil
		}
		if info.Command == "stream" {
			return nil, fmt.Errorf("%w: streaming replies are not supported", ErrProtocol)
		}
	}
	return nil, fmt.Errorf("%w: more than %d info packets before the reply", ErrProtocol, MaxInfoReplies)
}
