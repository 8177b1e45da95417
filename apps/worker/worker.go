// Package worker is the worker service: uWSGI's --socket / --http-socket /
// --http (without a subscription server) serving one app, with --processes,
// --threads, --master, --harakiri, --subscribe-to and --subscribe2. It reads
// the options it owns into the typed Options of actors/worker,
// actors/extworker and actors/subscription and builds the application around
// supervisors.WorkerSup.
//
// Apps: --app NAME picks a native Go app (actors/worker.Apps: testapp,
// static, hello, erlang); --module MOD[:CALLABLE] (--wsgi, -w) or --wsgi-file
// FILE (--file) run a Python WSGI app, and --rack FILE a Rack app (Debian's
// ruby-rack), in external worker processes through the adapters shipped in
// python/imperial_wsgi.py and ruby/imperial_rack.rb (embedded; written once
// to the temp directory).
//
// Subscriptions: --subscribe-to accepts uWSGI 2.0's spellings
// (SERVER:PORT:KEY[,MODIFIER1[,ALGO:KEYFILE]], @mapfile, =N=) and, unlike
// uWSGI 2.0, uWSGI 0.9's SERVER:PORT:KEY:MODIFIER1: a key ending in ":N" with
// N a number 0..255 and no comma means modifier1 N (the seed's
// psgi_cluster:5 is key psgi_cluster, modifier1 5, as psgi_cluster,5 is).
// To subscribe a key that really ends in ":N" (a host:port key with a port up
// to 255) spell the modifier out: KEY:N,0.
//
// Accepted for uWSGI command-line compatibility and ignored (imperial has
// everything built in and one logger): plugins, plugin, enable-threads,
// vacuum, die-on-term, lazy-apps, need-app, disable-logging, listen, master
// (imperial always supervises its workers: dead ones are replaced).
//
// Import rules: it imports apps/config, apps/router (HTTPRouterMode),
// supervisors, the actor packages above and node/kernel (the Erlang calls of
// the erlang app and of the bridge); apps imports it.
package worker

import (
	"crypto/sha256"
	_ "embed" // the Python adapter
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/actors/subscription"
	wire "imperial/actors/wire/subscription"
	"imperial/actors/wire/uwsgi"
	"imperial/actors/worker"
	"imperial/apps/config"
	"imperial/apps/router"
	"imperial/node/etf"
	"imperial/node/kernel"
	"imperial/node/rpc"
	"imperial/supervisors"
)

//go:embed python/imperial_wsgi.py
var adapter []byte

//go:embed ruby/imperial_rack.rb
var rackAdapter []byte

// Adapter returns the Python WSGI adapter's source.
func Adapter() []byte { return adapter }

// ErrOptions: the worker options are wrong; the error names file:line.
var ErrOptions = errors.New("worker: bad option")

// AppName is the application's name.
const AppName gen.Atom = "worker"

// Keys returns the options this service owns.
func Keys() []string {
	return []string{
		"socket", "uwsgi-socket", "http-socket", "http", "processes", "workers", "threads", "master",
		"harakiri", "socket-timeout", "http-keepalive",
		"app", "static-root", "erlang-app-node", "erlang-app-call", "erlang-app-timeout",
		"module", "wsgi", "wsgi-file", "file", "callable", "pythonpath", "python-path", "chdir", "worker-python",
		"rack", "worker-ruby",
		"subscribe-to", "st", "subscribe", "subscribe2", "subscribe-freq", "subscribe-with-modifier1",
		"weight", "auto-weight",
		"plugins", "plugin", "enable-threads", "vacuum", "die-on-term", "lazy-apps", "need-app",
		"disable-logging", "listen",
	}
}

// Wants reports whether the options ask for a worker.
func Wants(opts []config.Option) bool {
	for _, k := range []string{"socket", "uwsgi-socket", "http-socket"} {
		if _, ok := config.Get(opts, k); ok {
			return true
		}
	}
	_, h := config.Get(opts, "http")
	return h && !router.HTTPRouterMode(opts)
}

// Env is what the service needs from the node besides its options.
type Env struct {
	Registry *rpc.Registry // the node's RPC stack (uWSGI RPC reaches it); nil refuses RPC
	Erlang   bool          // the node runs distribution: the bridge and the erlang app may call out
}

// Create builds the worker application from the options.
func Create(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
	o, err := Parse(env, opts)
	if err != nil {
		return nil, err
	}
	return New(o), nil
}

