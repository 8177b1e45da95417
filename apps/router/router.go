// Package router is the routing service: uWSGI's FastRouter (--fastrouter),
// its subscription server (--fastrouter-subscription-server,
// --http-subscription-server) and the HTTP front in router mode (--http with a
// subscription server and no app). It reads the options it owns into the typed
// Options of actors/subscription, actors/fastrouter and actors/http and builds
// the application around supervisors.RouterSup.
//
// Every subscription server address of the instance feeds one table (one
// subscription actor per node), which every router of the node reads; with
// subscription-cluster (default on) the table is shared with the routers of
// every connected imperial node.
//
// Erlang nodes read the table with rpc:call(Node, imperial_router,
// subscriptions, []) (rpc.go).
//
// Import rules: it imports apps/config, supervisors, node/rpc, node/etf and
// the actor packages above; apps imports it for its entry in apps.Services, apps/worker for
// HTTPRouterMode.
package router

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/fastrouter"
	httpfront "imperial/actors/http"
	"imperial/actors/subscription"
	"imperial/apps/config"
	"imperial/node/rpc"
	"imperial/supervisors"
)

// ErrOptions: the router options are wrong; the error names file:line.
var ErrOptions = errors.New("router: bad option")

// AppName is the application's name.
const AppName gen.Atom = "router"

// Keys returns the options this service owns. "http" is shared with the
// worker service: it is a router only in HTTPRouterMode.
func Keys() []string {
	return []string{
		"fastrouter", "fastrouter-subscription-server", "fastrouter-stats", "fastrouter-stats-server",
		"fastrouter-ss", "fastrouter-timeout", "fastrouter-subscription-fallback-key", "fastrouter-max-retries",
		"fastrouter-quiet", "subscription-tolerance", "subscription-algo", "subscription-dotsplit",
		"subscriptions-sign-check", "subscriptions-sign-check-tolerance", "subscription-cluster",
		"http", "http-subscription-server", "http-timeout", "http-keepalive",
		"fastrouter-processes", "fastrouter-workers", "http-processes", "http-workers",
	}
}

// Processes is how many routing processes uWSGI would prefork for these
// options (--fastrouter-processes, --http-processes, or their -workers
// aliases; 1 by default): an instance that only routes runs on that many
// scheduler threads, as uWSGI's router is that many one-threaded processes.
func Processes(opts []config.Option) (int, error) {
	n := 1
	for _, k := range []string{"fastrouter-processes", "fastrouter-workers", "http-processes", "http-workers"} {
		v, err := config.Int(opts, k, 1)
		if err != nil {
			return 0, err
		}
		if v < 1 {
			return 0, fmt.Errorf("router: --%s %d: want at least 1", k, v)
		}
		n = max(n, v)
	}
	return n, nil
}

// appKeys are the options that give an instance an app of its own (then
// --http serves it instead of routing).
var appKeys = []string{"app", "module", "wsgi", "wsgi-file", "file", "mount"}

// HTTPRouterMode reports whether --http routes to subscribed nodes: the
// instance has a subscription server and no app of its own.
func HTTPRouterMode(opts []config.Option) bool {
	for _, k := range appKeys {
		if _, ok := config.Get(opts, k); ok {
			return false
		}
	}
	_, fs := config.Get(opts, "fastrouter-subscription-server")
	_, hs := config.Get(opts, "http-subscription-server")
	return fs || hs
}

// Wants reports whether the options ask for a router.
func Wants(opts []config.Option) bool {
	if _, ok := config.Get(opts, "fastrouter"); ok {
		return true
	}
	_, h := config.Get(opts, "http")
	return h && HTTPRouterMode(opts)
}

// Env is what the service needs from the node besides its options.
type Env struct {
	Registry *rpc.Registry // where the imperial_router RPC module registers; nil: none
}

// Create builds the router application from the options.
func Create(env Env, opts []config.Option) (gen.ApplicationBehavior, error) {
	s, err := Parse(opts)
	if err != nil {
		return nil, err
	}
	return &app{o: s, reg: env.Registry}, nil
}

