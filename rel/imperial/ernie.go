package main

// imperial ernie: Ernie's command line (ernie-bert.md §5.1) on imperial.
//
//	imperial ernie -c CFG [-p PORT] [-l LEVEL] [-a LOG] [-d] [-P PIDFILE]
//	               [--name N | --sname N] [-E OPTS] [--bind ADDR] [--cookie C]
//	               [--call-timeout D] [--idle-timeout D]
//	imperial ernie reload-handlers|stats|halt [-p PORT]

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/gen"

	ernieact "imperial/actors/ernie"
	"imperial/bertrpc"
	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/ernie/config"
	"imperial/node"
	"imperial/node/dist"
	"imperial/node/etf"
	"imperial/node/kernel"
	"imperial/node/rpc"
)

// ernieNatives is the table of native Go modules compiled into imperial.
// Add a module here to make {module, Name}, {type, native} (without
// codepaths) serve it.
func ernieNatives() (ernie.Natives, error) {
	return ernie.NewNatives(
		ernie.Demo("demo"),
	)
}

// ernieCommands are the admin subcommands and the '__admin__' function each calls.
var ernieCommands = []struct{ name, fun string }{
	{"reload-handlers", "reload_handlers"},
	{"stats", "stats"},
	{"halt", "halt"},
}

// detachedEnv marks the child of -d.
const detachedEnv = "IMPERIAL_ERNIE_DETACHED"

type ernieFlags struct {
	config, access, pidfile, name, sname, erlOpts, bind, cookie, erl string
	port, level                                                      int
	detached                                                         bool
	callTimeout, idleTimeout                                         time.Duration
	cpuProfile                                                       string
}

