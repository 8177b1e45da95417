package mongrel2

// handler: one Mongrel2 handler (uWSGI: one worker's responder), one of
// Processes per server.
//
// Accepts  extworker.MessageReply (the pool's answer to a request this
//          handler sent): handed to the request goroutine waiting for its ID,
//          dropped when it gave up.
// Sends    extworker.MessageRequest to the external app's pool (from request
//          goroutines, with this handler's alias as ReplyTo).
// Owns     a PULL socket dialled to Mongrel2's send_spec and a PUB socket
//          (identity = UUID) dialled to its recv_spec, both replaced on every
//          reconnection; Start runs the connect/receive loop until Terminate
//          closes them. One goroutine per request (at most InFlight), which
//          runs the app and publishes its response through the PUB socket:
//          zmq4's PUB Send only queues under a mutex for zmq4's own writer
//          goroutine, so request goroutines share it safely (uWSGI shares
//          one PUB between threads behind a lock). Spooled upload files are
//          opened, and removed, by the request goroutine.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"

	"imperial/actors/cgi"
	"imperial/actors/extworker"
	"imperial/actors/wire/tnetstring"
)

// Timings of the connection loop.
const (
	// DefaultReconnect is the first delay before connecting again after
	// Mongrel2 went away; it doubles up to MaxReconnect.
	DefaultReconnect = 100 * time.Millisecond
	MaxReconnect     = 2 * time.Second
	// dialRetry is how often zmq4 tries an endpoint nobody listens on.
	dialRetry = 100 * time.Millisecond
	// subscribeWait bounds the wait for Mongrel2's SUB subscription after
	// the PUB connects (a PUB drops what it publishes before).
	subscribeWait = 2 * time.Second
)

var errStopped = errors.New("mongrel2: handler stopped")

var _ gen.MetaBehavior = (*handler)(nil)

type handler struct {
	gen.MetaProcess
	sh     *shared
	server int // index into Options.Servers
	n      int // 1..Processes
	uuid   string
	app    http.Handler
	done   chan struct{}
	slots  chan struct{}
	base   context.Context // parent of every request's context; cancelled by Terminate
	stop   context.CancelFunc

	mu      sync.Mutex // guards the socket swap against Terminate
	stopped bool
	pull    zmq4.Socket
	pub     atomic.Pointer[zmq4.Socket]

	seq     atomic.Uint64
	waitMu  sync.Mutex
	waiting map[uint64]chan extworker.MessageReply

	connected                                                  atomic.Bool
	connects, requests, malformed, disconnects, uploads, badUp atomic.Uint64
}

func newHandler(sh *shared, server, n int, uuid string) *handler {
	h := &handler{sh: sh, server: server, n: n, uuid: uuid, done: make(chan struct{}),
		slots: make(chan struct{}, sh.opts.InFlight), waiting: make(map[uint64]chan extworker.MessageReply)}
	h.base, h.stop = context.WithCancel(context.Background())
	h.app = sh.native
	if h.app == nil {
		h.app = &externalApp{h: h, pool: sh.opts.External, timeout: sh.opts.Timeout, maxBody: sh.opts.MaxExternalBody}
	}
	return h
}

func (h *handler) Init(process gen.MetaProcess) error {
	h.MetaProcess = process
	return nil
}

func (h *handler) spec() Server { return h.sh.opts.Servers[h.server] }