// Parse reads the options into the supervisor's options. It writes the
// Python adapter to the temp directory when the app is external.
func Parse(env Env, opts []config.Option) (supervisors.WorkerSupOptions, error) {
	var errs []error
	bad := func(key string, err error) {
		o, _ := config.Lookup(opts, key)
		errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %v", ErrOptions, o.File, o.Line, key, err))
	}
	num := func(key string, def int) int {
		v, err := config.Int(opts, key, def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrOptions, err))
			return def
		}
		if v < 0 {
			bad(key, fmt.Errorf("negative value %d", v))
			return def
		}
		return v
	}
	last := func(keys ...string) (string, bool) {
		var val string
		found := false
		for _, k := range keys {
			if v, ok := config.Get(opts, k); ok {
				val, found = v, true
			}
		}
		return val, found
	}
	var s supervisors.WorkerSupOptions
	w := &s.Worker
	w.Sockets = append(config.All(opts, "socket"), config.All(opts, "uwsgi-socket")...)
	w.HTTPSockets = config.All(opts, "http-socket")
	if !router.HTTPRouterMode(opts) {
		w.HTTPSockets = append(w.HTTPSockets, config.All(opts, "http")...)
	}
	procs, _ := last("processes", "workers")
	w.Processes = 1
	if procs != "" {
		w.Processes = num("processes", 1)
		if _, ok := config.Get(opts, "workers"); ok {
			w.Processes = num("workers", 1)
		}
	}
	w.Threads = num("threads", 1)
	w.Harakiri = time.Duration(num("harakiri", 0)) * time.Second
	w.SocketTimeout = time.Duration(num("socket-timeout", 60)) * time.Second
	if v, ok := config.Get(opts, "http-keepalive"); ok {
		w.KeepAlive = time.Duration(num("http-keepalive", 15)) * time.Second
		if v == "0" {
			w.KeepAlive = -1
		}
	}
	conc := max(w.Processes, 1) * max(w.Threads, 1)
	if conc > worker.MaxConcurrency {
		bad("processes", fmt.Errorf("processes × threads = %d > %d", conc, worker.MaxConcurrency))
	}
	if env.Registry != nil {
		s.RPC = &worker.RPCOptions{Registry: env.Registry}
		w.RPC = worker.RPCName
	}

	app, hasApp := config.Get(opts, "app")
	module, hasModule := last("module", "wsgi")
	file, hasFile := last("wsgi-file", "file")
	rack, hasRack := config.Get(opts, "rack")
	external := 0
	for _, b := range []bool{hasApp, hasModule || hasFile, hasRack} {
		if b {
			external++
		}
	}
	switch {
	case external > 1:
		bad("app", errors.New("--app (native), --module/--wsgi-file (Python) and --rack (Ruby) exclude each other: pick one"))
	case hasApp:
		w.App = app
		if _, err := worker.LookupApp(app); err != nil {
			bad("app", err)
		}
		w.AppEnv.Static, _ = config.Get(opts, "static-root")
		if app == "static" && w.AppEnv.Static == "" {
			if cwd, err := os.Getwd(); err == nil {
				w.AppEnv.Static = cwd
			}
		}
		if node, ok := config.Get(opts, "erlang-app-node"); ok {
			w.AppEnv.ErlangNode = gen.Atom(node)
		}
		if call, ok := config.Get(opts, "erlang-app-call"); ok {
			m, f, ok := strings.Cut(call, ":")
			if !ok || m == "" || f == "" {
				bad("erlang-app-call", fmt.Errorf("want MODULE:FUNCTION, got %q", call))
			}
			w.AppEnv.ErlangModule, w.AppEnv.ErlangFunction = etf.Atom(m), etf.Atom(f)
		}
		w.AppEnv.Timeout = time.Duration(num("erlang-app-timeout", 60)) * time.Second
		if env.Erlang {
			w.AppEnv.RPC = kernel.RPC
		}
		if app == "erlang" && (w.AppEnv.ErlangNode == "" || w.AppEnv.ErlangModule == "") {
			bad("app", errors.New("the erlang app needs --erlang-app-node NODE and --erlang-app-call MODULE:FUNCTION"))
		}
	case hasModule || hasFile || hasRack:
		pool, bridge, err := externalPool(opts, module, file, rack, conc, w.Harakiri)
		if err != nil {
			bad("module", err)
		} else {
			s.Pool = pool
			w.External = supervisors.ExtWorkerPoolName
			if env.Erlang {
				w.Bridge, w.BridgeRPC = bridge, kernel.RPC
			}
		}
	default:
		errs = append(errs, fmt.Errorf("%w: no app: give --app NAME, --module MOD, --wsgi-file FILE or --rack FILE", ErrOptions))
	}
	if len(w.Sockets)+len(w.HTTPSockets) == 0 {
		errs = append(errs, fmt.Errorf("%w: no --socket, --http-socket or --http", ErrOptions))
	}

	subs, err := subscribers(opts, w.Sockets, conc)
	if err != nil {
		errs = append(errs, err)
	}
	s.Subscribers = subs
	return s, errors.Join(errs...)
}