func ernieFlagSet(f *ernieFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("imperial ernie", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, n := range []string{"c", "config"} {
		fs.StringVar(&f.config, n, "", "handler config file (Erlang terms)")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&f.port, n, config.DefaultPort, "port to listen on (and of the admin commands)")
	}
	for _, n := range []string{"l", "log-level"} {
		fs.IntVar(&f.level, n, config.DefaultLogLevel, "log level 0 (fatal) .. 4 (debug)")
	}
	for _, n := range []string{"a", "access-log"} {
		fs.StringVar(&f.access, n, "", "access log file")
	}
	for _, n := range []string{"d", "detached"} {
		fs.BoolVar(&f.detached, n, false, "run in the background")
	}
	for _, n := range []string{"P", "pidfile"} {
		fs.StringVar(&f.pidfile, n, "", "write the server's pid to this file")
	}
	fs.StringVar(&f.name, "name", "", "Erlang node name (long names)")
	fs.StringVar(&f.sname, "sname", "", "Erlang node name (short names)")
	for _, n := range []string{"E", "erlang"} {
		fs.StringVar(&f.erlOpts, n, "", "extra erl options for the BEAM peer of native Erlang modules")
	}
	fs.StringVar(&f.bind, "bind", "0.0.0.0", "address to listen on (Ernie: all interfaces)")
	fs.StringVar(&f.cookie, "cookie", "", "Erlang cookie (default ~/.erlang.cookie with --name/--sname)")
	fs.StringVar(&f.erl, "erl", "erl", "erl program for native Erlang modules")
	fs.DurationVar(&f.callTimeout, "call-timeout", 0, "bound a call's run time (0: none, as Ernie)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 0, "close connections idle this long (0: never)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file until the server stops")
	return fs
}

// runErnie is `imperial ernie ...`.
func runErnie(args []string) int {
	return ernieMain(args, os.Stdout, os.Stderr)
}

func ernieMain(args []string, stdout, stderr io.Writer) int {
	var f ernieFlags
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := ernieFlagSet(&f, stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cmd == "" && fs.NArg() > 0 {
		cmd = fs.Arg(0)
	}
	if cmd != "" {
		for _, c := range ernieCommands {
			if c.name == cmd {
				return ernieAdmin(f.port, c.fun, stdout, stderr)
			}
		}
		names := make([]string, len(ernieCommands))
		for i, c := range ernieCommands {
			names[i] = c.name
		}
		fmt.Fprintf(stderr, "Invalid command. Valid commands are:\n  %s\n", strings.Join(names, "\n  "))
		return 1
	}
	srv := config.Defaults()
	srv.ConfigFile, srv.Port, srv.LogLevel, srv.AccessLog, srv.PidFile = f.config, f.port, f.level, f.access, f.pidfile
	if err := srv.Validate(); err != nil {
		if errors.Is(err, config.ErrMissingKey) {
			fmt.Fprintln(stderr, "A config file must be specified: ernie -c /path/to/config.yml")
		} else {
			fmt.Fprintln(stderr, "imperial ernie:", err)
		}
		return 1
	}
	if f.name != "" && f.sname != "" {
		fmt.Fprintln(stderr, "imperial ernie: give --name or --sname, not both")
		return 1
	}
	specs, err := config.ParseFile(f.config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	natives, err := ernieNatives()
	if err != nil {
		fmt.Fprintln(stderr, "imperial ernie:", err)
		return 1
	}
	if f.detached && os.Getenv(detachedEnv) == "" {
		return ernieDetach(stderr)
	}
	defer governScheduler(runtime.NumCPU())()
	return ernieServe(f, specs, natives, stderr)
}

// ernieAdmin calls '__admin__':fun on localhost:port and prints the reply.
func ernieAdmin(port int, fun string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	v, err := bertrpc.CallOnce(ctx, addr, bertrpc.Options{}, ernie.AdminModule, fun)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	s := fmt.Sprint(v)
	if b, ok := v.([]byte); ok {
		s = string(b)
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	io.WriteString(stdout, s)
	return 0
}

// ernieDetach starts this command again in its own session, without -d's
// terminal, and returns at once (erl -detached).
func ernieDetach(stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "imperial ernie:", err)
		return 1
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(stderr, "imperial ernie:", err)
		return 1
	}
	defer devnull.Close()
	c := exec.Command(exe, os.Args[1:]...)
	c.Env = append(os.Environ(), detachedEnv+"=1")
	c.Stdin, c.Stdout, c.Stderr = devnull, devnull, devnull
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		fmt.Fprintln(stderr, "imperial ernie:", err)
		return 1
	}
	c.Process.Release()
	return 0
}

// ernieLogLevel maps Ernie's 0..4 to ergo's levels.
func ernieLogLevel(l int) gen.LogLevel {
	switch l {
	case 0:
		return gen.LogLevelPanic
	case 1:
		return gen.LogLevelError
	case 2:
		return gen.LogLevelWarning
	case 3:
		return gen.LogLevelInfo
	}
	return gen.LogLevelDebug
}

func ernieServe(f ernieFlags, specs []config.ModuleSpec, natives ernie.Natives, stderr io.Writer) int {
	if f.pidfile != "" {
		if err := os.WriteFile(f.pidfile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintln(stderr, "imperial ernie:", err)
			return 1
		}
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "imperial ernie:", err)
			return 1
		}
		pprof.StartCPUProfile(pf)
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	halt := make(chan struct{})
	var haltOnce sync.Once
	fatal := make(chan error, 1)
	var started atomic.Value // gen.Node

	o := ernieact.Options{
		Specs:       specs,
		Natives:     natives,
		Listen:      net.JoinHostPort(f.bind, strconv.Itoa(f.port)),
		AccessLog:   f.access,
		IdleTimeout: f.idleTimeout,
		CallTimeout: f.callTimeout,
		Halt:        func() { haltOnce.Do(func() { close(halt) }) },
		Fatal: func(err error) {
			select {
			case fatal <- err:
			default:
			}
		},
	}
	needBeam := false
	for _, s := range specs {
		if s.Type == config.Native && len(s.CodePaths) > 0 {
			needBeam = true
		}
	}
	reg := rpc.NewRegistry()
	for _, m := range moduleNames(specs) {
		reg.RegisterModule(etf.Atom(m), ernieRPCModule{name: m})
	}

	base := gen.NodeOptions{}
	base.Log.Level = ernieLogLevel(f.level)
	var n gen.Node
	var err error
	switch {
	case f.name != "" || f.sname != "" || needBeam:
		name, long, cookie := f.name, f.name != "", f.cookie
		if f.sname != "" {
			name = f.sname
		}
		if name == "" { // only the BEAM peer needs distribution: a private node
			// (not hidden: hidden nodes are not in epmd, where the peer looks)
			name, long = fmt.Sprintf("imperial_ernie_%d@127.0.0.1", os.Getpid()), true
			if cookie == "" {
				cookie = randomCookie()
			}
		}
		full, isLong, err := node.ResolveName(name, long)
		if err != nil {
			fmt.Fprintln(stderr, "imperial ernie:", err)
			return 1
		}
		if cookie == "" {
			if cookie, err = node.ReadCookie(); err != nil {
				fmt.Fprintln(stderr, "imperial ernie:", err)
				return 1
			}
		}
		_, host, _ := strings.Cut(full, "@")
		o.Beam = ernieact.BeamOptions{Erl: f.erl, NameFlag: "-sname", Cookie: cookie, Imperial: gen.Atom(full),
			Name: fmt.Sprintf("ernie_beam_%d@%s", os.Getpid(), host), Extra: strings.Fields(f.erlOpts)}
		if isLong {
			o.Beam.NameFlag = "-name"
		}
		o.ErlangRPC = func(ctx context.Context, peer gen.Atom, m, fn etf.Atom, args []any) (any, error) {
			nd, _ := started.Load().(gen.Node)
			if nd == nil {
				return nil, errors.New("node not started")
			}
			v, err := kernel.RPC(ctx, nd, peer, m, fn, args)
			var re *dist.RPCError
			if errors.As(err, &re) && re.Class != "badrpc" {
				return nil, &ernie.ErlangException{Class: re.Class, Reason: re.Reason, Stack: re.Stack}
			}
			return v, err
		}
		app, err := ernieact.CreateApp(o)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		n, err = node.Start(node.Options{Name: full, Long: isLong, Cookie: cookie, Registry: reg,
			Applications: []gen.ApplicationBehavior{app}, Base: base})
		if err != nil {
			fmt.Fprintln(stderr, "imperial ernie:", err)
			return 1
		}
	default:
		app, err := ernieact.CreateApp(o)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		base.Network.Mode = gen.NetworkModeDisabled
		base.Env = map[gen.Env]any{"disable_metrics": true}
		base.Applications = []gen.ApplicationBehavior{app}
		n, err = ergo.StartNode(gen.Atom(fmt.Sprintf("imperial_ernie_%d@localhost", os.Getpid())), base)
		if err != nil {
			fmt.Fprintln(stderr, "imperial ernie:", err)
			return 1
		}
	}
	_ = err
	started.Store(n)

	stopped := make(chan struct{})
	go func() { n.Wait(); close(stopped) }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	code := 0
	select {
	case <-halt:
	case <-sigs:
	case err := <-fatal:
		fmt.Fprintln(stderr, "imperial ernie:", err)
		code = 1
	case <-stopped:
		fmt.Fprintln(stderr, "imperial ernie: the node stopped")
		return 1
	}
	n.Stop()
	<-stopped
	if f.pidfile != "" {
		os.Remove(f.pidfile)
	}
	return code
}

