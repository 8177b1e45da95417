package ernie

// One client connection at a time, served by a goroutine of the listener
// meta (listener_meta.go), which keeps the goroutine for the next one.
//
// Accepts  on its channels: extworker.MessageReply (the answer to its
//          external call, sent by the pool's worker), messageAdminReply
//          (from ernie_server).
// Replies  on the socket: {reply, …}, {noreply}, {error, …}.
// Sends    (through the listener meta) extworker.MessageRequest to a pool
//          (calls: ReplyTo its reply channel; casts: ReplyTo ernie_server),
//          messageAdmin to ernie_server, messageAccess to the access-log
//          meta.
// Owns     the socket while serving it (the read loop in serve also writes
//          the replies, one request at a time so replies keep request
//          order), and the goroutines running native casts (at most
//          maxCasts; the listener waits for them when it stops).

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/bertrpc/berp"
	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/ernie/accesslog"
	"imperial/node/etf"
)

const (
	// MaxInfos bounds the info packets before one action.
	MaxInfos = 64
	// maxCasts bounds the native casts one connection runs concurrently;
	// beyond it a cast runs before the next request is read.
	maxCasts = 64
	// connInbox bounds the replies waiting for a connection goroutine.
	connInbox = 8
	// readBuffer is a connection goroutine's read buffer.
	readBuffer = 16 << 10
	// maxCopiedReply: a longer reply is written with writev rather than
	// copied behind its header.
	maxCopiedReply = 16 << 10
	// keepAliveAfter: a connection still open this long after its accept
	// gets TCP keepalive (when no IdleTimeout reaps dead peers).
	keepAliveAfter = time.Second
)

// counters are shared by ernie_server (reads them for stats and halt) and
// its connection goroutines (increment them); atomics only.
type counters struct {
	total, completed atomic.Uint64
	conns            atomic.Int64 // open connections
}

// connOptions is fixed before the listener meta is spawned.
type connOptions struct {
	d            *Dispatcher
	counters     *counters
	server       gen.PID   // ernie_server: admin calls and cast completions
	logTo        gen.Alias // the access-log meta, when logOn
	logOn        bool
	maxPacket    int
	limits       etf.Limits
	idleTimeout  time.Duration
	writeTimeout time.Duration
}

// connServer serves connections one after the other, on one goroutine of
// the listener meta; everything in it belongs to that goroutine, except
// the channels, which the pools and ernie_server send replies on.
type connServer struct {
	l *listenerMeta
	o *connOptions

	replies chan extworker.MessageReply
	replyTo any // replies as a chan<- extworker.MessageReply, for MessageRequest.ReplyTo
	admin   chan messageAdminReply
	casts   chan struct{}

	seq       uint64 // request ids, unique across the connections served
	conn      net.Conn
	br        *bufio.Reader
	wbuf      []byte
	deadline  time.Time // when the write deadline was last set
	keepAlive bool      // no keepalive read deadline is armed
}

func newConnServer(l *listenerMeta) *connServer {
	c := &connServer{l: l, o: &l.conn, replies: make(chan extworker.MessageReply, connInbox),
		admin: make(chan messageAdminReply, 1), casts: make(chan struct{}, maxCasts),
		br: bufio.NewReaderSize(nil, readBuffer)}
	c.replyTo = (chan<- extworker.MessageReply)(c.replies)
	return c
}

// serve serves one connection until it closes or breaks the protocol.
func (c *connServer) serve(conn net.Conn, accepted time.Time) {
	defer c.o.counters.conns.Add(-1)
	if !c.l.track(conn) {
		conn.Close()
		return
	}
	c.conn, c.deadline = conn, time.Time{}
	c.br.Reset(conn)
	// TCP keepalive costs four setsockopt calls, most connections here
	// live for one request, and the listener does not set it: a read
	// deadline turns it on for the connections that stay (readRequest).
	// With an IdleTimeout, that reaps dead peers instead.
	c.keepAlive = c.o.idleTimeout > 0
	if !c.keepAlive {
		conn.SetReadDeadline(accepted.Add(keepAliveAfter))
	}
	for {
		prio, act, raw, err := c.readRequest(&accepted)
		if err != nil {
			break // the connection is done; any error reply was sent
		}
		if err := c.serveRequest(accepted, prio, act, raw); err != nil {
			break
		}
		accepted = time.Time{}
	}
	c.l.untrack(conn)
	conn.Close()
	c.br.Reset(nil)
	c.conn = nil
}

