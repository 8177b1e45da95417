package ernie

// One client connection: a meta process per accepted socket.
//
// Accepts  extworker.MessageReply (the answer to this connection's external
//          call), messageAdminReply (from ernie_server).
// Replies  on the socket: {reply, …}, {noreply}, {error, …}.
// Sends    extworker.MessageRequest to a pool (calls: ReplyTo this meta;
//          casts: ReplyTo ernie_server), messageAdmin to ernie_server,
//          messageAccess to the access-log meta.
// Owns     the socket (read loop in Start, which also writes the replies,
//          one request at a time so replies keep request order), and the
//          goroutines running native casts (at most maxCasts).

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
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
	// connInbox bounds the replies waiting for the read loop.
	connInbox = 8
)

// counters are shared by ernie_server (reads them for stats and halt) and
// its connection metas (increment them); atomics only.
type counters struct {
	total, completed atomic.Uint64
	conns            atomic.Int64 // open connections
}

// connOptions is fixed before the meta is spawned.
type connOptions struct {
	conn         net.Conn
	accepted     time.Time
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

type connMeta struct {
	gen.MetaProcess
	o connOptions

	inbox     chan any
	done      chan struct{}
	closeOnce sync.Once
	casts     chan struct{}

	// Start goroutine only.
	seq uint64
	br  *bufio.Reader
}

func newConnMeta(o connOptions) *connMeta {
	return &connMeta{o: o, inbox: make(chan any, connInbox), done: make(chan struct{}), casts: make(chan struct{}, maxCasts)}
}

func (c *connMeta) Init(process gen.MetaProcess) error {
	c.MetaProcess = process
	c.br = bufio.NewReaderSize(c.o.conn, 16<<10)
	return nil
}

func (c *connMeta) Start() error {
	defer c.close()
	accepted := c.o.accepted
	for {
		prio, act, raw, err := c.readRequest(&accepted)
		if err != nil {
			return nil // the connection is done; any error reply was sent
		}
		if err := c.serve(accepted, prio, act, raw); err != nil {
			return nil
		}
		accepted = time.Time{}
	}
}

// readRequest reads infos up to one action. *accepted is set when the first
// packet arrives, unless it is already set (the connection's first request
// counts from the accept, as in Ernie).
func (c *connMeta) readRequest(accepted *time.Time) (ernie.Priority, ernie.Action, []byte, error) {
	prio := ernie.High
	for infos := 0; ; infos++ {
		if c.o.idleTimeout > 0 {
			c.o.conn.SetReadDeadline(time.Now().Add(c.o.idleTimeout))
		}
		p, err := berp.ReadPacket(c.br, c.o.maxPacket)
		if err != nil {
			if errors.Is(err, berp.ErrTooLarge) {
				c.Log().Warning("ernie: %s: %v", c.o.conn.RemoteAddr(), err)
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
			c.Log().Info("ernie: %s: %v", c.o.conn.RemoteAddr(), err)
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

// serve answers one request; an error means the connection must close.
func (c *connMeta) serve(accepted time.Time, prio ernie.Priority, act ernie.Action, raw []byte) error {
	if act.Module == ernie.AdminModule {
		if act.Kind == bert.Cast {
			return c.write(noReply)
		}
		return c.admin(act.Function)
	}
	if act.Kind == bert.Cast {
		if err := c.write(noReply); err != nil {
			return err
		}
		c.cast(accepted, prio, act, raw)
		return nil
	}

	ctx, cancel := c.o.d.context()
	defer cancel()
	goArgs := &lazyArgs{raw: act.Args}
	h, err := c.o.d.route(ctx, act.Module, act.Function, act.Args, goArgs)
	if err != nil {
		return c.write(ernie.EncodeError(ernie.ErrorReply(err, act.Module, act.Function)))
	}
	c.o.counters.total.Add(1)
	entry := accesslog.Entry{Accepted: accepted, Priority: prio, Request: act.Term}
	if h.Kind.Native() {
		entry.Handler = accesslog.Native
		start := time.Now()
		v, err := c.o.d.runNative(ctx, h, act.Function, act.Args, goArgs)
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
	req := extworker.MessageRequest{ID: id, ReplyTo: c.ID(), Payload: raw, Priority: extworker.Priority(prio)}
	if err := c.Send(PoolName(h.Module()), req); err != nil {
		c.o.counters.completed.Add(1)
		return c.write(ernie.EncodeError(ernie.ServerError(ernie.CodeUndesignated, "Server busy: "+err.Error())))
	}
	m, ok := c.wait(func(m any) bool { r, ok := m.(extworker.MessageReply); return ok && r.ID == id })
	if !ok {
		c.o.counters.completed.Add(1)
		return errors.New("connection closed")
	}
	r := m.(extworker.MessageReply)
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
// this connection, externals through the pool with ernie_server as
// ReplyTo. Errors are dropped, as Ernie drops them.
func (c *connMeta) cast(accepted time.Time, prio ernie.Priority, act ernie.Action, raw []byte) {
	ctx, cancel := c.o.d.context()
	goArgs := &lazyArgs{raw: act.Args}
	h, err := c.o.d.route(ctx, act.Module, act.Function, act.Args, goArgs)
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
		if err := c.Send(PoolName(h.Module()), req); err != nil {
			c.o.counters.completed.Add(1)
		}
		return
	}
	entry.Handler = accesslog.Native
	run := func() {
		defer cancel()
		start := time.Now()
		c.o.d.runNative(ctx, h, act.Function, act.Args, goArgs)
		c.o.counters.completed.Add(1)
		entry.Wait, entry.Run = start.Sub(accepted), time.Since(start)
		c.log(entry)
	}
	select {
	case c.casts <- struct{}{}:
		go func() {
			defer func() { <-c.casts }()
			run()
		}()
	default:
		run()
	}
}

// admin asks ernie_server to run an '__admin__' function.
func (c *connMeta) admin(fun string) error {
	a := ernie.ParseAdmin(fun)
	if a == ernie.AdminUnknown {
		return c.write(encodeReply([]byte(ernie.ReplyUnsupported)))
	}
	c.seq++
	id := c.seq
	if err := c.Send(c.o.server, messageAdmin{admin: a, id: id, replyTo: c.ID()}); err != nil {
		return c.write(ernie.EncodeError(ernie.ServerError(ernie.CodeUndesignated, "Server busy: "+err.Error())))
	}
	m, ok := c.wait(func(m any) bool { r, ok := m.(messageAdminReply); return ok && r.id == id })
	if !ok {
		return errors.New("connection closed")
	}
	err := c.write(encodeReply([]byte(m.(messageAdminReply).text)))
	if a == ernie.AdminHalt {
		c.o.counters.completed.Add(1) // ernie_server counted it in flight
	}
	return err
}

// wait returns the first inbox message match accepts, or false once the
// connection is terminated. Other messages (late replies) are dropped.
func (c *connMeta) wait(match func(any) bool) (any, bool) {
	for {
		select {
		case m := <-c.inbox:
			if match(m) {
				return m, true
			}
		case <-c.done:
			return nil, false
		}
	}
}

// write sends one packet: header and body in one writev.
func (c *connMeta) write(body []byte) error {
	if c.o.writeTimeout > 0 {
		c.o.conn.SetWriteDeadline(time.Now().Add(c.o.writeTimeout))
	}
	var hdr [berp.HeaderSize]byte
	hdr[0], hdr[1], hdr[2], hdr[3] = byte(len(body)>>24), byte(len(body)>>16), byte(len(body)>>8), byte(len(body))
	bufs := net.Buffers{hdr[:], body}
	_, err := bufs.WriteTo(c.o.conn)
	return err
}

// logWriteError turns a failed reply write into an ERR line, as Ernie logs
// a client that went away before its reply.
func (c *connMeta) logWriteError(e *accesslog.Entry, err error) {
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

func (c *connMeta) log(e accesslog.Entry) {
	if c.o.logOn {
		c.Send(c.o.logTo, messageAccess{entry: e})
	}
}

func (c *connMeta) HandleMessage(from gen.PID, message any) error {
	select {
	case c.inbox <- message:
	default:
		c.Log().Warning("ernie: connection %s: inbox full, dropped %T", c.o.conn.RemoteAddr(), message)
	}
	return nil
}

func (c *connMeta) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (c *connMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"remote": c.o.conn.RemoteAddr().String()}
}

func (c *connMeta) Terminate(reason error) { c.close() }

func (c *connMeta) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.o.conn.Close()
		c.o.counters.conns.Add(-1)
	})
}

var _ context.Context // context is used through Dispatcher