func moduleNames(specs []config.ModuleSpec) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range specs {
		if !seen[s.Module] {
			seen[s.Module] = true
			out = append(out, s.Module)
		}
	}
	return out
}

func randomCookie() string {
	b := make([]byte, 16)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// ernieRPCModule makes a configured Ernie module reachable with
// rpc:call(ImperialNode, Module, Function, Args).
type ernieRPCModule struct{ name string }

func (m ernieRPCModule) Exports(function etf.Atom, arity int) bool { return true }

func (m ernieRPCModule) Call(c rpc.Call) (any, error) {
	v, err := ernieact.Call(c.Process, m.name, string(c.Function), c.Args, 0)
	if err == nil {
		return v, nil
	}
	if errors.Is(err, ernie.ErrNoModule) || errors.Is(err, ernie.ErrNoFunction) {
		return nil, rpc.Undef()
	}
	var be *bert.Error
	if errors.As(err, &be) {
		if be.Type == bert.ErrorServer && (be.Code == ernie.CodeNoFunction || be.Code == ernie.CodeNoModule) {
			return nil, rpc.Undef()
		}
		return nil, rpc.Raise(etf.Tuple{etf.Atom("ernie"), etf.Atom(be.Type), []byte(be.Class), []byte(be.Detail)})
	}
	return nil, err
}
