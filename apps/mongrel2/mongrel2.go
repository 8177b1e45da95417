// Package mongrel2 is the Mongrel2 handler service (uWSGI's --zeromq,
// spelled also --zmq, --zeromq-socket, --zmq-socket, --mongrel2:
// SEND_SPEC,RECV_SPEC, repeatable) and the ZeroMQ log sink (--logger
// zeromq:ENDPOINT or zmq:ENDPOINT, --log-zeromq ENDPOINT).
//
// The handlers serve the worker service's app, read with the worker's own
// option parser (apps/worker.Parse): --app NAME (native Go), --module /
// --wsgi-file (the Python WSGI adapter in external worker processes), with
// -p/--processes N handlers per server, each with its own UUID, and
// --threads M (the external app gets N × M worker processes, as uWSGI has
// N × M threads; native apps serve every request in its own goroutine).
// With --socket/--http-socket/--http as well, the worker service runs too
// and both serve the same app: an external app then runs in the worker's
// single pool. --chdir names the directory Mongrel2's upload temp paths are
// relative to (Mongrel2's chroot).
//
// Import rules: it imports apps/config, apps/worker (the app options),
// supervisors and actors/mongrel2; apps imports it, and rel/imperial calls
// Logging.
package mongrel2

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"ergo.services/ergo/gen"

	"imperial/actors/mongrel2"
	"imperial/apps/config"
	"imperial/apps/worker"
	"imperial/supervisors"
)

// ErrOptions: the options are wrong; the error names file:line.
var ErrOptions = errors.New("mongrel2: bad option")

// AppName is the handler application's name; LogAppName the log sink's.
const (
	AppName    gen.Atom = "mongrel2"
	LogAppName gen.Atom = "logzmq"
)

// serverKeys are uWSGI's spellings of --zeromq.
var serverKeys = []string{"zeromq", "zmq", "zeromq-socket", "zmq-socket", "mongrel2"}

// Keys returns the options the handler service owns (the app options are
// the worker service's).
func Keys() []string { return slices.Clone(serverKeys) }

// LogKeys returns the options Logging reads.
func LogKeys() []string { return []string{"logger", "log-zeromq"} }

// Wants reports whether the options ask for Mongrel2 handlers.
func Wants(opts []config.Option) bool {
	for _, o := range opts {
		if slices.Contains(serverKeys, o.Key) {
			return true
		}
	}
	return false
}

// Env is what the service needs from the node besides its options.
type Env struct {
	Erlang bool // the node runs distribution (the erlang app may call out)
}

// Create builds the handler application from the options.
func Create(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
	o, err := Parse(env, opts)
	if err != nil {
		return nil, err
	}
	return New(o), nil
}

// Parse reads the options into the supervisor's options.
func Parse(env Env, opts []config.Option) (supervisors.Mongrel2SupOptions, error) {
	var errs []error
	var s supervisors.Mongrel2SupOptions
	h := &s.Handler
	for _, o := range opts {
		if !slices.Contains(serverKeys, o.Key) {
			continue
		}
		srv, err := mongrel2.ParseServer(o.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %w", ErrOptions, o.File, o.Line, o.Key, err))
			continue
		}
		h.Servers = append(h.Servers, srv)
	}
	if len(h.Servers) == 0 {
		errs = append(errs, fmt.Errorf("%w: no --zeromq SEND_SPEC,RECV_SPEC", ErrOptions))
	}

	// The app is the worker's: its parser reads it. It wants a socket; when
	// the worker service does not run, a placeholder stands in (nothing is
	// bound: only the app options are used).
	wopts, shared := opts, worker.Wants(opts)
	if !shared {
		wopts = append(slices.Clip(opts), config.Option{Key: "socket", Value: "127.0.0.1:0", File: "(zeromq)", Line: 1})
	}
	ws, err := worker.Parse(worker.Env{Erlang: env.Erlang}, wopts)
	if err != nil {
		errs = append(errs, err)
	}
	w := ws.Worker
	h.Processes = max(w.Processes, 1)
	h.App, h.AppEnv = w.App, w.AppEnv
	if w.External != nil {
		if shared {
			h.External = supervisors.ExtWorkerPoolName
		} else {
			s.Pool = ws.Pool
			h.External = supervisors.Mongrel2PoolName
		}
	}
	if dir, ok := config.Get(opts, "chdir"); ok && dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			o, _ := config.Lookup(opts, "chdir")
			errs = append(errs, fmt.Errorf("%w: %s:%d: chdir: %w", ErrOptions, o.File, o.Line, err))
		}
		h.Chroot = abs
	}
	return s, errors.Join(errs...)
}

