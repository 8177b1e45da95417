package mongrel2

// handler: one Mongrel2 handler (uWSGI: one worker's responder), one of
// Processes per server.
//
// Accepts  extworker.MessageReply (the pool's answer to a request this
//          handler sent): handed to the request goroutine waiting for its ID,
//          dropped when it gave up.
// Sends    extworker.MessageRequest to the external app's pool (from request
//          goroutines, with this handler's alias as ReplyTo).
// Owns     a PULL connection to Mongrel2's send_spec and a PUB connection
//          (identity = UUID) to its recv_spec (zmtp.go), both replaced on
//          every reconnection. Start runs the connect/receive loop until
//          Terminate closes them; one goroutine per PUB connection reads
//          Mongrel2's subscription and notices it going away; request
//          goroutines (at most InFlight, kept while busy, ending after
//          workerIdle idle) each take one message at a time, parse it, run
//          the app and
//          queues the response messages for the PUB connection's writer
//          goroutine, which sends whatever is queued in one write (uWSGI's
//          threads share one PUB behind a lock instead). Spooled upload files
//          are opened, and removed, by the request goroutine.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"ergo.services/ergo/gen"
	"github.com/go-zeromq/zmq4"

	"imperial/actors/extworker"
	"imperial/actors/wire/tnetstring"
)

// Timings of the connection loop.
const (
	// DefaultReconnect is the first delay before connecting again after
	// Mongrel2 went away; it doubles up to MaxReconnect.
	DefaultReconnect = 100 * time.Millisecond
	MaxReconnect     = 2 * time.Second
	// dialRetry is how often an endpoint nobody listens on is tried again.
	dialRetry = 100 * time.Millisecond
	// subscribeWait bounds the wait for Mongrel2's SUB subscription after
	// the PUB connects (Mongrel2 drops what arrives before).
	subscribeWait = 2 * time.Second
	// maxControl bounds a message Mongrel2's SUB sends (subscriptions).
	maxControl = 64 << 10
)

var (
	errStopped = errors.New("mongrel2: handler stopped")
	errPubLost = errors.New("mongrel2: the PUB connection closed")
)

var _ gen.MetaBehavior = (*handler)(nil)

type handler struct {
	gen.MetaProcess
	sh      *shared
	server  int // index into Options.Servers
	n       int // 1..Processes
	uuid    string
	app     http.Handler
	done    chan struct{}
	slots   chan struct{}
	work    chan []byte     // messages for idle request goroutines (dispatch)
	workers atomic.Int64    // request goroutines running
	ctx     context.Context // dials; cancelled by Terminate
	cancel  context.CancelFunc

	mu      sync.Mutex // guards the connection swap against Terminate and the PUB watcher
	stopped bool
	pull    *zconn
	pubLost bool // the current PUB connection closed
	pub     atomic.Pointer[pubConn]

	seq     atomic.Uint64
	waitMu  sync.Mutex
	waiting map[uint64]chan extworker.MessageReply

	connected                                                  atomic.Bool
	connects, requests, malformed, disconnects, uploads, badUp atomic.Uint64
}

// pubConn is a PUB connection and the queue its writer goroutine drains.
type pubConn struct {
	c    *zconn
	q    chan []byte
	stop chan struct{} // closed by closeConns
	dead chan struct{} // closed when the writer returns
}

// pubQueue bounds the response messages waiting for the PUB writer; request
// goroutines wait beyond it.
const pubQueue = 256

