// Package subscription runs uWSGI's subscription system on both sides.
//
// The server (actor Name, server.go) owns the key → nodes table of every router
// on this node (Table, table.go): it receives subscription datagrams through its
// UDP meta process (udp_meta.go), keeps nodes per key with lazy expiry, picks a
// node per request (weighted round robin, or least reference count), marks
// nodes that refuse connections as failed, and answers the routers' stats. It
// forwards every datagram it received from the network to the same-named
// process on each connected node, so the routers of a cluster share one view
// (shared/specs/uwsgi.md §2.4–§2.7).
//
// The routers of the same node pick and release nodes in the server's table
// directly (Shared, shared.go), without a message per request. The sockets
// of the uwsgi request path (routers and workers alike) are raw non-blocking
// descriptors that meet the runtime poller only when a call would block
// (Socket, Acceptor, ListenRaw in socket.go; raw system calls in internal/nbio).
//
// The announcer (announcer.go) is the subscriber side: one actor per
// --subscribe-to / --subscribe2 that announces at start, one second later and
// then every Freq, and unsubscribes when it stops (§2.2, §2.3).
//
// It imports actors/wire/subscription and actors/wire/uwsgi (the codecs),
// node/etf (cluster forwarding terms) and ergo. It must not import apps,
// supervisors, rel or another actor package. It is imported by
// actors/fastrouter and actors/http (Shared, Picker, Socket, Name),
// actors/worker (Announcer, Socket), supervisors and apps.
package subscription

import "errors"

// Errors returned by this package; test them with errors.Is.
var (
	ErrOptions   = errors.New("subscription: bad options")
	ErrSignature = errors.New("subscription: bad signature")
	ErrSignKey   = errors.New("subscription: bad signing key")
)
