package worker

// imperial_worker: one uWSGI worker instance (its sockets and its app).
//
// Accepts  MessageReload (graceful reload: forwarded to the external pool).
// Sends    extworker.MessageReload to the pool.
// Spawns   the caller meta process; processes × threads uwsgi accept loops
//          per --socket; one HTTP server meta process per --http-socket; the
//          Erlang bridge listener when Options.Bridge is set.
// Owns     the listening sockets (closed in Terminate, which ends every
//          accept loop); the connections belong to the meta processes.

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/actors/subscription"
)

// Name is the worker's registered name.
const Name gen.Atom = "imperial_worker"

// Defaults.
const (
	DefaultSocketTimeout = 60 * time.Second
	DefaultKeepAlive     = 15 * time.Second
	// MaxConcurrency bounds processes × threads.
	MaxConcurrency = 4096
)

// Options configure a worker.
type Options struct {
	Sockets     []string // --socket: uwsgi protocol
	HTTPSockets []string // --http-socket (and --http in worker mode): HTTP/1.1
	Processes   int      // 0 means 1
	Threads     int      // 0 means 1
	Harakiri    time.Duration
	// SocketTimeout bounds reading a request and each write; 0 means
	// DefaultSocketTimeout.
	SocketTimeout time.Duration
	// KeepAlive is the idle time of an HTTP connection; 0 means
	// DefaultKeepAlive, <0 disables keep-alive.
	KeepAlive time.Duration

	// App names a native app (Apps); AppEnv configures it.
	App    string
	AppEnv AppEnv
	// External is the extworker pool serving an external app (its name);
	// when set, App must be empty.
	External any
	// RPC is the uWSGI RPC executor (RPCName); nil refuses modifier1 173.
	RPC any
	// Bridge is the unix socket path of the Erlang bridge for external
	// workers; "" runs none. BridgeRPC is how it calls Erlang nodes.
	Bridge    string
	BridgeRPC RPCFunc
}

var _ act.ActorBehavior = (*worker)(nil)

// Factory makes a worker; spawn it registered as Name with Options.
func Factory() gen.ProcessBehavior { return &worker{} }

type worker struct {
	act.Actor
	opts      Options
	listeners []net.Listener
	files     []*os.File // raw-accept duplicates of the uwsgi listeners
}

// shared is what the worker's meta processes read: fixed after Init.
type shared struct {
	handler       http.Handler
	caller        *caller
	rpc           any
	harakiri      time.Duration
	socketTimeout time.Duration
	keepAlive     time.Duration
	slots         chan struct{}
}

func (w *worker) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	opts, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	opts.Processes, opts.Threads = max(opts.Processes, 1), max(opts.Threads, 1)
	conc := opts.Processes * opts.Threads
	switch {
	case conc > MaxConcurrency:
		return fmt.Errorf("%w: processes × threads = %d > %d", ErrOptions, conc, MaxConcurrency)
	case len(opts.Sockets)+len(opts.HTTPSockets) == 0:
		return fmt.Errorf("%w: no --socket or --http-socket", ErrOptions)
	case opts.App != "" && opts.External != nil:
		return fmt.Errorf("%w: both a native app and an external one", ErrOptions)
	case opts.App == "" && opts.External == nil:
		return fmt.Errorf("%w: no app (--app NAME, --module, --wsgi-file)", ErrOptions)
	}
	if opts.SocketTimeout <= 0 {
		opts.SocketTimeout = DefaultSocketTimeout
	}
	if opts.KeepAlive == 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	w.opts = opts
	sh := &shared{caller: newCaller(), rpc: opts.RPC, harakiri: opts.Harakiri,
		socketTimeout: opts.SocketTimeout, keepAlive: opts.KeepAlive, slots: make(chan struct{}, conc)}
	if opts.App != "" {
		app, err := LookupApp(opts.App)
		if err != nil {
			return err
		}
		env := opts.AppEnv
		env.Node = w.Node()
		h, err := app.New(env)
		if err != nil {
			return err
		}
		sh.handler = h
	} else {
		sh.handler = &externalApp{pool: opts.External, caller: sh.caller, log: w.Log().Warning}
	}
	if _, err := w.SpawnMeta(sh.caller, gen.MetaOptions{MailboxSize: callerMailbox}); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	for _, addr := range opts.Sockets {
		l, f, err := subscription.ListenRaw(addr)
		if err != nil {
			w.closeListeners()
			return fmt.Errorf("worker: bind %s: %w", addr, err)
		}
		w.listeners = append(w.listeners, l)
		w.files = append(w.files, f)
	}
	for _, addr := range opts.HTTPSockets {
		l, err := subscription.Listen(addr)
		if err != nil {
			w.closeListeners()
			return fmt.Errorf("worker: bind %s: %w", addr, err)
		}
		w.listeners = append(w.listeners, l)
	}
	for i, l := range w.listeners {
		if i < len(opts.Sockets) {
			for t := 0; t < conc; t++ {
				if _, err := w.SpawnMeta(&uwsgiLoop{l: l, f: w.files[i], sh: sh}, gen.MetaOptions{MailboxSize: 4}); err != nil {
					w.closeListeners()
					return fmt.Errorf("worker: %w", err)
				}
			}
			w.Log().Info("uwsgi socket %d bound to %s", i, l.Addr())
			continue
		}
		h := &httpServer{l: l, sh: sh}
		if _, err := w.SpawnMeta(h, gen.MetaOptions{MailboxSize: 4}); err != nil {
			w.closeListeners()
			return fmt.Errorf("worker: %w", err)
		}
		w.Log().Info("http socket %d bound to %s", i, l.Addr())
	}
	if opts.Bridge != "" {
		if err := w.startBridge(opts.Bridge, opts.BridgeRPC); err != nil {
			w.closeListeners()
			return err
		}
	}
	w.Log().Info("spawned %d processes × %d threads", opts.Processes, opts.Threads)
	return nil
}

func (w *worker) closeListeners() {
	for _, f := range w.files {
		f.Close()
	}
	for _, l := range w.listeners {
		l.Close()
	}
}

func (w *worker) HandleMessage(from gen.PID, message any) error {
	switch message.(type) {
	case MessageReload:
		if w.opts.External != nil {
			w.Log().Info("graceful reload of the external workers")
			if err := w.Send(w.opts.External, extworker.MessageReload{}); err != nil {
				w.Log().Warning("reload: %s", err)
			}
		}
	default:
		w.Log().Warning("unexpected message from %s: %T", from, message)
	}
	return nil
}

func (w *worker) Terminate(reason error) { w.closeListeners() }