// readRequest reads infos up to one action. *accepted is set when the first
// packet arrives, unless it is already set (the connection's first request
// counts from the accept, as in Ernie).
func (c *connServer) readRequest(accepted *time.Time) (ernie.Priority, ernie.Action, []byte, error) {
	prio := ernie.High
	for infos := 0; ; infos++ {
		if c.o.idleTimeout > 0 {
			c.conn.SetReadDeadline(time.Now().Add(c.o.idleTimeout))
		} else if !c.keepAlive {
			c.awaitPacket()
		}
		p, err := berp.ReadPacket(c.br, c.o.maxPacket)
		if err != nil {
			if errors.Is(err, berp.ErrTooLarge) {
				c.l.Log().Warning("ernie: %s: %v", c.conn.RemoteAddr(), err)
				c.write(ernie.EncodeError(ernie.ProtocolError(ernie.CodeNoHeader, err.Error())))
			}
			return prio, ernie.Action{}, nil, err
		}
		if accepted.IsZero() {
			*accepted = time.Now()
		}
		pk, err := ernie.DecodePacket(p, c.o.limits)
		if err != nil {
			var reply *bert.Error
			if errors.Is(err, ernie.ErrUndecodable) {
				reply = ernie.ProtocolError(ernie.CodeNoData, err.Error())
			} else {
				reply = ernie.ErrorReply(err, "", "")
			}
			c.l.Log().Info("ernie: %s: %v", c.conn.RemoteAddr(), err)
			c.write(ernie.EncodeError(reply))
			return prio, ernie.Action{}, nil, err
		}
		if !pk.Info {
			return prio, pk.Action, p, nil
		}
		if infos >= MaxInfos {
			c.write(ernie.EncodeError(ernie.ProtocolError(ernie.CodeUndesignated, "too many info packets")))
			return prio, ernie.Action{}, nil, errors.New("too many infos")
		}
		if pk.HasPriority {
			prio = pk.Priority
		}
	}
}

// awaitPacket waits, under the keepalive read deadline, until a whole
// packet is buffered (so the deadline never cuts one in half); once the
// deadline passes, or the packet is too large to buffer, it turns
// keepalive on and drops the deadline. Other errors are left for
// ReadPacket to meet again.
func (c *connServer) awaitPacket() {
	hdr, err := c.br.Peek(berp.HeaderSize)
	if err == nil {
		n := berp.HeaderSize + int(binary.BigEndian.Uint32(hdr))
		if n > c.br.Size() {
			c.startKeepAlive()
			return
		}
		_, err = c.br.Peek(n)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.startKeepAlive()
	}
}

func (c *connServer) startKeepAlive() {
	c.keepAlive = true
	c.conn.SetReadDeadline(time.Time{})
	if tc, ok := c.conn.(*net.TCPConn); ok {
		tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true}) // Go's defaults: 15 s idle, 15 s, 9 probes
	}
}

// serveRequest answers one request; an error means the connection must
// close.
func (c *connServer) serveRequest(accepted time.Time, prio ernie.Priority, act ernie.Action, raw []byte) error {
	if act.Module == ernie.AdminModule {
		if act.Kind == bert.Cast {
			return c.write(noReply)
		}
		return c.adminCall(act.Function)
	}
	if act.Kind == bert.Cast {
		if err := c.write(noReply); err != nil {
			return err
		}
		c.cast(accepted, prio, act, raw)
		return nil
	}

	ctx, cancel := c.o.d.context(c.l.ctx)
	defer cancel()
	goArgs := &lazyArgs{raw: act.Args}
	h, err := c.o.d.route(ctx, c.l, act.Module, act.Function, act.Args, goArgs)
	if err != nil {
		return c.write(ernie.EncodeError(ernie.ErrorReply(err, act.Module, act.Function)))
	}
	c.o.counters.total.Add(1)
	entry := accesslog.Entry{Accepted: accepted, Priority: prio, Request: act.Term}
	if h.Kind.Native() {
		entry.Handler = accesslog.Native
		start := time.Now()
		v, err := c.o.d.runNative(ctx, c.l, h, act.Function, act.Args, goArgs)
		var out []byte
		if err != nil {
			out = ernie.EncodeError(ernie.ErrorReply(err, act.Module, act.Function))
		} else {
			out = encodeReply(v)
		}
		werr := c.write(out)
		c.o.counters.completed.Add(1)
		entry.Wait, entry.Run = start.Sub(accepted), time.Since(start)
		c.logWriteError(&entry, werr)
		c.log(entry)
		return werr
	}

	entry.Handler = accesslog.External
	c.seq++
	id := c.seq
	sent := time.Now()
	req := extworker.MessageRequest{ID: id, ReplyTo: c.replyTo, Payload: raw, Priority: extworker.Priority(prio)}
	if err := c.l.Send(c.o.d.poolName(h.Module()), req); err != nil {
		c.o.counters.completed.Add(1)
		return c.write(ernie.EncodeError(ernie.ServerError(ernie.CodeUndesignated, "Server busy: "+err.Error())))
	}
	r, ok := c.waitReply(id)
	if !ok {
		c.o.counters.completed.Add(1)
		return errors.New("listener stopped")
	}
	dispatched := sent.Add(r.Queued)
	entry.QueueHigh, entry.QueueLow = r.QueueHigh, r.QueueLow
	var werr error
	if r.Err != nil {
		entry.Error = accesslog.ExternalError("error", r.Err.Error())
		werr = c.write(ernie.EncodeError(ernie.ServerError(ernie.CodeUndesignated, "External process error: "+r.Err.Error())))
	} else {
		werr = c.write(r.Payload)
		c.logWriteError(&entry, werr)
	}
	c.o.counters.completed.Add(1)
	entry.Wait, entry.Run = dispatched.Sub(accepted), time.Since(dispatched)
	c.log(entry)
	return werr
}

