package handshake

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"ergo.services/ergo/gen"
)

// DefaultSetupTimeout is erl's net_setuptime: a handshake step that makes no progress for this long fails.
const DefaultSetupTimeout = 7 * time.Second

// readChunk is how much one conn.Read asks for. A read may run past the last handshake message into the
// peer's first 4-byte frames; those bytes end up in HandshakeResult.Tail.
const readChunk = 512

// Errors of the handshake algorithm (Accept and Start). Codec errors (ErrNeedMore aside) are returned
// wrapped as they are.
var (
	// ErrMissingFlags says the peer (Accept) or the flag intersection (Start) lacks a mandatory flag.
	ErrMissingFlags = errors.New("handshake: peer cannot handle mandatory flags")
	// ErrRefused says the peer answered nok, not_allowed or false.
	ErrRefused = errors.New("handshake: refused by peer")
	// ErrBadStatus says the peer sent a status this step does not allow.
	ErrBadStatus = errors.New("handshake: unexpected status")
	// ErrBadDigest says the peer's digest does not match: the cookies differ.
	ErrBadDigest = errors.New("handshake: digest mismatch (wrong cookie)")
	// ErrConcurrentStart says another Start to the same peer completed (or is still running) while this
	// one waited; the caller should use that connection.
	ErrConcurrentStart = errors.New("handshake: another handshake with this peer won")
)

// Version returns the gen.Version of this handshake. ergo routes by its Name:Release ("ErlDist:6"), so the
// registrar's Resolve must return exactly this value.
func Version() gen.Version {
	return gen.Version{Name: "ErlDist", Release: "6", License: gen.LicenseMIT}
}

// Options configure a Handshake. The zero value is a visible node that uses ergo's cookie and never
// answers alive.
type Options struct {
	// Flags are the DFLAGs we advertise; 0 means DefaultFlags.
	Flags uint64
	// SetupTimeout bounds each handshake step (each read or write); 0 means DefaultSetupTimeout.
	SetupTimeout time.Duration
	// Cookie returns the cookie for a peer; nil means gen.HandshakeOptions.Cookie (see ergo-network.md P9 for
	// why that one may be stale on inbound sockets).
	Cookie func(peer gen.Atom) string
	// Alive reports whether a live connection to peer exists, and how to drop it. Accept answers such a
	// peer with status alive; if the peer answers true and proves the cookie, Accept calls disconnect
	// (which must return only once the old connection has left ergo's registry) before sending 'a'.
	// nil means no peer is ever connected.
	Alive func(peer gen.Atom) (disconnect func(), ok bool)
	// Hidden removes FlagPublished from Flags.
	Hidden bool
}

// Negotiated is what Accept and Start hand to node/dist in gen.HandshakeResult.Custom.
type Negotiated struct {
	Flags        uint64 // ours AND theirs, both expanded with ExpandFlags
	PeerFlags    uint64 // the peer's flags as sent
	PeerCreation uint32
	Peer         gen.Atom
}

// Handshake is the Erlang distribution handshake as a gen.NetworkHandshake. It is safe for concurrent
// use; its only state is the single-flight table of Start.
type Handshake struct {
	flags   uint64
	timeout time.Duration
	cookie  func(gen.Atom) string
	alive   func(gen.Atom) (func(), bool)

	mu      sync.Mutex
	flights map[string]*flight // running Starts by "addr "+remote address and "node "+peer name
	onWait  func(key string)   // test hook: a Start is about to wait for key; nil outside tests
}

var _ gen.NetworkHandshake = (*Handshake)(nil)

// New returns a Handshake for opts.
func New(opts Options) *Handshake {
	h := &Handshake{
		flags:   opts.Flags,
		timeout: opts.SetupTimeout,
		cookie:  opts.Cookie,
		alive:   opts.Alive,
		flights: make(map[string]*flight),
	}
	if h.flags == 0 {
		h.flags = DefaultFlags
	}
	if opts.Hidden {
		h.flags &^= FlagPublished
	}
	if h.timeout <= 0 {
		h.timeout = DefaultSetupTimeout
	}
	return h
}

// Flags returns the DFLAGs this handshake advertises.
func (h *Handshake) Flags() uint64 { return h.flags }

// Version implements gen.NetworkHandshake; it returns Version().
func (h *Handshake) Version() gen.Version { return Version() }