func newHandler(sh *shared, server, n int, uuid string) *handler {
	h := &handler{sh: sh, server: server, n: n, uuid: uuid, done: make(chan struct{}),
		slots: make(chan struct{}, sh.opts.InFlight), work: make(chan []byte), waiting: make(map[uint64]chan extworker.MessageReply)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
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

// messageLimit bounds one request message: the envelope, headers and body
// limits the parser applies, plus framing.
func messageLimit(l tnetstring.Limits) int {
	pick := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	return pick(l.MaxLine, tnetstring.DefaultMaxLine) + pick(l.MaxSize, tnetstring.DefaultMaxSize) +
		pick(l.MaxBody, tnetstring.DefaultMaxBody) + 64
}

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
		h.closeConns()
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

// connect dials the PUB connection first and waits for Mongrel2's SUB to
// subscribe (or subscribeWait), then the PULL one, so that no answer is
// written before Mongrel2 takes it. Dials retry until Mongrel2 listens or
// Terminate.
func (h *handler) connect() (*zconn, error) {
	c, err := h.dial(h.spec().Recv, zmq4.Pub, maxControl)
	if err != nil {
		return nil, err
	}
	pub := &pubConn{c: c, q: make(chan []byte, pubQueue), stop: make(chan struct{}), dead: make(chan struct{})}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		c.close()
		return nil, errStopped
	}
	h.pub.Store(pub)
	h.pubLost = false
	h.mu.Unlock()
	subscribed := make(chan struct{})
	go h.watchPub(pub, subscribed)
	go func() {
		defer close(pub.dead)
		if err := c.writeLoop(pub.q, pub.stop); err != nil {
			c.close() // watchPub sees it and makes the handler reconnect
		}
	}()
	t := time.NewTimer(subscribeWait)
	select {
	case <-subscribed:
		t.Stop()
	case <-t.C:
		h.Log().Warning("mongrel2 handler %d: %s has not subscribed after %s", h.n, h.spec().Recv, subscribeWait)
	case <-h.done:
		t.Stop()
		return nil, errStopped
	}
	pull, err := h.dial(h.spec().Send, zmq4.Pull, messageLimit(h.sh.opts.Limits))
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.stopped:
		pull.close()
		return nil, errStopped
	case h.pubLost:
		pull.close()
		return nil, errPubLost
	}
	h.pull = pull
	h.connected.Store(true)
	return pull, nil
}

// dial connects to endpoint, retrying every dialRetry until it succeeds or
// the handler stops.
func (h *handler) dial(endpoint string, typ zmq4.SocketType, max int) (*zconn, error) {
	for {
		c, err := dialZMTP(h.ctx, endpoint, typ, h.uuid, max)
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrOptions) {
			return nil, err
		}
		t := time.NewTimer(dialRetry)
		select {
		case <-h.done:
			t.Stop()
			return nil, errStopped
		case <-t.C:
		}
	}
}

