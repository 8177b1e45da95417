package http

// front: one HTTP router (all its --http sockets).
//
// Accepts  nothing of its own (unexpected messages are logged).
// Spawns   one listener meta process per Options.Listen address, which spawns
//          one session meta process per client connection.
// Owns     nothing shared: the sockets belong to the meta processes.

import (
	"fmt"
	"net"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
)

// Defaults.
const (
	DefaultTimeout = 60 * time.Second
	// DefaultMaxBody bounds a chunked request body, which must be buffered
	// to give the node its CONTENT_LENGTH.
	DefaultMaxBody = 16 << 20
	// DefaultKeepAlive is how long an idle client connection is kept.
	DefaultKeepAlive = 15 * time.Second
)

// Options configure an HTTP front.
type Options struct {
	Listen       []string // --http addresses
	Subscription any      // the subscription server; nil means subscription.Name
	// Table is the subscription server's table when it runs on this node
	// (subscription.Options.Table): sessions pick nodes in it directly.
	Table     *subscription.Shared
	Timeout   time.Duration // connect and idle read/write towards nodes; 0 means DefaultTimeout
	KeepAlive time.Duration // idle client connection; 0 means DefaultKeepAlive, <0 disables keep-alive
	Retries   int
	MaxBody   int64 // chunked request bodies; 0 means DefaultMaxBody
}

var _ act.ActorBehavior = (*front)(nil)

// Factory makes an HTTP front; spawn it with Options as its one argument.
func Factory() gen.ProcessBehavior { return &front{} }

type front struct {
	act.Actor
}

// shared is what the front's meta processes read; fixed after Init.
type shared struct {
	client    subscription.Client
	timeout   time.Duration
	keepAlive time.Duration
	maxBody   int64
}

func (f *front) Init(args ...any) error {
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
	if opts.KeepAlive == 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	sh := &shared{
		client: subscription.Client{Server: opts.Subscription, Timeout: opts.Timeout, Retries: opts.Retries,
			Table: opts.Table},
		timeout:   opts.Timeout,
		keepAlive: opts.KeepAlive,
		maxBody:   opts.MaxBody,
	}
	var ls []net.Listener
	for _, addr := range opts.Listen {
		l, err := subscription.Listen(addr)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return fmt.Errorf("http %s: %w", addr, err)
		}
		ls = append(ls, l)
	}
	for _, l := range ls {
		m := &listener{l: l, sh: sh}
		if _, err := f.SpawnMeta(m, gen.MetaOptions{}); err != nil {
			m.Terminate(err)
			return fmt.Errorf("http %s: %w", l.Addr(), err)
		}
		f.Log().Info("uWSGI http bound on %s", l.Addr())
	}
	return nil
}

func (f *front) HandleMessage(from gen.PID, message any) error {
	f.Log().Warning("unexpected message from %s: %T", from, message)
	return nil
}
