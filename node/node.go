// Package node makes an ergo v3 node an Erlang distribution node: it wires
// node/epmd (gen.Registrar), node/handshake (gen.NetworkHandshake) and node/dist
// (gen.NetworkProto) into ergo, starts node/kernel (net_kernel, rex, global, the
// RPC pool, imperial_echo), and offers the outbound API apps use to reach other
// Erlang nodes (Connect, RPC, Send, Mailbox, Close).
//
// Import rules: node imports its subpackages and ergo; apps and rel/imperial
// import node. Nothing below node imports it.
package node

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/gen"

	"imperial/node/dist"
	"imperial/node/epmd"
	"imperial/node/handshake"
	"imperial/node/kernel"
	"imperial/node/rpc"
)

// Options configure an Erlang node.
type Options struct {
	// Name is node@host, or a bare name expanded as erl -sname (or -name with Long).
	Name string
	Long bool
	// Cookie; empty reads ~/.erlang.cookie as erl does (creating it if missing).
	Cookie string
	// Hidden nodes are not published: erl's nodes() omits them, global ignores them.
	Hidden bool
	// NoNetwork runs the node without distribution (no epmd, no listener).
	NoNetwork bool
	// ListenHost is the address the distribution port binds; default 127.0.0.1.
	ListenHost string
	// Port is the distribution port; 0 picks a free one.
	Port uint16
	// EPMDPort is the epmd port (default ERL_EPMD_PORT or 4369); an embedded epmd
	// serves it when none answers.
	EPMDPort int
	// TickTime is net_ticktime (default 60 s).
	TickTime time.Duration
	// Registry is the RPC stack; nil makes one. The built-ins are added to it.
	Registry *rpc.Registry
	// RPCWorkers sizes the imperial_rpc pool (default 4 × GOMAXPROCS).
	RPCWorkers int
	// Applications start after the kernel application.
	Applications []gen.ApplicationBehavior
	// Base carries ergo options (logging, env, security); its Network and
	// Applications fields are set here.
	Base gen.NodeOptions
}

// Start starts the node and registers it with epmd.
func Start(o Options) (gen.Node, error) {
	full, long, err := ResolveName(o.Name, o.Long)
	if err != nil {
		return nil, err
	}
	_ = long
	if o.Cookie == "" && !o.NoNetwork {
		if o.Cookie, err = ReadCookie(); err != nil {
			return nil, err
		}
	}
	if o.ListenHost == "" {
		o.ListenHost = "127.0.0.1"
	}
	if o.Port == 0 && !o.NoNetwork {
		if o.Port, err = freePort(o.ListenHost); err != nil {
			return nil, err
		}
	}
	if o.Registry == nil {
		o.Registry = rpc.NewRegistry()
	}
	kernel.RegisterBuiltins(o.Registry)

	var started atomic.Value // gen.Node, once StartNode returns
	cookie := o.Cookie
	hs := handshake.New(handshake.Options{
		Hidden: o.Hidden,
		Cookie: func(gen.Atom) string { return cookie },
		Alive: func(peer gen.Atom) (func(), bool) {
			n, _ := started.Load().(gen.Node)
			if n == nil {
				return nil, false
			}
			rn, err := n.Network().Node(peer)
			if err != nil {
				return nil, false
			}
			return func() {
				rn.Disconnect()
				deadline := time.Now().Add(2 * time.Second)
				for time.Now().Before(deadline) {
					if _, err := n.Network().Node(peer); err != nil {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}, true
		},
	})
	if o.RPCWorkers <= 0 {
		o.RPCWorkers = kernel.DefaultWorkers()
	}
	workers := kernel.RPCWorkerNames(o.RPCWorkers)
	proto := dist.New(dist.Options{RPCName: workers[0], RPCWorkers: workers, TickTime: o.TickTime})
	if !o.Hidden && !o.NoNetwork {
		startEPMD(o.EPMDPort)
	}
	reg := epmd.New(epmd.Options{Port: o.EPMDPort, HandshakeVersion: hs.Version(), ProtoVersion: proto.Version()})

	opts := o.Base
	if opts.Env == nil {
		opts.Env = map[gen.Env]any{}
	}
	opts.Env["disable_metrics"] = true // otherwise ergo phones home every 5 minutes
	mode := gen.NetworkModeEnabled
	if o.Hidden {
		mode = gen.NetworkModeHidden
	}
	if o.NoNetwork {
		mode = gen.NetworkModeDisabled
	}
	opts.Network = gen.NetworkOptions{
		Mode:      mode,
		Cookie:    o.Cookie,
		Registrar: reg,
		Handshake: hs,
		Proto:     proto,
		Acceptors: []gen.AcceptorOptions{{
			Host:      o.ListenHost,
			Port:      o.Port,
			PortRange: o.Port,
			Handshake: hs,
			Proto:     proto,
		}},
	}
	opts.Applications = append([]gen.ApplicationBehavior{kernel.CreateApp(kernel.Options{
		Registry: o.Registry, Workers: o.RPCWorkers})}, o.Applications...)
	n, err := ergo.StartNode(gen.Atom(full), opts)
	if err != nil {
		return nil, err
	}
	if !o.NoNetwork {
		n.Network().RegisterHandshake(hs)
		n.Network().RegisterProto(proto)
	}
	started.Store(n)
	return n, nil
}

func freePort(host string) (uint16, error) {
	l, err := net.Listen("tcp4", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("node: find a free port on %s: %w", host, err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	port, err := strconv.Atoi(p)
	if err != nil {
		return 0, errors.New("node: bad listener address")
	}
	return uint16(port), nil
}
