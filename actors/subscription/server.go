package subscription

// imperial_subscription: the subscription server of this node's routers.
//
// Accepts  MessageSubscription (from its UDP meta processes: a datagram);
//          etf.Tuple{imperial_subscription, Raw} (a datagram forwarded by the
//          same process on another node, or sent by an Erlang node);
//          MessagePick → MessageNode on the asking session's channel;
//          MessageDone (a session ended); MessageStatsQuery → ResponseStats
//          to the asking meta process.
// Replies  Call RequestStats → ResponseStats.
// Sends    the datagrams it received from the network, to {Name, Node} on
//          every connected node (Options.Cluster).
// Spawns   one UDP meta process per Options.Listen address.
// Owns     the Table (slots, nodes, wrr credit, refcounts) inside
//          Options.Table: routers of this node pick and release nodes on it
//          directly (shared.go says why); the sockets belong to the meta
//          processes.

import (
	"errors"
	"fmt"
	"os"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	wire "imperial/actors/wire/subscription"
	"imperial/node/etf"
)

// Name is the registered name of the subscription server, the same on every
// node so that servers forward datagrams to each other and Erlang nodes can
// inject one: {imperial_subscription, Node} ! {imperial_subscription, Datagram}.
const Name gen.Atom = "imperial_subscription"

// ForwardTag is the first element of a forwarded datagram term.
const ForwardTag = etf.Atom("imperial_subscription")

// MailboxSize bounds the server's mailbox: datagrams and picks beyond it are
// refused by ergo (a datagram is then lost, as UDP may lose it anyway; a
// session gets no node and closes).
const MailboxSize = 1 << 16

// DefaultSignTolerance is --subscriptions-sign-check-tolerance: a signed
// packet creating a slot must not be older than this.
const DefaultSignTolerance = 24 * time.Hour

// Options configure the subscription server.
type Options struct {
	Listen        []string      // UDP "host:port" (contains ':') or unix datagram socket paths
	Tolerance     time.Duration // silence after which a node is failed; 0 means DefaultTolerance
	Algo          Algo
	DotSplit      bool
	FallbackKey   string
	SignCheck     string        // "ALGO:DIR": only signed packets, checked with DIR/<key>.pem
	SignTolerance time.Duration // 0 means DefaultSignTolerance
	Cluster       bool          // forward datagrams from the network to the same process on connected nodes
	Quiet         bool          // no log line per new pool/node
	// Table is the table to keep, shared with this node's routers; nil
	// makes one. It is emptied when the server starts.
	Table *Shared
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

var _ act.ActorBehavior = (*server)(nil)

// Factory makes the subscription server; spawn it registered as Name with
// Options as its one argument and MailboxSize.
func Factory() gen.ProcessBehavior { return &server{} }

type server struct {
	act.Actor
	opts    Options
	table   *Shared
	checker *Checker
	addrs   []string // bound addresses, for stats
}

func (s *server) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	opts, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SignTolerance <= 0 {
		opts.SignTolerance = DefaultSignTolerance
	}
	if opts.Table == nil {
		opts.Table = NewShared()
	}
	s.opts = opts
	t := NewTable()
	t.Tolerance, t.Algo, t.DotSplit, t.FallbackKey = opts.Tolerance, opts.Algo, opts.DotSplit, opts.FallbackKey
	if !opts.Quiet {
		pid := os.Getpid()
		log := s.Log()
		t.Log = func(format string, args ...any) {
			log.Info("[uwsgi-subscription for pid %d] "+format, append([]any{pid}, args...)...)
		}
	}
	opts.Table.reset(t)
	s.table = opts.Table
	if opts.SignCheck != "" {
		c, err := NewChecker(opts.SignCheck)
		if err != nil {
			return err
		}
		s.checker = c
	}
	for _, addr := range opts.Listen {
		m, err := newUDPMeta(addr)
		if err != nil {
			return fmt.Errorf("subscription server %s: %w", addr, err)
		}
		if _, err := s.SpawnMeta(m, gen.MetaOptions{}); err != nil {
			m.Terminate(err)
			return fmt.Errorf("subscription server %s: %w", addr, err)
		}
		s.addrs = append(s.addrs, m.conn.LocalAddr().String())
		s.Log().Info("subscription server bound on %s", m.conn.LocalAddr())
	}
	return nil
}

func (s *server) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case MessagePick:
		if m.Failed != "" {
			s.table.Release(m.FailedKey, m.Failed, 0, 0, true)
		}
		p, found := s.table.Pick(m.Key, s.opts.Now())
		reply := MessageNode{Seq: m.Seq, Found: found, Key: p.Key, Address: p.Address, Modifier1: p.Modifier1, Modifier2: p.Modifier2}
		select {
		case m.Reply <- reply:
		default:
			if found {
				s.table.Release(p.Key, p.Address, 0, 0, false) // the session cannot take it
			}
		}
	case MessageDone:
		s.table.Release(m.Key, m.Address, m.TX, m.RX, m.Failed)
	case MessageSubscription:
		s.receive(m)
	case MessageStatsQuery:
		_ = s.SendAlias(m.ReplyTo, ResponseStats{Slots: s.table.snapshot()})
	case etf.Tuple:
		if len(m) == 2 && m[0] == ForwardTag {
			if raw, ok := m[1].([]byte); ok {
				s.receive(MessageSubscription{Raw: raw, From: from.Node.String()})
				return nil
			}
		}
		s.Log().Warning("unexpected term from %s: %v", from, m)
	default:
		s.Log().Warning("unexpected message from %s: %T", from, message)
	}
	return nil
}

func (s *server) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	switch request.(type) {
	case RequestStats:
		return ResponseStats{Slots: s.table.snapshot()}, nil
	}
	s.Log().Warning("unexpected call from %s: %T", from, request)
	return gen.ErrUnsupported, nil
}

// receive checks and applies one datagram, and forwards it to the cluster
// when it came from the network.
func (s *server) receive(m MessageSubscription) {
	sub, err := wire.Parse(m.Raw)
	if err != nil {
		s.Log().Warning("subscription from %s dropped: %s", m.From, err)
		return
	}
	now := s.opts.Now()
	if s.checker != nil {
		if err := s.check(sub, m.Raw, now); err != nil {
			s.Log().Warning("subscription %s => %s from %s dropped: %s", sub.Key, sub.Address, m.From, err)
			return
		}
	}
	s.table.apply(sub, now, s.checker != nil)
	if m.Local && s.opts.Cluster {
		s.forward(m.Raw)
	}
}

func (s *server) check(sub wire.Subscription, raw []byte, now time.Time) error {
	data, err := wire.SignedData(raw)
	if err != nil {
		return err
	}
	if err := s.checker.Verify(sub.Key, data, sub.Sign); err != nil {
		return err
	}
	if sub.Unix < now.Add(-s.opts.SignTolerance).Unix() {
		return fmt.Errorf("%w: signed %d, older than the tolerance", ErrSignature, sub.Unix)
	}
	return nil
}

func (s *server) forward(raw []byte) {
	nodes := s.Node().Network().Nodes()
	for _, n := range nodes {
		if err := s.Send(gen.ProcessID{Name: Name, Node: n}, etf.Tuple{ForwardTag, raw}); err != nil {
			s.Log().Debug("forward subscription to %s: %s", n, err)
		}
	}
}

func (s *server) Terminate(reason error) {
	if !errors.Is(reason, gen.TerminateReasonNormal) && !errors.Is(reason, gen.TerminateReasonShutdown) {
		s.Log().Warning("subscription server stopped: %s", reason)
	}
}
