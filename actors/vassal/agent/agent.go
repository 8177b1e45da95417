// Package agent is the vassal's side of the emperor protocol (spec §3.5)
// inside an imperial vassal: when imperial runs with UWSGI_EMPEROR_FD set, it
// tells its emperor it is ready (byte 1), accepting (5) and, once it has
// stayed up for Options.LoyalAfter, loyal (17); it obeys stop (0, 2) and
// reload (1) requests; and, when the emperor runs a named node, it connects
// this node to it.
//
// Import rules: agent imports ergo only; apps/emperor imports it.
package agent

// The agent actor.
//
// Accepts  messageByte (a byte from the emperor, via the fd meta),
//          messageLost (the emperor fd closed), messageLoyal (own timer).
// Replies  nothing.
// Sends    messageWrite (a byte for the emperor) to the fd meta.
// Spawns   one fd meta process.
// Owns     nothing itself; the fd meta owns the descriptor.

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"
)

// ErrOptions: the agent was spawned with bad options.
var ErrOptions = errors.New("agent: bad options")

// Name is the agent's registered name.
const Name gen.Atom = "imperial_vassal_agent"

// Options configure the agent; apps/emperor builds them from the environment
// the emperor gave (UWSGI_EMPEROR_FD, UWSGI_RELOADS, IMPERIAL_EMPEROR_NODE).
type Options struct {
	// File is the emperor control socket (fd UWSGI_EMPEROR_FD), opened once by
	// the caller in non-blocking mode (so that a deadline can stop a read): it
	// must outlive restarts of the agent (an *os.File closes its descriptor
	// when collected).
	File        *os.File
	Reloads     int      // UWSGI_RELOADS: >0 after a reload, when byte 1 is not sent again
	EmperorNode gen.Atom // connect to this node, if set
	LoyalAfter  time.Duration
	// OnStop runs on byte 0 (graceful false) or 2 (true); default: SIGINT to
	// this process, which rel/imperial turns into a graceful stop.
	OnStop func(graceful bool)
	// OnReload runs on byte 1; default: re-exec this binary with the same
	// arguments (same pid, the emperor fd kept, UWSGI_RELOADS+1).
	OnReload func()
	// OnLost runs when the emperor fd closes; default: like OnStop(false).
	OnLost func()
}

// Bytes of the protocol.
const (
	byteStop         = 0
	byteReload       = 1
	byteGracefulStop = 2
	byteReady        = 1
	byteAccepting    = 5
	byteLoyal        = 17
)

// Factory makes the agent; spawn it with one Options argument.
func Factory() gen.ProcessBehavior { return &agent{} }

var _ act.ActorBehavior = (*agent)(nil)

type agent struct {
	act.Actor
	o    Options
	fd   gen.Alias
	done bool
}

type (
	messageByte  struct{ b byte }
	messageWrite struct{ b byte }
	messageLost  struct{ err string }
	messageLoyal struct{}
)

func (a *agent) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	if o.File == nil {
		return fmt.Errorf("%w: no emperor fd", ErrOptions)
	}
	if o.LoyalAfter <= 0 {
		o.LoyalAfter = time.Second
	}
	if o.OnStop == nil {
		o.OnStop = func(bool) { syscall.Kill(os.Getpid(), syscall.SIGINT) }
	}
	if o.OnLost == nil {
		stop := o.OnStop
		o.OnLost = func() { stop(false) }
	}
	a.o = o
	alias, err := a.SpawnMeta(&fdMeta{f: o.File, node: a.Node(), emperorNode: o.EmperorNode, reload: o.OnReload, reloads: o.Reloads}, gen.MetaOptions{})
	if err != nil {
		return err
	}
	a.fd = alias
	// the services before this one have started (apps/emperor is the last
	// service): the vassal is up
	if o.Reloads == 0 {
		a.Send(a.fd, messageWrite{b: byteReady})
	}
	a.Send(a.fd, messageWrite{b: byteAccepting})
	a.SendAfter(a.PID(), messageLoyal{}, o.LoyalAfter)
	return nil
}

func (a *agent) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case messageByte:
		switch m.b {
		case byteStop, byteGracefulStop:
			a.Log().Info("received message %d from emperor", m.b)
			if !a.done {
				a.done = true
				a.o.OnStop(m.b == byteGracefulStop)
			}
		case byteReload:
			a.Log().Info("received message %d from emperor", m.b)
			if a.o.OnReload != nil {
				a.o.OnReload()
			} else {
				a.Send(a.fd, messageReexec{})
			}
		default:
			a.Log().Warning("unknown message %d from emperor", m.b)
		}
	case messageLost:
		a.Log().Error("lost connection with my emperor !!! (%s)", m.err)
		if !a.done {
			a.done = true
			a.o.OnLost()
		}
	case messageLoyal:
		a.Send(a.fd, messageWrite{b: byteLoyal})
	}
	return nil
}