// cast runs a cast after {noreply} went out: natives in a goroutine of
// the listener (at most maxCasts per connection goroutine, beyond that
// before the next request is read), externals through the pool with
// ernie_server as ReplyTo. Errors are dropped, as Ernie drops them.
func (c *connServer) cast(accepted time.Time, prio ernie.Priority, act ernie.Action, raw []byte) {
	ctx, cancel := c.o.d.context(c.l.ctx)
	goArgs := &lazyArgs{raw: act.Args}
	h, err := c.o.d.route(ctx, c.l, act.Module, act.Function, act.Args, goArgs)
	if err != nil {
		cancel()
		return
	}
	c.o.counters.total.Add(1)
	entry := accesslog.Entry{Accepted: accepted, Priority: prio, Request: act.Term}
	if !h.Kind.Native() {
		cancel()
		entry.Handler = accesslog.External
		entry.Wait = time.Since(accepted)
		req := extworker.MessageRequest{ReplyTo: c.o.server, Payload: raw, Priority: extworker.Priority(prio),
			Tag: castTag{entry: entry, log: c.o.logOn}}
		if err := c.l.Send(c.o.d.poolName(h.Module()), req); err != nil {
			c.o.counters.completed.Add(1)
		}
		return
	}
	entry.Handler = accesslog.Native
	run := func() {
		defer cancel()
		start := time.Now()
		c.o.d.runNative(ctx, c.l, h, act.Function, act.Args, goArgs)
		c.o.counters.completed.Add(1)
		entry.Wait, entry.Run = start.Sub(accepted), time.Since(start)
		c.log(entry)
	}
	select {
	case c.casts <- struct{}{}:
		c.l.wg.Add(1)
		go func() {
			defer c.l.wg.Done()
			defer func() { <-c.casts }()
			run()
		}()
	default:
		run()
	}
}

// adminCall asks ernie_server to run an '__admin__' function.
func (c *connServer) adminCall(fun string) error {
	a := ernie.ParseAdmin(fun)
	if a == ernie.AdminUnknown {
		return c.write(encodeReply([]byte(ernie.ReplyUnsupported)))
	}
	c.seq++
	id := c.seq
	if err := c.l.Send(c.o.server, messageAdmin{admin: a, id: id, reply: c.admin}); err != nil {
		return c.write(ernie.EncodeError(ernie.ServerError(ernie.CodeUndesignated, "Server busy: "+err.Error())))
	}
	var text string
	for {
		select {
		case r := <-c.admin:
			if r.id != id {
				continue // a late answer to a connection served before
			}
			text = r.text
		case <-c.l.stop:
			return errors.New("listener stopped")
		}
		break
	}
	err := c.write(encodeReply([]byte(text)))
	if a == ernie.AdminHalt {
		c.o.counters.completed.Add(1) // ernie_server counted it in flight
	}
	return err
}

// waitReply returns the pool's reply to request id, or false once the
// listener stops. Replies to other ids (late ones, for a connection served
// before) are dropped.
func (c *connServer) waitReply(id uint64) (extworker.MessageReply, bool) {
	for {
		select {
		case r := <-c.replies:
			if r.ID == id {
				return r, true
			}
		case <-c.l.stop:
			return extworker.MessageReply{}, false
		}
	}
}

// write sends one packet. A small one is copied behind its header and
// written with one write; a large one goes out with writev. The write
// deadline is moved only when a quarter of WriteTimeout has passed since it
// was last set (moving it costs a timer update), so a reply gets between
// 3/4 of WriteTimeout and all of it.
func (c *connServer) write(body []byte) error {
	if now := time.Now(); now.Sub(c.deadline) > c.o.writeTimeout/4 {
		c.conn.SetWriteDeadline(now.Add(c.o.writeTimeout))
		c.deadline = now
	}
	var hdr [berp.HeaderSize]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if len(body) > maxCopiedReply {
		bufs := net.Buffers{hdr[:], body}
		_, err := bufs.WriteTo(c.conn)
		return err
	}
	c.wbuf = append(append(c.wbuf[:0], hdr[:]...), body...)
	_, err := c.conn.Write(c.wbuf)
	return err
}

// logWriteError turns a failed reply write into an ERR line, as Ernie logs
// a client that went away before its reply.
func (c *connServer) logWriteError(e *accesslog.Entry, err error) {
	if err == nil {
		return
	}
	reason := "{error,closed}"
	if errors.Is(err, os.ErrDeadlineExceeded) {
		reason = "{error,timeout}"
	} else if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
		reason = "{error," + err.Error() + "}"
	}
	if e.Handler == accesslog.External {
		e.Error = accesslog.ExternalError("error", "{badmatch,"+reason+"}")
	} else {
		e.Error = "Native reply error: " + reason
	}
}

func (c *connServer) log(e accesslog.Entry) {
	if c.o.logOn {
		c.l.Send(c.o.logTo, messageAccess{entry: e})
	}
}
