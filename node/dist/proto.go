package dist

import (
	"errors"
	"fmt"
	"time"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
	"imperial/node/handshake"
)

// Version is the protocol key ergo routes by (ergo-network §1.2): only Name and
// Release count, and the registrar must return exactly this value in its routes.
var Version = gen.Version{Name: "ErlDistProto", Release: "6", License: gen.LicenseMIT}

// Defaults and limits.
const (
	// DefaultMaxMessageSize bounds one frame (and one reassembled fragment
	// sequence); a larger frame closes the connection (ergo never checks it).
	DefaultMaxMessageSize = 128 << 20
	// DefaultTickTime is net_ticktime: a peer silent for longer is dropped.
	DefaultTickTime = 60 * time.Second
	// maxPending bounds the per-connection call and job tables.
	maxPending = 1 << 20
)

// Errors.
var (
	ErrMalformed      = errors.New("dist: malformed control message")
	ErrFrameTooLarge  = errors.New("dist: frame too large")
	ErrNotJoined      = errors.New("dist: connection has no socket")
	ErrAlreadyJoined  = errors.New("dist: connection already has a socket")
	ErrTooManyPending = errors.New("dist: too many pending requests")
	ErrCustom         = errors.New("dist: handshake result carries no negotiated flags")
)

// Options configure the protocol.
type Options struct {
	// RPCName is the registered process that runs erpc and rpc work
	// (RequestExecute); empty refuses SPAWN_REQUEST with notsup.
	RPCName gen.Atom
	// RPCWorkers, when set, are registered processes that each run RequestExecute:
	// jobs go to them round robin, one mailbox hop fewer than through RPCName.
	RPCWorkers []gen.Atom
	// MaxMessageSize bounds a frame; 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// TickTime is the net_ticktime of this node; 0 means DefaultTickTime.
	TickTime time.Duration
	// Limits bound every decoded term; zero fields take etf.DefaultLimits.
	Limits etf.Limits
}

// Proto implements gen.NetworkProto for Erlang distribution.
type Proto struct {
	opts Options
}

var _ gen.NetworkProto = (*Proto)(nil)

// New returns the protocol with defaults filled in.
func New(opts Options) *Proto {
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.TickTime <= 0 {
		opts.TickTime = DefaultTickTime
	}
	d := etf.DefaultLimits
	if opts.Limits.MaxSize == 0 {
		opts.Limits.MaxSize = opts.MaxMessageSize
	}
	if opts.Limits.MaxDepth == 0 {
		opts.Limits.MaxDepth = d.MaxDepth
	}
	if opts.Limits.MaxAtomChars == 0 {
		opts.Limits.MaxAtomChars = d.MaxAtomChars
	}
	if opts.Limits.MaxElements == 0 {
		opts.Limits.MaxElements = d.MaxElements
	}
	return &Proto{opts: opts}
}

// Version returns the routing key of this protocol.
func (p *Proto) Version() gen.Version { return Version }

// NewConnection builds the connection for a finished handshake. It starts no
// goroutine and holds no socket: ergo may drop it unjoined (ergo-network P3).
func (p *Proto) NewConnection(core gen.Core, result gen.HandshakeResult, log gen.Log) (gen.Connection, error) {
	neg, ok := result.Custom.(handshake.Negotiated)
	if !ok {
		return nil, fmt.Errorf("%w (%T)", ErrCustom, result.Custom)
	}
	return newConn(p.opts, core, result, neg, log), nil
}

// Serve runs the read loop of one connection until its socket closes. It is the
// goroutine ergo owns (and recovers) for the connection.
func (p *Proto) Serve(c gen.Connection, _ gen.NetworkDial) error {
	cn, ok := c.(*conn)
	if !ok {
		return fmt.Errorf("dist: foreign connection %T", c)
	}
	select {
	case <-cn.joined:
	case <-cn.done:
		return ErrNotJoined
	}
	return cn.readLoop()
}
