package mongrel2

// imperial_mongrel2: the Mongrel2 handlers of this instance (uWSGI's
// --zeromq with -p N).
//
// Accepts  nothing by Send (logged and ignored).
// Replies  RequestStats → ResponseStats (Call).
// Spawns   Processes handler meta processes per server (handler_meta.go),
//          each with a fresh UUID.
// Owns     the app (a native http.Handler, or the name of the external app's
//          pool) and the table of requests in flight per client connection,
//          which every handler shares; no goroutine, socket or OS process.

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/wire/tnetstring"
	"imperial/actors/worker"
)

// Name is the handler actor's registered name.
const Name gen.Atom = "imperial_mongrel2"

// Bounds and defaults.
const (
	// MaxHandlers bounds servers × processes.
	MaxHandlers = 1024
	// DefaultInFlight is how many requests one handler serves at once when
	// Options.InFlight is 0; beyond it the handler stops reading, and
	// Mongrel2's PUSH socket (its high-water mark reached) sends to the
	// other handlers.
	DefaultInFlight = 1024
	// MaxInFlight bounds Options.InFlight.
	MaxInFlight = 1 << 16
)

// Server is one Mongrel2 handler endpoint pair: --zeromq SEND_SPEC,RECV_SPEC.
type Server struct {
	Send string // Mongrel2's send_spec (it PUSHes requests; handlers PULL)
	Recv string // Mongrel2's recv_spec (it SUBscribes; handlers PUBlish)
}

func (s Server) String() string { return s.Send + "," + s.Recv }

// ParseServer reads a --zeromq value: "SEND_SPEC,RECV_SPEC", each a ZeroMQ
// endpoint tcp://HOST:PORT or ipc://PATH.
func ParseServer(v string) (Server, error) {
	send, recv, ok := strings.Cut(v, ",")
	send, recv = strings.TrimSpace(send), strings.TrimSpace(recv)
	if !ok || strings.Contains(recv, ",") {
		return Server{}, fmt.Errorf("%w: zeromq %q: want SEND_SPEC,RECV_SPEC", ErrOptions, v)
	}
	for _, ep := range []string{send, recv} {
		scheme, addr, ok := strings.Cut(ep, "://")
		if !ok || addr == "" || (scheme != "tcp" && scheme != "ipc") {
			return Server{}, fmt.Errorf("%w: zeromq endpoint %q: want tcp://HOST:PORT or ipc://PATH", ErrOptions, ep)
		}
	}
	return Server{Send: send, Recv: recv}, nil
}

// Options configure the handlers.
type Options struct {
	Servers   []Server
	Processes int // handlers per server; 0 means 1
	InFlight  int // requests served at once per handler; 0 means DefaultInFlight

	// App names a native app (worker.Apps) and AppEnv configures it, as for
	// the worker; or External names the extworker pool of an external app;
	// or Handler is a Go app given directly (tests, embedding).
	App      string
	AppEnv   worker.AppEnv
	External any
	Handler  http.Handler
	// Timeout bounds the wait for the external pool's answer (0: the
	// pool's own timeout, --harakiri, decides).
	Timeout         time.Duration
	MaxExternalBody int // 0 means DefaultMaxExternalBody

	// Chroot is the directory Mongrel2's upload paths are relative to (its
	// chroot; --chdir); "" uses them as they are.
	Chroot string
	// KeepUploads leaves spooled upload files in place (by default the
	// handler unlinks each as soon as it has opened it; Mongrel2 never does).
	KeepUploads bool
	// ServerName is SERVER_NAME; "" means the host name.
	ServerName string
	// Limits bound the parsing of request messages.
	Limits tnetstring.Limits
	// Reconnect is the first delay before connecting again after Mongrel2
	// went away; 0 means DefaultReconnect.
	Reconnect time.Duration
}

// shared is what the handlers read: fixed after Init, except conns (locked).
type shared struct {
	opts   Options
	native http.Handler // nil: the external app
	conns  *connTable
}

var _ act.ActorBehavior = (*mongrel2)(nil)

// Factory makes the handler actor; spawn it registered as Name with Options.
func Factory() gen.ProcessBehavior { return &mongrel2{} }

type mongrel2 struct {
	act.Actor
	handlers []*handler
}

func (m *mongrel2) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	opts, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	opts.Processes = max(opts.Processes, 1)
	if opts.InFlight == 0 {
		opts.InFlight = DefaultInFlight
	}
	if opts.MaxExternalBody <= 0 {
		opts.MaxExternalBody = DefaultMaxExternalBody
	}
	if opts.Reconnect <= 0 {
		opts.Reconnect = DefaultReconnect
	}
	if opts.ServerName == "" {
		opts.ServerName, _ = os.Hostname()
	}
	switch {
	case len(opts.Servers) == 0:
		return fmt.Errorf("%w: no --zeromq SEND_SPEC,RECV_SPEC", ErrOptions)
	case len(opts.Servers)*opts.Processes > MaxHandlers:
		return fmt.Errorf("%w: %d servers × %d processes > %d handlers", ErrOptions, len(opts.Servers), opts.Processes, MaxHandlers)
	case opts.InFlight < 0 || opts.InFlight > MaxInFlight:
		return fmt.Errorf("%w: in-flight %d out of range 1..%d", ErrOptions, opts.InFlight, MaxInFlight)
	case countApps(opts) > 1:
		return fmt.Errorf("%w: more than one of App, External and Handler", ErrOptions)
	case countApps(opts) == 0:
		return fmt.Errorf("%w: no app (--app NAME, --module, --wsgi-file)", ErrOptions)
	}
	sh := &shared{opts: opts, conns: newConnTable(), native: opts.Handler}
	if opts.App != "" {
		app, err := worker.LookupApp(opts.App)
		if err != nil {
			return err
		}
		env := opts.AppEnv
		env.Node = m.Node()
		if sh.native, err = app.New(env); err != nil {
			return err
		}
	}
	for si, srv := range opts.Servers {
		for n := 1; n <= opts.Processes; n++ {
			id, err := newUUID()
			if err != nil {
				return fmt.Errorf("mongrel2: %w", err)
			}
			h := newHandler(sh, si, n, id)
			if _, err := m.SpawnMeta(h, gen.MetaOptions{MailboxSize: int64(opts.InFlight) + 64}); err != nil {
				m.stopHandlers()
				return fmt.Errorf("mongrel2: %w", err)
			}
			m.handlers = append(m.handlers, h)
			m.Log().Info("zeromq UUID for responder %s on handler %d: %s", srv.Recv, n, id)
		}
	}
	return nil
}

func countApps(o Options) int {
	n := 0
	if o.App != "" {
		n++
	}
	if o.External != nil {
		n++
	}
	if o.Handler != nil {
		n++
	}
	return n
}

// stopHandlers closes the sockets of handlers already spawned (Init failed
// half-way; their meta processes then end).
func (m *mongrel2) stopHandlers() {
	for _, h := range m.handlers {
		h.Terminate(errStopped)
	}
}

func (m *mongrel2) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	switch request.(type) {
	case RequestStats:
		r := ResponseStats{Handlers: make([]HandlerStats, len(m.handlers))}
		for i, h := range m.handlers {
			r.Handlers[i] = h.stats()
		}
		return r, nil
	}
	m.Log().Warning("unexpected call from %s: %T", from, request)
	return gen.ErrUnsupported, nil
}

// newUUID returns a random (version 4) UUID, the form Mongrel2 and uWSGI
// use for handler identities.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