// New builds the application.
func New(o supervisors.Mongrel2SupOptions) gen.ApplicationBehavior { return &app{o: o} }

type app struct {
	o supervisors.Mongrel2SupOptions
}

func (a *app) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        AppName,
		Description: "Mongrel2 handlers over ZeroMQ serving the worker's app",
		// permanent: serving Mongrel2 is what this instance is for
		Mode: gen.ApplicationModePermanent,
		Group: []gen.ApplicationMemberSpec{{
			Name: supervisors.Mongrel2SupName, Factory: supervisors.Mongrel2Sup, Args: []any{a.o},
		}},
	}, nil
}

func (a *app) Start(mode gen.ApplicationMode) {}
func (a *app) Terminate(reason error)         {}

// Logging reads --logger zeromq:ENDPOINT (also zmq:ENDPOINT, and uWSGI's
// named form "NAME zeromq:ENDPOINT") and --log-zeromq ENDPOINT. With none it
// returns nil, nil, nil. Otherwise w is to be written every log line (it
// never blocks; lines wait in a bounded queue per endpoint) and app is the
// application that sends them, one ZeroMQ message per line, to each
// endpoint; start it before the others so the first lines are not dropped.
// rel/imperial tees its log output into w:
//
//	w, app, err := mongrel2.Logging(opts)
//	out := io.Writer(os.Stderr)
//	if w != nil { out = io.MultiWriter(os.Stderr, w) }   // the slog handler writes to out
//	if app != nil { applications = append([]gen.ApplicationBehavior{app}, applications...) }
//
// Other logger schemes are not supported and are an error.
func Logging(opts []config.Option) (io.Writer, gen.ApplicationBehavior, error) {
	var errs []error
	var targets []mongrel2.LogTarget
	add := func(o config.Option, ep string) {
		if _, addr, ok := strings.Cut(ep, "://"); !ok || addr == "" ||
			!(strings.HasPrefix(ep, "tcp://") || strings.HasPrefix(ep, "ipc://")) {
			errs = append(errs, fmt.Errorf("%w: %s:%d: %s: endpoint %q: want tcp://HOST:PORT or ipc://PATH", ErrOptions, o.File, o.Line, o.Key, ep))
			return
		}
		targets = append(targets, mongrel2.LogTarget{Endpoint: ep, Queue: mongrel2.NewLogQueue(0)})
	}
	for _, o := range opts {
		switch o.Key {
		case "log-zeromq":
			add(o, strings.TrimSpace(o.Value))
		case "logger":
			v := strings.TrimSpace(o.Value)
			if _, rest, named := strings.Cut(v, " "); named {
				v = strings.TrimSpace(rest)
			}
			scheme, ep, _ := strings.Cut(v, ":")
			if scheme != "zeromq" && scheme != "zmq" {
				errs = append(errs, fmt.Errorf("%w: %s:%d: logger: %q: only zeromq:ENDPOINT is supported", ErrOptions, o.File, o.Line, o.Value))
				continue
			}
			add(o, ep)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(targets) == 0 {
		return nil, nil, nil
	}
	w := make(mongrel2.LogWriter, len(targets))
	for i, t := range targets {
		w[i] = t.Queue
	}
	return w, &logApp{targets: targets}, nil
}

type logApp struct {
	targets []mongrel2.LogTarget
}

func (a *logApp) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        LogAppName,
		Description: "log lines to ZeroMQ collectors",
		// temporary: losing the log sink must not stop the services
		Mode: gen.ApplicationModeTemporary,
		Group: []gen.ApplicationMemberSpec{{
			Name: mongrel2.LogName, Factory: mongrel2.LogFactory,
			Args: []any{mongrel2.LogOptions{Targets: a.targets}},
		}},
	}, nil
}

func (a *logApp) Start(mode gen.ApplicationMode) {}
func (a *logApp) Terminate(reason error)         {}