// Start connects, receives until the connection breaks, and connects again,
// until Terminate.
func (h *handler) Start() error {
	delay := h.sh.opts.Reconnect
	for {
		pull, err := h.connect()
		if err == nil {
			h.connects.Add(1)
			h.Log().Info("mongrel2 handler %d (%s) connected to %s and %s", h.n, h.uuid, h.spec().Send, h.spec().Recv)
			delay = h.sh.opts.Reconnect
			err = h.receive(pull)
			h.connected.Store(false)
		}
		h.closeSockets()
		select {
		case <-h.done:
			return nil
		default:
		}
		h.Log().Warning("mongrel2 handler %d: %s: %s; connecting again in %s", h.n, h.spec().Send, err, delay)
		t := time.NewTimer(delay)
		select {
		case <-h.done:
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(2*delay, MaxReconnect)
	}
}

// connect makes fresh sockets and dials them: the PUB first, then, once
// Mongrel2's SUB has subscribed (or subscribeWait passed), the PULL, so
// that no answer is published into the void. Dials retry until Mongrel2
// listens or Terminate closes the sockets.
func (h *handler) connect() (zmq4.Socket, error) {
	zlog := log.New(zmqLog{h}, "", 0)
	pub := zmq4.NewPub(context.Background(), zmq4.WithID(zmq4.SocketIdentity(h.uuid)),
		zmq4.WithDialerRetry(dialRetry), zmq4.WithDialerMaxRetries(-1), zmq4.WithDialerTimeout(5*time.Second),
		zmq4.WithLogger(zlog))
	pull := zmq4.NewPull(context.Background(), zmq4.WithID(zmq4.SocketIdentity(h.uuid)),
		zmq4.WithDialerRetry(dialRetry), zmq4.WithDialerMaxRetries(-1), zmq4.WithDialerTimeout(5*time.Second),
		zmq4.WithLogger(zlog))
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		pub.Close()
		pull.Close()
		return nil, errStopped
	}
	h.pull = pull
	h.pub.Store(&pub)
	h.mu.Unlock()
	if err := pub.Dial(h.spec().Recv); err != nil {
		return nil, err
	}
	if t, ok := pub.(zmq4.Topics); ok {
		deadline := time.Now().Add(subscribeWait)
		for len(t.Topics()) == 0 && time.Now().Before(deadline) {
			select {
			case <-h.done:
				return nil, errStopped
			case <-time.After(5 * time.Millisecond):
			}
		}
		if len(t.Topics()) == 0 {
			h.Log().Warning("mongrel2 handler %d: %s has not subscribed after %s", h.n, h.spec().Recv, subscribeWait)
		}
	}
	if err := pull.Dial(h.spec().Send); err != nil {
		return nil, err
	}
	h.connected.Store(true)
	return pull, nil
}

func (h *handler) closeSockets() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pull != nil {
		h.pull.Close()
		h.pull = nil
	}
	if p := h.pub.Swap(nil); p != nil {
		(*p).Close()
	}
}

// receive reads requests until the PULL socket fails (Mongrel2 went away,
// or Terminate closed it).
func (h *handler) receive(pull zmq4.Socket) error {
	for {
		msg, err := pull.Recv()
		if err != nil {
			return err
		}
		if len(msg.Frames) != 1 {
			h.malformed.Add(1)
			h.Log().Warning("mongrel2 handler %d: message of %d frames dropped (want 1)", h.n, len(msg.Frames))
			continue
		}
		if !h.dispatch(msg.Frames[0]) {
			return errStopped
		}
	}
}

// dispatch parses one request and starts its goroutine; control messages
// are handled here. It returns false when the handler is stopping.
func (h *handler) dispatch(frame []byte) bool {
	req, err := tnetstring.ParseRequest(frame, h.sh.opts.Limits)
	if err != nil {
		h.malformed.Add(1)
		h.Log().Warning("mongrel2 handler %d: malformed message (%d bytes) dropped: %s", h.n, len(frame), err)
		return true
	}
	if req.IsDisconnect() {
		h.disconnects.Add(1)
		if n := h.sh.conns.disconnect(connKey{h.server, req.ConnID}); n > 0 {
			h.Log().Debug("mongrel2 handler %d: connection %s closed with %d requests in flight", h.n, req.ConnID, n)
		}
		return true
	}
	switch req.Method() {
	case tnetstring.MethodJSON, tnetstring.MethodXML:
		h.Log().Debug("mongrel2 handler %d: %s message on %s ignored", h.n, req.Method(), req.Path)
		return true
	}
	if classifyUpload(req) == uploadStarted {
		h.Log().Debug("mongrel2 handler %d: connection %s uploading to %s", h.n, req.ConnID, req.Headers.Get(tnetstring.HeaderUploadStart))
		return true
	}
	select {
	case h.slots <- struct{}{}:
	case <-h.done:
		return false
	}
	go h.serve(req)
	return true
}

