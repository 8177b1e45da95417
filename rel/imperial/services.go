package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"ergo.services/ergo/gen"

	"imperial/apps"
	"imperial/apps/config"
	emperorapp "imperial/apps/emperor"
	mongrel2app "imperial/apps/mongrel2"
	"imperial/apps/router"
	"imperial/node"
	"imperial/node/rpc"
)

//go:embed default.ini
var defaultINI []byte

// nodeKeys are the options of the Erlang node itself.
var nodeKeys = []string{"erlang", "erlang-cookie", "erlang-hidden", "erlang-epmd-port", "log-level"}

// directiveKeys are resolved by apps/config and never reach a service.
var directiveKeys = []string{"ini", "xml", "xmlconfig", "yaml", "yml", "json", "js", "include", "config",
	"inherit", "set", "set-placeholder", "set-ph"}

// runServices starts imperial as a node with the services its options ask for.
// With no arguments it runs the embedded default configuration.
func runServices(args []string) int {
	check := false
	if len(args) > 0 && (args[0] == "-t" || args[0] == "--check-config") {
		check, args = true, args[1:]
	}
	opts, err := options(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	if check {
		fmt.Print(config.Dump(opts))
		return 0
	}

	limit, err := schedulerLimit(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	defer governScheduler(limit)()

	name, _ := config.Get(opts, "erlang")
	cookie, _ := config.Get(opts, "erlang-cookie")
	hidden, err := config.Bool(opts, "erlang-hidden")
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	epmdPort, err := config.Int(opts, "erlang-epmd-port", 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	lv, _ := config.Get(opts, "log-level")
	slogLevel, ergoLevel, err := parseLevel(lv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	bin, _ := os.Executable()
	reg := rpc.NewRegistry()
	env := apps.Env{Registry: reg, Binary: bin}
	o := node.Options{Name: name, Cookie: cookie, Hidden: hidden, EPMDPort: epmdPort, Registry: reg}
	if name == "" {
		// no distribution: the services run on a node nobody can reach
		o.Name, o.NoNetwork = "imperial@localhost", true
	} else if full, _, err := node.ResolveName(name, false); err == nil {
		env.NodeName = gen.Atom(full)
	}
	// --logger zeromq:tcp://… / --log-zeromq: log lines also go to ZeroMQ, as uWSGI's logzmq
	zmqLog, zmqApp, err := mongrel2app.Logging(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	var logOut io.Writer = os.Stderr
	if zmqLog != nil {
		logOut = io.MultiWriter(os.Stderr, zmqLog)
	}
	o.Base.Log.Level = ergoLevel
	o.Base.Log.DefaultLogger.Disable = true
	o.Base.Log.Loggers = []gen.Logger{{Name: "slog", Logger: newLogger(logOut, slogLevel)}}
	if o.Applications, err = apps.Build(env, opts); err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 2
	}
	if zmqApp != nil {
		// first, so that the start-up lines reach the collector too
		o.Applications = append([]gen.ApplicationBehavior{zmqApp}, o.Applications...)
	}
	n, err := node.Start(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imperial:", err)
		return 1
	}
	handleSignals(n, emperorapp.Wants(opts), slog.New(slog.NewTextHandler(logOut, nil)))
	return 0
}

// options reads the command line (or the embedded default) into one resolved
// option list, and refuses keys no service owns.
func options(args []string) ([]config.Option, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	l := config.Loader{FS: os.DirFS("/"), Cwd: cwd, Env: os.LookupEnv, Vars: config.HostVars()}
	var opts []config.Option
	if len(args) == 0 {
		opts, err = l.LoadBytes(filepath.Join(cwd, "default.ini"), defaultINI)
	} else {
		var rest []string
		if opts, rest, err = config.ParseArgs(args); err != nil {
			return nil, err
		}
		for i, f := range rest {
			// a bare argument is a config file, loaded by its extension (as uWSGI does)
			opts = append(opts, config.Option{Key: "config", Value: f, File: config.CommandLine, Line: len(args) - len(rest) + i + 1})
		}
		var pushed []config.Option
		if opts, pushed, err = takeEmperorConfigs(l, opts); err != nil {
			return nil, err
		}
		if opts, err = l.Expand(opts); err == nil {
			opts = append(pushed, opts...)
		}
	}
	if err != nil {
		return nil, err
	}
	return opts, unknownKeys(opts)
}

// unknownKeys reports every option no service (nor the node) owns, with its place.
func unknownKeys(opts []config.Option) error {
	known := map[string]bool{}
	for _, k := range nodeKeys {
		known[k] = true
	}
	for _, k := range directiveKeys {
		known[k] = true
	}
	for _, k := range apps.Keys() {
		known[k] = true
	}
	for _, k := range mongrel2app.LogKeys() {
		known[k] = true
	}
	var bad []string
	for _, o := range opts {
		if !known[o.Key] {
			bad = append(bad, fmt.Sprintf("%s:%d: %s: unknown option", o.File, o.Line, o.Key))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "\n"))
	}
	return nil
}

// schedulerLimit is the most Ps the scheduler governor (rel/sched) may use. An
// instance that only routes (a FastRouter or HTTP router and nothing else) gets
// as many as uWSGI would prefork router processes: one unless
// --fastrouter-processes/--http-processes say more. uWSGI's router is one
// event-loop process per --fastrouter-processes; on a machine whose other cores
// serve the backends and the clients, a second Go thread only spins and hands
// goroutines around (router bench: 62 → 53 µs CPU per request). Anything else
// may use every core when its load needs them.
func schedulerLimit(opts []config.Option) (int, error) {
	n, err := routerOnlyThreads(opts)
	if n > 0 {
		return min(n, runtime.NumCPU()), err
	}
	return runtime.NumCPU(), err
}

// routerOnlyThreads is the thread count for an instance that only routes, or 0.
func routerOnlyThreads(opts []config.Option) (int, error) {
	if w := apps.Wanted(opts); len(w) != 1 || w[0] != "router" {
		return 0, nil
	}
	return router.Processes(opts)
}