// Parse reads the options into the supervisor's options.
func Parse(opts []config.Option) (supervisors.RouterSupOptions, error) {
	var errs []error
	bad := func(key string, err error) {
		o, _ := config.Lookup(opts, key)
		errs = append(errs, fmt.Errorf("%w: %s:%d: %s: %v", ErrOptions, o.File, o.Line, key, err))
	}
	seconds := func(key string, def int) time.Duration {
		v, err := config.Int(opts, key, def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrOptions, err))
			return time.Duration(def) * time.Second
		}
		if v < 0 {
			bad(key, fmt.Errorf("negative value %d", v))
		}
		return time.Duration(v) * time.Second
	}
	flag := func(key string, def bool) bool {
		if _, ok := config.Get(opts, key); !ok {
			return def
		}
		v, err := config.Bool(opts, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrOptions, err))
		}
		return v
	}
	var o supervisors.RouterSupOptions
	subs := append(config.All(opts, "fastrouter-subscription-server"), config.All(opts, "http-subscription-server")...)
	algo, _ := config.Get(opts, "subscription-algo")
	a, err := subscription.ParseAlgo(algo)
	if err != nil {
		bad("subscription-algo", err)
	}
	fallback, _ := config.Get(opts, "fastrouter-subscription-fallback-key")
	sign, _ := config.Get(opts, "subscriptions-sign-check")
	if sign != "" {
		if _, err := subscription.NewChecker(sign); err != nil {
			bad("subscriptions-sign-check", err)
		}
	}
	o.Subscription = subscription.Options{
		Listen:        subs,
		Tolerance:     seconds("subscription-tolerance", 17),
		Algo:          a,
		DotSplit:      flag("subscription-dotsplit", false),
		FallbackKey:   fallback,
		SignCheck:     sign,
		SignTolerance: seconds("subscriptions-sign-check-tolerance", 86400),
		Cluster:       flag("subscription-cluster", true),
		Quiet:         flag("fastrouter-quiet", false),
		// one table for the server and this node's routers, which pick
		// nodes in it without a message per request
		Table: subscription.NewShared(),
	}
	if fr := config.All(opts, "fastrouter"); len(fr) > 0 {
		stats := ""
		for _, k := range []string{"fastrouter-stats", "fastrouter-stats-server", "fastrouter-ss"} {
			if v, ok := config.Get(opts, k); ok {
				stats = v
			}
		}
		retries, err := config.Int(opts, "fastrouter-max-retries", 0)
		if err != nil || retries < 0 {
			bad("fastrouter-max-retries", fmt.Errorf("want a count, got %v", err))
		}
		o.FastRouter = &fastrouter.Options{
			Listen:              fr,
			Stats:               stats,
			Timeout:             seconds("fastrouter-timeout", 60),
			Retries:             retries,
			SubscriptionServers: subs,
			Version:             "imperial",
			Table:               o.Subscription.Table,
		}
		for _, l := range fr {
			if strings.HasPrefix(l, "=") {
				bad("fastrouter", fmt.Errorf("shared sockets (%s) are not supported", l))
			}
		}
	}
	if h := config.All(opts, "http"); len(h) > 0 && HTTPRouterMode(opts) {
		keep := seconds("http-keepalive", 15)
		if v, _ := config.Get(opts, "http-keepalive"); v == "0" {
			keep = -1
		}
		o.HTTP = &httpfront.Options{Listen: h, Timeout: seconds("http-timeout", 60), KeepAlive: keep,
			Table: o.Subscription.Table}
	}
	if o.FastRouter == nil && o.HTTP == nil {
		errs = append(errs, fmt.Errorf("%w: no --fastrouter and no --http in router mode", ErrOptions))
	}
	return o, errors.Join(errs...)
}

// New builds the application.
func New(o supervisors.RouterSupOptions) gen.ApplicationBehavior { return &app{o: o} }

type app struct {
	o   supervisors.RouterSupOptions
	reg *rpc.Registry
}

func (a *app) Load(node gen.Node, args ...any) (gen.ApplicationSpec, error) {
	return gen.ApplicationSpec{
		Name:        AppName,
		Description: "uWSGI FastRouter, HTTP front and subscription server",
		// permanent: routing is what this instance is for; if its supervisor
		// gives up, the node stops, as a uWSGI router process would exit
		Mode: gen.ApplicationModePermanent,
		Group: []gen.ApplicationMemberSpec{{
			Name: supervisors.RouterSupName, Factory: supervisors.RouterSup, Args: []any{a.o},
		}},
	}, nil
}

func (a *app) Start(mode gen.ApplicationMode) {
	if a.reg != nil {
		a.reg.RegisterModule(ModuleName, Module{})
	}
}

func (a *app) Terminate(reason error) {
	if a.reg != nil {
		a.reg.UnregisterModule(ModuleName)
	}
}
