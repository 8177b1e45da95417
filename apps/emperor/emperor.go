// Package emperor is the uWSGI Emperor service: it reads the emperor-* options
// (and, in a vassal, the emperor's environment variables) into the typed
// Options of actors/emperor, actors/monitor's schemes and actors/vassal/agent,
// builds the application around supervisors.EmperorSup, and registers the
// `emperor` RPC module Erlang nodes call (emperor:vassals/0, reload/1, stop/1).
//
// Import rules: it imports apps/config, supervisors, actors/emperor,
// actors/monitor, actors/vassal(/agent), node/rpc and node/etf; apps imports
// it for its entry in apps.Services (which must stay the LAST entry: an
// imperial vassal reports "ready" to its emperor when this application starts).
package emperor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
	"imperial/actors/monitor"
	"imperial/actors/monitor/dir"
	"imperial/actors/vassal"
	"imperial/actors/vassal/agent"
	"imperial/apps/config"
	"imperial/node/rpc"
	"imperial/supervisors"
)

// ErrOptions: the emperor options are wrong; the error names file:line.
var ErrOptions = errors.New("emperor: bad option")

// AppName is the application's name.
const AppName gen.Atom = "emperor"

// Keys returns the options this service owns.
func Keys() []string {
	return []string{
		"emperor", "emperor-wrapper", "emperor-wrapper-override", "emperor-wrapper-fallback",
		"emperor-tyrant", "emperor-tyrant-nofollow", "emperor-nofollow",
		"emperor-stats", "emperor-stats-server",
		"emperor-throttle", "emperor-max-throttle", "emperor-no-blacklist",
		"emperor-freq", "emperor-required-heartbeat", "emperor-curse-tolerance",
		"emperor-graceful-shutdown", "emperor-extra-extension",
		"emperor-on-demand-directory", "emperor-on-demand-dir",
		"emperor-on-demand-extension", "emperor-on-demand-ext",
	}
}

// Wants reports whether imperial should run this service: there is an
// --emperor option, or imperial runs as a vassal (UWSGI_EMPEROR_FD is set).
func Wants(opts []config.Option) bool {
	if _, ok := config.Get(opts, "emperor"); ok {
		return true
	}
	return os.Getenv(vassal.EnvEmperorFD) != ""
}

// Env is what the service needs from the node besides its options.
type Env struct {
	NodeName gen.Atom      // this node's name; empty without distribution
	Registry *rpc.Registry // where the emperor RPC module registers; nil: none
	Binary   string        // imperial's own binary (runs vassals without a wrapper)
}

