package fastrouter

// fastrouter: one FastRouter (all its --fastrouter sockets and its stats server).
//
// Accepts  nothing of its own (unexpected messages are logged).
// Spawns   one listener meta process per Options.Listen address, which hands
//          each accepted connection to an idle session meta process, or spawns
//          one (a session owns one client connection and its node socket at a
//          time, and is reused); one stats meta process when Options.Stats is
//          set.
// Owns     the active-session counter its meta processes share (atomic); the
//          sockets belong to the meta processes.

import (
	"fmt"
	"sync/atomic"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
)

// DefaultTimeout is --fastrouter-timeout.
const DefaultTimeout = 60 * time.Second

// Options configure a FastRouter.
type Options struct {
	Listen       []string // --fastrouter addresses
	Stats        string   // --fastrouter-stats address, or ""
	Subscription any      // the subscription server; nil means subscription.Name
	// Table is the subscription server's table when it runs on this node
	// (subscription.Options.Table): sessions pick nodes in it directly.
	Table   *subscription.Shared
	Timeout time.Duration // connect and idle read/write; 0 means DefaultTimeout
	Retries int           // connect attempts after a refusal; 0 means subscription.DefaultRetries
	// SubscriptionServers are listed in the stats' "fastrouter" array after
	// the listeners, as uWSGI lists every socket the router owns.
	SubscriptionServers []string
	// Version is shown in the stats; empty means "imperial".
	Version string
}

var _ act.ActorBehavior = (*fastrouter)(nil)

// Factory makes a FastRouter; spawn it with Options as its one argument.
func Factory() gen.ProcessBehavior { return &fastrouter{} }

type fastrouter struct {
	act.Actor
	shared *shared
}

// shared is what the router's meta processes read: fixed after Init, except
// the atomic counter.
type shared struct {
	client  subscription.Client
	timeout time.Duration
	addrs   []string // bound listener addresses
	subs    []string
	version string
	active  atomic.Int64 // connections being served
	// conns hands accepted connections to idle sessions (unbuffered: a send
	// succeeds only when a session waits for one).
	conns    chan int
	sessions atomic.Int64 // live session meta processes
}

func (f *fastrouter) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	opts, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	if len(opts.Listen) == 0 {
		return fmt.Errorf("%w: no address to listen on", ErrOptions)
	}
	if opts.Subscription == nil {
		opts.Subscription = subscription.Name
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Version == "" {
		opts.Version = "imperial"
	}
	sh := &shared{
		client: subscription.Client{Server: opts.Subscription, Timeout: opts.Timeout, Retries: opts.Retries,
			Table: opts.Table},
		timeout: opts.Timeout,
		subs:    opts.SubscriptionServers,
		version: opts.Version,
		conns:   make(chan int),
	}
	var listeners []*listener
	for _, addr := range opts.Listen {
		m, err := listen(addr, sh)
		if err != nil {
			for _, m := range listeners {
				m.Terminate(err)
			}
			return fmt.Errorf("fastrouter %s: %w", addr, err)
		}
		listeners = append(listeners, m)
		sh.addrs = append(sh.addrs, m.l.Addr().String())
	}
	f.shared = sh
	for i, m := range listeners {
		if _, err := f.SpawnMeta(m, gen.MetaOptions{}); err != nil {
			for _, m := range listeners[i:] {
				m.Terminate(err)
			}
			return fmt.Errorf("fastrouter %s: %w", m.l.Addr(), err)
		}
		f.Log().Info("uWSGI fastrouter bound on %s", m.l.Addr())
	}
	if opts.Stats != "" {
		l, err := subscription.Listen(opts.Stats)
		if err != nil {
			return fmt.Errorf("fastrouter stats %s: %w", opts.Stats, err)
		}
		m := &stats{l: l, sh: sh}
		if _, err := f.SpawnMeta(m, gen.MetaOptions{MailboxSize: 16}); err != nil {
			m.Terminate(err)
			return fmt.Errorf("fastrouter stats %s: %w", opts.Stats, err)
		}
		f.Log().Info("*** fastrouter stats server enabled on %s ***", l.Addr())
	}
	return nil
}

func (f *fastrouter) HandleMessage(from gen.PID, message any) error {
	f.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}

// listen binds addr for a listener meta process (TCP_DEFER_ACCEPT, raw
// accepts: subscription.ListenRaw).
func listen(addr string, sh *shared) (*listener, error) {
	l, f, err := subscription.ListenRaw(addr)
	if err != nil {
		return nil, err
	}
	return &listener{l: l, f: f, sh: sh, done: make(chan struct{})}, nil
}
