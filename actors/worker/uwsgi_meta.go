package worker

// uwsgiLoop: one "thread" of a uwsgi socket (uWSGI's worker × thread).
//
// Accepts  nothing (messages are logged and ignored).
// Sends    messageRPC to the RPC executor (through the caller) for
//          modifier1 173 requests.
// Owns     one connection at a time: Start accepts on the shared listener
//          (the worker actor owns it and closes it) into a raw socket
//          (subscription.Socket: polled only if a call would block), serves
//          the request and closes; Terminate aborts the connection in
//          progress.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/cgi"
	"imperial/actors/subscription"
	"imperial/actors/wire/uwsgi"
)

var _ gen.MetaBehavior = (*uwsgiLoop)(nil)

const readBufSize = 8 << 10

var (
	readPool  = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}
	writePool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}
)

var varsLimits = uwsgi.Limits{MaxVars: 4096}

type uwsgiLoop struct {
	gen.MetaProcess
	l   net.Listener
	f   *os.File // l's socket for raw accepts (subscription.ListenRaw)
	sh  *shared
	cur atomic.Pointer[subscription.Socket]
}

func (u *uwsgiLoop) Init(process gen.MetaProcess) error {
	u.MetaProcess = process
	return nil
}

func (u *uwsgiLoop) Start() error {
	rc, err := u.f.SyscallConn()
	if err != nil {
		return err
	}
	var a subscription.Acceptor
	step := a.Step
	for {
		if err := rc.Read(step); err != nil {
			return nil // the worker closed the listener
		}
		fd, err := a.Conn()
		if err != nil {
			u.Log().Error("accept on %s: %s", u.l.Addr(), err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if fd < 0 {
			continue
		}
		c := subscription.NewSocket(fd, u.sh.socketTimeout)
		u.cur.Store(c)
		u.sh.serveUWSGI(u, c)
		u.cur.Store(nil)
		c.Close()
	}
}

func (u *uwsgiLoop) HandleMessage(from gen.PID, message any) error {
	u.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

func (u *uwsgiLoop) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (u *uwsgiLoop) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"listener": u.l.Addr().String()}
}

func (u *uwsgiLoop) Terminate(reason error) {
	if c := u.cur.Load(); c != nil {
		c.Abort()
	}
}

// serveUWSGI serves one uwsgi connection: a web request, an RPC call or a
// ping.
func (sh *shared) serveUWSGI(mp gen.MetaProcess, c *subscription.Socket) {
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	buf, n, total, err := uwsgi.ReadPacket(c, *bp, varsLimits)
	if err != nil {
		if errors.Is(err, uwsgi.ErrTooLarge) {
			mp.Log().Warning("uwsgi: bad request from %s: %s", c.RemoteAddr(), err)
		}
		return
	}
	h, _, _ := uwsgi.ParseHeader(buf)
	switch {
	case h.Modifier1 == uwsgi.ModRPC:
		sh.serveRPC(mp, c, buf[:total])
	case h.Modifier1 == uwsgi.ModPing:
		if h.Modifier2 == 0 {
			c.WriteLast(uwsgi.AppendHeader(nil, uwsgi.Header{Modifier1: uwsgi.ModPing, Modifier2: 1}))
		}
	case h.Modifier1 < 100:
		vars, _, err := uwsgi.ParseVars(buf[uwsgi.HeaderSize:total], varsLimits)
		if err != nil {
			mp.Log().Warning("uwsgi: bad request from %s: %s", c.RemoteAddr(), err)
			return
		}
		var body io.Reader = c
		if n > total {
			body = io.MultiReader(bytes.NewReader(buf[total:n]), c)
		}
		req, err := cgi.ToRequest(vars, body)
		if err != nil {
			mp.Log().Warning("uwsgi: bad request from %s: %s", c.RemoteAddr(), err)
			return
		}
		sw := &socketWriter{s: c}
		bw := writePool.Get().(*bufio.Writer)
		bw.Reset(sw)
		defer func() { bw.Reset(nil); writePool.Put(bw) }()
		rw := newUWSGIResponse(bw, req.Proto)
		if sh.run(mp, c.Abort, rw, req) {
			sw.last = true
			rw.finish()
		}
	default:
		mp.Log().Warning("-- unavailable modifier requested: %d --", h.Modifier1)
	}
}

// socketWriter is the response's way to its socket: the flush that
// finishes the response is the last write before the close (WriteLast).
type socketWriter struct {
	s    *subscription.Socket
	last bool
}

func (w *socketWriter) Write(p []byte) (int, error) {
	if w.last {
		return w.s.WriteLast(p)
	}
	return w.s.Write(p)
}

// run calls the app, with harakiri (abort ends the connection) and panic
// recovery; false when the response must not be completed.
func (sh *shared) run(mp gen.MetaProcess, abort func(), w http.ResponseWriter, r *http.Request) (ok bool) {
	if sh.harakiri > 0 {
		t := time.AfterFunc(sh.harakiri, func() {
			mp.Log().Error("*** HARAKIRI ON WORKER (%s %s took more than %s) ***", r.Method, r.RequestURI, sh.harakiri)
			abort()
		})
		defer t.Stop()
	}
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				mp.Log().Error("app panic on %s %s: %v", r.Method, r.RequestURI, p)
			}
			ok = false
		}
	}()
	sh.handler.ServeHTTP(w, r)
	return true
}

// serveRPC answers a modifier1 173 request from the node's RPC registry:
// framed (modifier2 0) or raw (modifier2 1); an unknown function, a failure
// or an empty result closes without an answer, as uWSGI does.
func (sh *shared) serveRPC(mp gen.MetaProcess, c *subscription.Socket, pkt []byte) {
	req, _, err := uwsgi.ParseRPCRequest(pkt, varsLimits)
	if err != nil {
		mp.Log().Warning("uwsgi rpc: bad request from %s: %s", c.RemoteAddr(), err)
		return
	}
	if sh.rpc == nil {
		mp.Log().Warning("uwsgi rpc: no RPC registry, %q refused", req.Func)
		return
	}
	args := make([][]byte, len(req.Args))
	for i, a := range req.Args {
		args[i] = append([]byte(nil), a...)
	}
	v, err := sh.caller.call(sh.rpc, sh.socketTimeout, func(id uint64, replyTo gen.Alias) any {
		return messageRPC{ID: id, ReplyTo: replyTo, Func: string(req.Func), Args: args}
	})
	if err != nil {
		mp.Log().Warning("uwsgi rpc %s: %s", req.Func, err)
		return
	}
	res, _ := v.(messageRPCResult)
	if !res.OK || len(res.Result) == 0 {
		return
	}
	if req.Modifier2 == uwsgi.RPCRaw {
		c.WriteLast(res.Result)
		return
	}
	c.WriteLast(uwsgi.AppendRPCResponse(make([]byte, 0, uwsgi.HeaderSize+len(res.Result)+32), res.Result))
}