// Create builds the emperor application from the options.
func Create(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
	s, err := Parse(env, opts, os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(s), nil
}

// Settings is the typed form of the options.
type Settings struct {
	Sup      supervisors.EmperorSupOptions
	Registry *rpc.Registry
}

// Parse reads the options (getenv: the environment, for the vassal side).
func Parse(env Env, opts []config.Option, getenv func(string) string) (Settings, error) {
	var errs []error
	bad := func(key string, err error) { errs = append(errs, fmt.Errorf("%w: %s: %v", ErrOptions, key, err)) }
	flag := func(key string) bool {
		v, err := config.Bool(opts, key)
		if err != nil {
			bad(key, err)
		}
		return v
	}
	num := func(key string, def int) int {
		v, err := config.Int(opts, key, def)
		if err != nil {
			bad(key, err)
		}
		if v < 0 {
			bad(key, fmt.Errorf("negative value %d", v))
			return def
		}
		return v
	}
	s := Settings{Registry: env.Registry}

	if specs := config.All(opts, "emperor"); len(specs) > 0 {
		cwd, err := os.Getwd()
		if err != nil {
			return s, fmt.Errorf("emperor: %w", err)
		}
		stats, _ := config.Get(opts, "emperor-stats")
		if v, ok := config.Get(opts, "emperor-stats-server"); ok {
			stats = v
		}
		wrapper, _ := config.Get(opts, "emperor-wrapper")
		eo := emperor.Options{
			Sources:          specs,
			Binary:           env.Binary,
			Wrapper:          wrapper,
			WrapperOverride:  config.All(opts, "emperor-wrapper-override"),
			WrapperFallback:  config.All(opts, "emperor-wrapper-fallback"),
			Check:            CheckPlugins,
			Tyrant:           flag("emperor-tyrant"),
			Throttle:         time.Duration(num("emperor-throttle", 1000)) * time.Millisecond,
			MaxThrottle:      time.Duration(num("emperor-max-throttle", 180000)) * time.Millisecond,
			NoBlacklist:      flag("emperor-no-blacklist"),
			StopTimeout:      time.Duration(num("emperor-curse-tolerance", 30)) * time.Second,
			Heartbeat:        time.Duration(num("emperor-required-heartbeat", 30)) * time.Second,
			GracefulShutdown: flag("emperor-graceful-shutdown"),
			ExtraExtensions:  config.All(opts, "emperor-extra-extension"),
			Stats:            stats,
			NodeName:         env.NodeName,
			Cwd:              cwd,
		}
		if eo.Binary == "" && eo.Wrapper == "" {
			bad("emperor-wrapper", errors.New("imperial's own binary is unknown: set emperor-wrapper"))
		}
		files := dir.Files{
			Nofollow:        flag("emperor-nofollow"),
			TyrantNofollow:  flag("emperor-tyrant-nofollow"),
			ExtraExtensions: eo.ExtraExtensions,
		}
		for _, k := range []string{"emperor-on-demand-directory", "emperor-on-demand-dir"} {
			if v, ok := config.Get(opts, k); ok {
				files.OnDemandDir = v
			}
		}
		for _, k := range []string{"emperor-on-demand-extension", "emperor-on-demand-ext"} {
			if v, ok := config.Get(opts, k); ok {
				files.OnDemandExt = v
			}
		}
		common := monitor.Common{
			Emperor: emperor.Name,
			Rescan:  time.Duration(num("emperor-freq", 3)) * time.Second,
			Cwd:     cwd,
			Tyrant:  eo.Tyrant,
			Files:   files,
		}
		if common.Rescan == 0 {
			common.Rescan = 3 * time.Second
		}
		for _, spec := range specs {
			scheme, mo, err := monitor.Resolve(spec, common)
			if err != nil {
				o, _ := config.Lookup(opts, "emperor")
				errs = append(errs, fmt.Errorf("%w: %s:%d: emperor: %v", ErrOptions, o.File, o.Line, err))
				continue
			}
			s.Sup.Monitors = append(s.Sup.Monitors, supervisors.Monitor{Spec: spec, Factory: scheme.Factory, Options: mo})
		}
		s.Sup.Emperor = &eo
	}

	if fdText := getenv(vassal.EnvEmperorFD); fdText != "" {
		fd, err := strconv.Atoi(fdText)
		if err != nil || fd < 3 {
			return s, fmt.Errorf("%w: %s=%q", ErrOptions, vassal.EnvEmperorFD, fdText)
		}
		if err := syscall.SetNonblock(fd, true); err != nil {
			return s, fmt.Errorf("%w: %s=%d: %v", ErrOptions, vassal.EnvEmperorFD, fd, err)
		}
		reloads, _ := strconv.Atoi(getenv("UWSGI_RELOADS"))
		s.Sup.Agent = &agent.Options{
			File:        os.NewFile(uintptr(fd), "emperor"),
			Reloads:     reloads,
			EmperorNode: gen.Atom(getenv(vassal.EnvEmperorNode)),
		}
	}
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	if s.Sup.Emperor == nil && s.Sup.Agent == nil {
		return s, fmt.Errorf("%w: neither emperor nor %s", ErrOptions, vassal.EnvEmperorFD)
	}
	return s, nil
}

// imperialPlugins are the uWSGI plugin names whose features imperial has
// built in; a vassal asking for any other plugin needs a wrapper.
func imperialPlugins(name string) bool {
	switch name {
	case "emperor", "emperor_pg", "emperor_mongodb", "emperor_amqp", "emperor_zeromq",
		"corerouter", "fastrouter", "http", "rpc", "mongrel2", "logzmq", "ping", "echo":
		return true
	}
	return false
}

// CheckPlugins refuses a vassal config that needs a plugin imperial lacks (it
// would need --emperor-wrapper to run with uWSGI). file is the config file, or
// empty with config holding the text.
func CheckPlugins(file string, cfg []byte) error {
	name := file
	if name == "" {
		return nil // config-based vassals are checked by the vassal when it loads them
	}
	src := cfg
	if src == nil {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil // the vassal reports it itself
		}
		src = data
	}
	adapt, ok := config.AdapterFor(name)
	if !ok {
		return nil
	}
	opts, err := adapt(src, name)
	if err != nil {
		return nil // the vassal reports the syntax error with its line
	}
	for _, key := range []string{"plugin", "plugins", "need-plugin", "need-plugins"} {
		for _, o := range opts {
			if o.Key != key {
				continue
			}
			for _, p := range strings.FieldsFunc(o.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				p = strings.TrimSuffix(strings.TrimSuffix(p, ".so"), "_plugin")
				if i := strings.LastIndexByte(p, '/'); i >= 0 {
					p = p[i+1:]
				}
				if p != "" && !imperialPlugins(p) {
					return fmt.Errorf("vassal %s needs the %q plugin (%s:%d), which imperial does not have: "+
						"run such vassals with uWSGI through --emperor-wrapper (e.g. emperor-wrapper = /usr/bin/uwsgi)",
						file, p, o.File, o.Line)
				}
			}
		}
	}
	return nil
}

// New builds the application.
func New(s Settings) gen.ApplicationBehavior { return &app{s: s} }

type app struct {
	s Settings
}

func (a *app) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        AppName,
		Description: "uWSGI Emperor: vassals from dir/glob/... sources, and the vassal side in an imperial vassal",
		// permanent: the emperor is what this node is for, as uWSGI's emperor is its process
		Mode: gen.ApplicationModePermanent,
		Group: []gen.ApplicationMemberSpec{{
			Name:    supervisors.EmperorSupName,
			Factory: supervisors.EmperorSup,
			Args:    []any{a.s.Sup},
		}},
	}, nil
}

func (a *app) Start(mode gen.ApplicationMode) {
	if a.s.Registry != nil && a.s.Sup.Emperor != nil {
		a.s.Registry.RegisterModule(ModuleName, Module{})
	}
}

func (a *app) Terminate(reason error) {
	if a.s.Registry != nil && a.s.Sup.Emperor != nil {
		a.s.Registry.UnregisterModule(ModuleName)
	}
}
