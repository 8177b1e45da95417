package ernie

import (
	"ergo.services/ergo/gen"

	"imperial/ernie"
	"imperial/ernie/accesslog"
)

// Registered names.
const (
	// ServerName is the ernie_server actor.
	ServerName gen.Atom = "ernie_server"
	// BeamName is the actor that owns the BEAM peer; the peer reports to
	// {ernie_beam, ImperialNode}.
	BeamName gen.Atom = "ernie_beam"
	// SupName is the Ernie supervisor.
	SupName gen.Atom = "ernie_sup"
	// AppName is the Ernie application.
	AppName gen.Atom = "ernie"
	// PoolPrefix + module names the pool of an external entry.
	PoolPrefix = "ernie_pool_"
)

// PoolName names the extworker pool of an external entry for module.
func PoolName(module string) gen.Atom { return gen.Atom(PoolPrefix + module) }

// MessageBeamReady is sent by ernie_beam to its subscribers once the BEAM
// peer has loaded the native Erlang modules (and again after each restart).
type MessageBeamReady struct {
	Peer    gen.Atom                    // the peer's node name
	Exports map[string][]ernie.FunArity // module → exported functions
	Err     string                      // non-empty: a module failed to load
	// RPC: the peer's call server runs (else calls go through
	// Options.ErlangRPC).
	RPC bool
}

// MessageBeamSubscribe asks ernie_beam for MessageBeamReady (at once if the
// peer is ready).
type MessageBeamSubscribe struct{}

// RequestDispatcher asks ernie_server for the dispatcher (Call); the
// response is ResponseDispatcher (Ready false until the server serves).
type RequestDispatcher struct{}

// ResponseDispatcher carries the immutable dispatcher used by Call.
type ResponseDispatcher struct {
	Ready bool
	D     *Dispatcher
}

// messageServe: ernie_server may start serving (from itself).
type messageServe struct{}

// messageBeamTimeout: the BEAM peer did not become ready in time.
type messageBeamTimeout struct{}

// messageAdmin is an '__admin__' call read by a connection; the answer
// goes on reply, which has room for it.
type messageAdmin struct {
	admin ernie.Admin
	id    uint64
	reply chan<- messageAdminReply
}

// messageAdminReply answers messageAdmin.
type messageAdminReply struct {
	id   uint64
	text string
}

// messageHaltCheck: ernie_server checks whether a halt has drained.
type messageHaltCheck struct{}

// messageStopMeta asks a meta process of ernie_server to terminate.
type messageStopMeta struct{}

// messageAccess is one access-log line for the access-log meta.
type messageAccess struct {
	entry accesslog.Entry
}

// castTag travels with an external cast through its pool and back to
// ernie_server, which counts it completed and logs it.
type castTag struct {
	entry accesslog.Entry // Wait holds accept → hand-over to the pool
	log   bool
}