// ParseSubscribeTo parses one --subscribe-to value with uWSGI 2.0's rules,
// then reads a key ending in ":N" (N a number 0..255, no comma given) the
// uWSGI 0.9 way: key before the colon, modifier1 N. legacy reports that.
func ParseSubscribeTo(v string) (spec wire.Spec, legacy bool, err error) {
	spec, err = wire.ParseSubscribeToSpec(v)
	if err != nil || spec.MapFile != "" || strings.Contains(v, ",") {
		// a comma spells the modifier out (nothing else in the option has one)
		return spec, false, err
	}
	colon := strings.LastIndexByte(spec.Sub.Key, ':')
	if colon <= 0 {
		return spec, false, nil
	}
	n, perr := uwsgi.ParseNumber([]byte(spec.Sub.Key[colon+1:]), math.MaxUint8)
	if perr != nil {
		return spec, false, nil
	}
	spec.Sub.Key = spec.Sub.Key[:colon]
	spec.Sub.Modifier1 = uint8(n)
	return spec, true, nil
}

// subscribers builds one announcer per --subscribe-to / --subscribe2 (a
// map file gives one per line).
func subscribers(opts []config.Option, sockets []string, cores int) ([]subscription.AnnouncerOptions, error) {
	var errs []error
	var out []subscription.AnnouncerOptions
	freq := 10
	if v, err := config.Int(opts, "subscribe-freq", 10); err != nil || v <= 0 {
		if err == nil {
			err = fmt.Errorf("subscribe-freq must be positive, got %d", v)
		}
		errs = append(errs, fmt.Errorf("%w: %w", ErrOptions, err))
	} else {
		freq = v
	}
	weight, err := config.Int(opts, "weight", 0)
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrOptions, err))
	}
	if auto, _ := config.Bool(opts, "auto-weight"); auto {
		weight = cores
	}
	forceMod := -1
	if v, ok := config.Get(opts, "subscribe-with-modifier1"); ok {
		n, err := uwsgi.ParseNumber([]byte(v), math.MaxUint8)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: subscribe-with-modifier1: %w", ErrOptions, err))
		}
		forceMod = int(n)
	}
	addr := ""
	if len(sockets) > 0 {
		addr = sockets[0]
	}
	add := func(o config.Option, sp wire.Spec) {
		if forceMod >= 0 {
			sp.Sub.Modifier1 = uint8(forceMod)
		}
		a := addr
		if sp.Socket >= 0 {
			if sp.Socket >= len(sockets) {
				errs = append(errs, fmt.Errorf("%w: %s:%d: %s: socket=%d but only %d sockets", ErrOptions, o.File, o.Line, o.Key, sp.Socket, len(sockets)))
				return
			}
			a = sockets[sp.Socket]
		}
		if sp.SharedSocket >= 0 {
			errs = append(errs, fmt.Errorf("%w: %s:%d: %s: shared sockets (=N=) are not supported", ErrOptions, o.File, o.Line, o.Key))
			return
		}
		if sp.Sub.Address == "" && a == "" {
			errs = append(errs, fmt.Errorf("%w: %s:%d: %s: no --socket to announce", ErrOptions, o.File, o.Line, o.Key))
			return
		}
		out = append(out, subscription.AnnouncerOptions{Spec: sp, Address: a, Cores: cores, Weight: weight,
			Freq: time.Duration(freq) * time.Second})
	}
	for _, o := range opts {
		switch o.Key {
		case "subscribe-to", "st", "subscribe":
			sp, _, err := ParseSubscribeTo(o.Value)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %w", ErrOptions, o.File, o.Line, o.Key, err))
				continue
			}
			if sp.MapFile != "" {
				data, err := os.ReadFile(sp.MapFile)
				if err != nil {
					errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %w", ErrOptions, o.File, o.Line, o.Key, err))
					continue
				}
				keys, err := wire.ParseMapFile(data)
				if err != nil {
					errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %w", ErrOptions, o.File, o.Line, o.Key, err))
					continue
				}
				for _, k := range keys {
					one := sp
					one.MapFile = ""
					one.Sub.Key, one.Sub.Modifier1 = k.Key, k.Modifier1
					add(o, one)
				}
				continue
			}
			add(o, sp)
		case "subscribe2":
			sp, err := wire.ParseSubscribe2Spec(o.Value)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %w", ErrOptions, o.File, o.Line, o.Key, err))
				continue
			}
			add(o, sp)
		}
	}
	return out, errors.Join(errs...)
}