// NetworkFlags implements gen.NetworkHandshake. These are ergo's ENP feature bits, which mean nothing on an
// Erlang link; they only mirror the DFLAGs for ergo's introspection.
func (h *Handshake) NetworkFlags() gen.NetworkFlags {
	return gen.NetworkFlags{
		Enable:              true,
		EnableRemoteSpawn:   h.flags&FlagSpawn != 0,
		EnableFragmentation: h.flags&FlagFragments != 0,
	}
}

// Join implements gen.NetworkHandshake. Erlang has one socket per node pair, so it is never supported.
func (h *Handshake) Join(gen.NodeHandshake, net.Conn, string, gen.HandshakeOptions) ([]byte, error) {
	return nil, gen.ErrUnsupported
}

func (h *Handshake) cookieFor(peer gen.Atom, opts gen.HandshakeOptions) string {
	if h.cookie != nil {
		return h.cookie(peer)
	}
	return opts.Cookie
}

func (h *Handshake) result(n Negotiated, tail []byte) gen.HandshakeResult {
	var t []byte
	if len(tail) > 0 {
		t = append([]byte(nil), tail...)
	}
	return gen.HandshakeResult{
		HandshakeVersion: Version(),
		ConnectionID:     rand.Text(),
		Peer:             n.Peer,
		PeerCreation:     int64(n.PeerCreation),
		NodeFlags:        h.NetworkFlags(),
		Tail:             t,
		Custom:           n,
	}
}

// newChallenge returns a random challenge different from avoid.
func newChallenge(avoid uint32) uint32 {
	var b [4]byte
	for {
		rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		if c := binary.BigEndian.Uint32(b[:]); c != avoid {
			return c
		}
	}
}

// stream reads and writes handshake messages on conn, each step under a fresh deadline. buf holds bytes
// read but not yet parsed.
type stream struct {
	conn    net.Conn
	timeout time.Duration
	buf     []byte
	read    bool // anything was read at all
}

func (s *stream) write(b []byte) error {
	if err := s.conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		return fmt.Errorf("handshake: set deadline: %w", err)
	}
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("handshake: write: %w", err)
	}
	return nil
}

// clear removes the deadline: after the handshake the socket belongs to node/dist.
func (s *stream) clear() { s.conn.SetDeadline(time.Time{}) }

// next parses one message with parse, reading from conn until it is complete.
func next[T any](s *stream, what string, parse func([]byte) (T, int, error)) (T, error) {
	var chunk [readChunk]byte
	for {
		m, n, err := parse(s.buf)
		if err == nil {
			s.buf = s.buf[n:]
			return m, nil
		}
		if !errors.Is(err, ErrNeedMore) {
			return m, fmt.Errorf("reading %s: %w", what, err)
		}
		if err := s.conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
			return m, fmt.Errorf("handshake: set deadline: %w", err)
		}
		k, err := s.conn.Read(chunk[:])
		s.buf = append(s.buf, chunk[:k]...)
		if k > 0 {
			s.read = true
			continue
		}
		if err == io.EOF && !s.read {
			return m, io.EOF // a port probe: ergo logs nothing for a bare io.EOF
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return m, fmt.Errorf("handshake: reading %s: %w", what, err)
	}
}

// flight is one running Start; done is closed when it ends, ok tells whether it completed.
type flight struct {
	done chan struct{}
	ok   bool
}

// claim makes this Start the only one running under key. If another holds key, claim waits (at most one
// setup timeout) for it to end: if it completed, the caller must give up with ErrConcurrentStart; if it
// failed, the caller takes over. The returned finish records the outcome and must be called once.
func (h *Handshake) claim(key string) (finish func(ok bool), err error) {
	var timeout <-chan time.Time
	for {
		h.mu.Lock()
		f, busy := h.flights[key]
		if !busy {
			f = &flight{done: make(chan struct{})}
			h.flights[key] = f
			h.mu.Unlock()
			return func(ok bool) {
				h.mu.Lock()
				f.ok = ok
				delete(h.flights, key)
				h.mu.Unlock()
				close(f.done)
			}, nil
		}
		h.mu.Unlock()
		if h.onWait != nil {
			h.onWait(key)
		}
		if timeout == nil {
			t := time.NewTimer(h.timeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-f.done:
			if f.ok {
				return nil, fmt.Errorf("%w: %s completed meanwhile", ErrConcurrentStart, key)
			}
		case <-timeout:
			return nil, fmt.Errorf("%w: %s still in progress", ErrConcurrentStart, key)
		}
	}
}