// serve runs the app for one request and sends its response.
func (h *handler) serve(req tnetstring.Request) {
	defer func() { <-h.slots }()
	defer h.requests.Add(1)
	ctx, cancel := context.WithCancel(h.base) // ends on disconnect, at the end, or when the handler stops
	defer cancel()
	key := connKey{h.server, req.ConnID}
	tok := h.sh.conns.add(key, cancel)
	defer h.sh.conns.remove(key, tok)

	w := newResponse(req, h.publish, func() bool { return ctx.Err() != nil })
	var body io.Reader = bytes.NewReader(req.Body)
	size := int64(len(req.Body))
	if classifyUpload(req) == uploadDone {
		up, err := openUpload(req, h.sh.opts.Chroot)
		if err != nil {
			h.badUp.Add(1)
			h.Log().Warning("mongrel2 handler %d: connection %s: %s", h.n, req.ConnID, err)
			h.fail(w, http.StatusBadRequest)
			return
		}
		defer up.f.Close()
		if !h.sh.opts.KeepUploads {
			defer os.Remove(up.path)
		}
		h.uploads.Add(1)
		body, size = up.f, up.size
	}
	vars := Environ(req, h.sh.opts.ServerName, size)
	r, err := cgi.ToRequest(vars, body)
	if err != nil {
		h.Log().Warning("mongrel2 handler %d: connection %s: %s", h.n, req.ConnID, err)
		h.fail(w, http.StatusBadRequest)
		return
	}
	r = r.WithContext(cgi.WithEnviron(ctx, vars))
	if h.run(w, r) {
		w.finish()
	} else {
		w.abort()
	}
}

// fail answers with a bare status and closes the connection.
func (h *handler) fail(w *response, status int) {
	w.keep = false
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(http.StatusText(status) + "\n"))
	w.finish()
}

// run calls the app; false when it panicked.
func (h *handler) run(w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				h.Log().Error("mongrel2 handler %d: app panic on %s %s: %v", h.n, r.Method, r.RequestURI, p)
			}
			ok = false
		}
	}()
	h.app.ServeHTTP(w, r)
	return true
}

// publish queues one message on the current PUB socket.
func (h *handler) publish(frame []byte) error {
	p := h.pub.Load()
	if p == nil {
		return errGone
	}
	return (*p).SendMulti(zmq4.NewMsg(frame))
}

// call sends payload to the external app's pool and waits for the answer.
func (h *handler) call(ctx context.Context, pool any, timeout time.Duration, payload []byte) (extworker.MessageReply, error) {
	id := h.seq.Add(1)
	ch := make(chan extworker.MessageReply, 1)
	h.waitMu.Lock()
	h.waiting[id] = ch
	h.waitMu.Unlock()
	defer func() {
		h.waitMu.Lock()
		delete(h.waiting, id)
		h.waitMu.Unlock()
	}()
	if err := h.Send(pool, extworker.MessageRequest{ID: id, ReplyTo: h.ID(), Payload: payload}); err != nil {
		return extworker.MessageReply{}, fmt.Errorf("%w: %w", ErrNoAnswer, err)
	}
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case rep := <-ch:
		return rep, nil
	case <-ctx.Done():
		return extworker.MessageReply{}, fmt.Errorf("%w: %w", ErrNoAnswer, errGone)
	case <-expire:
		return extworker.MessageReply{}, fmt.Errorf("%w: after %s", ErrNoAnswer, timeout)
	}
}

func (h *handler) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case extworker.MessageReply:
		h.waitMu.Lock()
		ch := h.waiting[m.ID]
		h.waitMu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	default:
		h.Log().Warning("unexpected message from %s: %T", from, message)
	}
	return nil
}

func (h *handler) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	return gen.ErrUnsupported, nil
}

func (h *handler) stats() HandlerStats {
	return HandlerStats{Server: h.spec(), N: h.n, UUID: h.uuid, Connected: h.connected.Load(),
		Connects: h.connects.Load(), Requests: h.requests.Load(), Malformed: h.malformed.Load(),
		Disconnects: h.disconnects.Load(), Uploads: h.uploads.Load(), BadUploads: h.badUp.Load(),
		InFlight: len(h.slots)}
}

func (h *handler) HandleInspect(from gen.PID, item ...string) map[string]string {
	s := h.stats()
	return map[string]string{"uuid": s.UUID, "send_spec": s.Server.Send, "recv_spec": s.Server.Recv,
		"connected": fmt.Sprint(s.Connected), "requests": fmt.Sprint(s.Requests),
		"malformed": fmt.Sprint(s.Malformed), "in_flight": fmt.Sprint(s.InFlight)}
}

// Terminate closes the sockets, which ends Start (a blocked dial or
// receive returns) and the waits of request goroutines.
func (h *handler) Terminate(reason error) {
	h.mu.Lock()
	if !h.stopped {
		h.stopped = true
		close(h.done)
		h.stop()
	}
	h.mu.Unlock()
	h.closeSockets()
}

// zmqLog routes zmq4's own log lines to the handler's log.
type zmqLog struct{ h *handler }

func (z zmqLog) Write(p []byte) (int, error) {
	z.h.Log().Warning("mongrel2 handler %d: %s", z.h.n, bytes.TrimRight(p, "\n"))
	return len(p), nil
}