// watchPub reads what Mongrel2's SUB sends on pub (its subscription) until
// the connection closes; then it closes the current PULL connection, so
// that the handler connects both again.
func (h *handler) watchPub(pub *pubConn, subscribed chan struct{}) {
	once := sync.OnceFunc(func() { close(subscribed) })
	for {
		frames, cmd, err := pub.c.readMsg()
		if err != nil {
			break
		}
		switch {
		case cmd && commandName(frames[0]) == "SUBSCRIBE",
			!cmd && len(frames) == 1 && len(frames[0]) > 0 && frames[0][0] == 1:
			once()
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pub.Load() == pub {
		h.pubLost = true
		if h.pull != nil {
			h.pull.close()
		}
	}
}

func (h *handler) closeConns() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pull != nil {
		h.pull.close()
		h.pull = nil
	}
	if p := h.pub.Swap(nil); p != nil {
		close(p.stop)
		p.c.close()
	}
}

// receive reads requests until the PULL connection fails (Mongrel2 went
// away, its PUB side did, or Terminate closed it).
func (h *handler) receive(pull *zconn) error {
	for {
		frames, cmd, err := pull.readMsg()
		if err != nil {
			h.mu.Lock()
			lost := h.pubLost
			h.mu.Unlock()
			if lost {
				return errPubLost
			}
			return err
		}
		if cmd {
			continue // ZMTP commands (PING needs heartbeats, which Mongrel2 does not set)
		}
		if len(frames) != 1 {
			h.malformed.Add(1)
			h.Log().Warning("mongrel2 handler %d: message of %d frames dropped (want 1)", h.n, len(frames))
			continue
		}
		if !h.dispatch(frames[0]) {
			return errStopped
		}
	}
}

// dispatch hands one message to a request goroutine; it returns false when
// the handler is stopping. Parsing happens there, so one handler parses on
// every core. Request goroutines are kept (idle ones wait for the next
// message, up to workerIdle): a fresh goroutine per message spent its time
// growing its stack.
func (h *handler) dispatch(frame []byte) bool {
	select {
	case h.slots <- struct{}{}:
	case <-h.done:
		return false
	}
	select {
	case h.work <- frame: // an idle request goroutine takes it
		return true
	default:
	}
	for h.workers.Add(1) > int64(cap(h.slots)) {
		// as many goroutines as slots, so one is about to wait for a
		// message, unless it is ending after workerIdle: look again soon
		h.workers.Add(-1)
		t := time.NewTimer(time.Millisecond)
		select {
		case h.work <- frame:
			t.Stop()
			return true
		case <-h.done:
			t.Stop()
			<-h.slots
			return false
		case <-t.C:
		}
	}
	go h.worker(frame)
	return true
}

// workerIdle is how long a request goroutine waits for another message
// before it ends.
const workerIdle = 10 * time.Second

// worker serves frame, then every message dispatch hands it, until it has
// waited workerIdle for one or the handler stops.
func (h *handler) worker(frame []byte) {
	defer h.workers.Add(-1)
	var idle *time.Timer
	for {
		h.handle(frame, h.publish)
		<-h.slots
		if idle == nil {
			idle = time.NewTimer(workerIdle)
			defer idle.Stop()
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case frame = <-h.work:
		case <-idle.C:
			return
		case <-h.done:
			return
		}
	}
}

// handle parses one message and serves it: control messages are handled
// here, requests run the app and publish its response.
func (h *handler) handle(frame []byte, publish func([]byte) error) {
	req, err := tnetstring.ParseRequest(frame, h.sh.opts.Limits)
	if err != nil {
		h.malformed.Add(1)
		h.Log().Warning("mongrel2 handler %d: malformed message (%d bytes) dropped: %s", h.n, len(frame), err)
		return
	}
	if req.IsDisconnect() {
		h.disconnects.Add(1)
		if n := h.sh.conns.disconnect(connKey{h.server, req.ConnID}); n > 0 {
			h.Log().Debug("mongrel2 handler %d: connection %s closed with %d requests in flight", h.n, req.ConnID, n)
		}
		return
	}
	switch req.Method() {
	case tnetstring.MethodJSON, tnetstring.MethodXML:
		h.Log().Debug("mongrel2 handler %d: %s message on %s ignored", h.n, req.Method(), req.Path)
		return
	}
	upload := classifyUpload(req)
	if upload == uploadStarted {
		h.Log().Debug("mongrel2 handler %d: connection %s uploading to %s", h.n, req.ConnID, req.Headers.Get(tnetstring.HeaderUploadStart))
		return
	}
	defer h.requests.Add(1)
	// ctx ends with a disconnect notice for the connection, or here
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := connKey{h.server, req.ConnID}
	tok := h.sh.conns.add(key, cancel)
	defer h.sh.conns.remove(key, tok)

	w := newResponse(req, publish, func() bool { return ctx.Err() != nil })
	var body io.Reader = bytes.NewReader(req.Body)
	size := int64(len(req.Body))
	if upload == uploadDone {
		up, err := openUpload(req, h.sh.opts.Chroot)
		if err != nil {
			h.badUp.Add(1)
			h.Log().Warning("mongrel2 handler %d: connection %s: %s", h.n, req.ConnID, err)
			h.fail(w, http.StatusBadRequest)
			return
		}
		defer up.f.Close()
		if !h.sh.opts.KeepUploads {
			// unlinked at once: the open descriptor still reads it, and
			// nothing is left behind by a slow app or a crash
			if err := os.Remove(up.path); err != nil {
				h.Log().Warning("mongrel2 handler %d: connection %s: %s", h.n, req.ConnID, err)
			}
		}
		h.uploads.Add(1)
		body, size = up.f, up.size
	}
	vars := Environ(req, h.sh.opts.ServerName, size)
	r, err := newRequest(ctx, req, vars, h.sh.opts.ServerName, size, body)
	if err != nil {
		h.Log().Warning("mongrel2 handler %d: connection %s: %s", h.n, req.ConnID, err)
		h.fail(w, http.StatusBadRequest)
		return
	}
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

// publish queues one message for the current PUB connection's writer.
func (h *handler) publish(frame []byte) error {
	p := h.pub.Load()
	if p == nil {
		return errGone
	}
	select {
	case p.q <- frame:
		return nil
	case <-p.dead:
		return errGone
	}
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

// Terminate closes the connections, which ends Start (a blocked dial or
// read returns) and the waits of request goroutines.
func (h *handler) Terminate(reason error) {
	h.mu.Lock()
	if !h.stopped {
		h.stopped = true
		close(h.done)
		h.cancel()
	}
	h.mu.Unlock()
	h.closeConns()
}