// externalPool prepares the extworker pool running the Python adapter (module
// or file) or the Rack adapter (rack).
func externalPool(opts []config.Option, module, file, rack string, count int, harakiri time.Duration) (*extworker.Options, string, error) {
	if count > extworker.MaxCount {
		return nil, "", fmt.Errorf("processes × threads = %d > %d external workers", count, extworker.MaxCount)
	}
	var args, paths []string
	if rack != "" {
		script, err := writeAdapter("imperial_rack", ".rb", rackAdapter)
		if err != nil {
			return nil, "", err
		}
		ruby, _ := config.Get(opts, "worker-ruby")
		if ruby == "" {
			ruby = "ruby"
		}
		args = []string{"exec", shellQuote(ruby), shellQuote(script), "--rack", shellQuote(rack)}
	} else {
		script, err := writeAdapter("imperial_wsgi", ".py", adapter)
		if err != nil {
			return nil, "", err
		}
		python, _ := config.Get(opts, "worker-python")
		if python == "" {
			python = "python3"
			if _, err := os.Stat("/usr/bin/python3"); err == nil {
				python = "/usr/bin/python3" // Debian's modules load only there
			}
		}
		args = []string{"exec", shellQuote(python), "-u", shellQuote(script)}
		if module != "" {
			args = append(args, "--module", shellQuote(module))
		} else {
			args = append(args, "--wsgi-file", shellQuote(file))
		}
		if c, ok := config.Get(opts, "callable"); ok {
			args = append(args, "--callable", shellQuote(c))
		}
		paths = append(config.All(opts, "pythonpath"), config.All(opts, "python-path")...)
		if file != "" {
			if abs, err := filepath.Abs(file); err == nil {
				paths = append(paths, filepath.Dir(abs))
			}
		}
	}
	dir, _ := config.Get(opts, "chdir")
	var env []string
	if len(paths) > 0 {
		if old := os.Getenv("PYTHONPATH"); old != "" {
			paths = append(paths, old)
		}
		env = append(env, "PYTHONPATH="+strings.Join(paths, ":"))
	}
	bridge := filepath.Join(os.TempDir(), fmt.Sprintf("imperial-bridge-%d-%d.sock", os.Getpid(), time.Now().UnixNano()%1e9))
	env = append(env, "IMPERIAL_ERLANG_BRIDGE="+bridge)
	return &extworker.Options{Command: strings.Join(args, " "), Dir: dir, Env: env, Count: count, Timeout: harakiri}, bridge, nil
}

// writeAdapter writes an embedded adapter once per content to the temp
// directory and returns its path.
func writeAdapter(name, ext string, adapter []byte) (string, error) {
	sum := sha256.Sum256(adapter)
	dir := filepath.Join(os.TempDir(), "imperial-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+"_"+hex.EncodeToString(sum[:6])+ext)
	if b, err := os.ReadFile(path); err == nil && string(b) == string(adapter) {
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, "adapter-*"+ext)
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(adapter); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	tmp.Close()
	return path, os.Rename(tmp.Name(), path)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// New builds the application.
func New(o supervisors.WorkerSupOptions) gen.ApplicationBehavior { return &app{o: o} }

type app struct {
	o supervisors.WorkerSupOptions
}

func (a *app) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        AppName,
		Description: "uWSGI worker: uwsgi and HTTP sockets serving one app",
		// permanent: serving the app is what this instance is for
		Mode: gen.ApplicationModePermanent,
		Group: []gen.ApplicationMemberSpec{{
			Name: supervisors.WorkerSupName, Factory: supervisors.WorkerSup, Args: []any{a.o},
		}},
	}, nil
}

// ModuleName is the Erlang module the worker answers to:
// rpc:call(Node, imperial_worker, reload, []) → ok, uWSGI's graceful reload
// (external workers are replaced once their current request is answered).
const ModuleName etf.Atom = "imperial_worker"

func (a *app) Start(mode gen.ApplicationMode) {
	if a.o.RPC != nil {
		a.o.RPC.Registry.Register(ModuleName, "reload", func(c rpc.Call) (any, error) {
			if len(c.Args) != 0 {
				return nil, rpc.Undef()
			}
			if err := c.Process.Send(worker.Name, worker.MessageReload{}); err != nil {
				return nil, err
			}
			return etf.Atom("ok"), nil
		})
	}
}

func (a *app) Terminate(reason error) {}
