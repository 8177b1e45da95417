package subscription

// announcer: one --subscribe-to / --subscribe2 of a worker.
//
// Accepts  messageAnnounce (its own timer): sends the subscription.
// Sends    subscription datagrams (m2=0) to Options.Spec.Server: at start, one
//          second later, then every Options.Freq; one unsubscribe (m2=1) from
//          Terminate. Each datagram leaves from a fresh socket, as uWSGI's do.
// Owns     its timer; no goroutines, no socket between datagrams.

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	wire "imperial/actors/wire/subscription"
)

// DefaultFreq is uWSGI's --subscribe-freq.
const DefaultFreq = 10 * time.Second

// AnnouncerOptions configure one announcer.
type AnnouncerOptions struct {
	// Spec is the parsed option; Spec.Sub.Address empty means Address.
	Spec wire.Spec
	// Address is the instance's announce address (its first socket).
	Address string
	// Cores and Weight fill the packet's fields when the option sets none
	// (Weight: --weight; 0 goes out as 0, which routers read as 1).
	Cores  int
	Weight int
	// Freq between announces; 0 means DefaultFreq.
	Freq time.Duration
	// Check skips an announce while this file exists (--subscribe2 check=,
	// uWSGI 2.0.21 semantics); empty means always announce.
	Check string
	// Stat is os.Stat (tests); nil means the real one.
	Stat func(string) error
}

var _ act.ActorBehavior = (*announcer)(nil)

// AnnouncerFactory makes an announcer; spawn it with AnnouncerOptions.
func AnnouncerFactory() gen.ProcessBehavior { return &announcer{} }

type announcer struct {
	act.Actor
	opts   AnnouncerOptions
	sub    wire.Subscription
	signer *Signer
	sent   int
	cancel gen.CancelFunc
}

func (a *announcer) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (AnnouncerOptions), got %d", ErrOptions, len(args))
	}
	opts, ok := args[0].(AnnouncerOptions)
	if !ok {
		return fmt.Errorf("%w: want AnnouncerOptions, got %T", ErrOptions, args[0])
	}
	if opts.Freq <= 0 {
		opts.Freq = DefaultFreq
	}
	a.opts = opts
	a.sub = opts.Spec.Sub
	if a.sub.Address == "" {
		a.sub.Address = opts.Address
	}
	if a.sub.Address == "" {
		return fmt.Errorf("%w: %s: no address to announce (no socket)", ErrOptions, opts.Spec.Server)
	}
	if a.sub.Cores == 0 {
		a.sub.Cores = opts.Cores
	}
	if !opts.Spec.HasWeight && a.sub.Weight == 0 {
		a.sub.Weight = opts.Weight
	}
	if opts.Spec.SignKey != "" {
		s, err := NewSigner(opts.Spec.SignKey)
		if err != nil {
			return err
		}
		a.signer = s
	}
	if a.opts.Check == "" {
		a.opts.Check = opts.Spec.Check
	}
	a.Log().Info("subscribing to %s:%s", opts.Spec.Server, a.sub.Key)
	return a.Send(a.PID(), messageAnnounce{})
}

func (a *announcer) HandleMessage(from gen.PID, message any) error {
	if _, ok := message.(messageAnnounce); !ok {
		a.Log().Warning("unexpected message from %s: %T", from, message)
		return nil
	}
	if err := a.announce(false); err != nil {
		a.Log().Warning("subscribe to %s: %s", a.opts.Spec.Server, err)
	}
	a.sent++
	next := a.opts.Freq
	if a.sent == 1 {
		next = time.Second
	}
	a.cancel, _ = a.SendAfter(a.PID(), messageAnnounce{}, next)
	return nil
}

func (a *announcer) announce(unsubscribe bool) error {
	if a.opts.Check != "" {
		stat := a.opts.Stat
		if stat == nil {
			stat = func(p string) error { _, err := os.Stat(p); return err }
		}
		if stat(a.opts.Check) == nil {
			return nil
		}
	}
	s := a.sub
	s.Unsubscribe = unsubscribe
	var pkt []byte
	var err error
	if a.signer != nil {
		s.Unix = time.Now().Unix()
		if unsubscribe {
			s.Unix++
		}
		pkt, err = wire.AppendSigned(nil, s, a.signer.Sign)
	} else {
		pkt, err = wire.Append(nil, s)
	}
	if err != nil {
		return err
	}
	return sendDatagram(a.opts.Spec.Server, pkt)
}

// sendDatagram writes one datagram from a fresh socket: UDP when server
// contains ':', else a unix datagram socket.
func sendDatagram(server string, pkt []byte) error {
	network := "unixgram"
	if strings.Contains(server, ":") {
		network = "udp"
		if strings.HasPrefix(server, ":") {
			server = "127.0.0.1" + server
		}
	}
	c, err := net.Dial(network, server)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, err = c.Write(pkt)
	return err
}

func (a *announcer) Terminate(reason error) {
	if a.cancel != nil {
		a.cancel()
	}
	a.Log().Info("unsubscribing from %s:%s", a.opts.Spec.Server, a.sub.Key)
	if err := a.announce(true); err != nil {
		a.Log().Warning("unsubscribe from %s: %s", a.opts.Spec.Server, err)
	}
}
