package amqp

// The amqp:// source actor: netwatch.Actor with a consume meta process per connection.
//
// Accepts  what netwatch.Actor accepts (from its consume meta process).
// Replies  nothing.
// Sends    emperor.MessageSnapshot to Options.Emperor after every message
//          that changes its set; nothing while the broker is away.
// Spawns   one consume meta process per connection (consume_meta.go).
// Owns     what netwatch.Actor owns: the vassals messages gave, kept across
//          reconnections.

import (
	"fmt"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/monitor/netwatch"
)

// Options configure an amqp:// source.
type Options struct {
	URI        string        // the broker, from ParseSpec
	Cwd        string        // the emperor's directory: relative config paths are relative to it
	Source     string        // MessageSnapshot.Source; default "amqp://" + the redacted host
	Emperor    gen.Atom      // default emperor.Name
	Timeout    time.Duration // connection handshake and HTTP fetch timeout; default 10 s
	Heartbeat  time.Duration // AMQP heartbeat: how fast a silent broker is noticed; default 10 s
	MaxBackoff time.Duration // reconnect delays double up to this; default netwatch's
}

// FromSpec builds Options from an --emperor spec ("amqp://ARG"): the scheme
// table's entry. cwd is what relative config paths are relative to; rescan is
// unused (the broker pushes).
func FromSpec(spec, arg string, emperorName gen.Atom, rescan time.Duration, cwd string) (Options, error) {
	uri, err := ParseSpec(arg)
	if err != nil {
		return Options{}, err
	}
	return Options{URI: uri, Cwd: cwd, Source: Redact(spec), Emperor: emperorName}, nil
}

// Factory makes an amqp:// source; spawn it with one Options argument.
func Factory() gen.ProcessBehavior { return &source{} }

type source struct {
	netwatch.Actor
}

var _ act.ActorBehavior = (*source)(nil)

func (s *source) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	if o.URI == "" {
		return fmt.Errorf("%w: empty URI (use ParseSpec)", ErrOptions)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.Source == "" {
		o.Source = Redact(o.URI)
	}
	return s.Begin(netwatch.Options{
		Source:     o.Source,
		Emperor:    o.Emperor,
		Tag:        "[emperor-amqp]",
		MaxBackoff: o.MaxBackoff,
		Connect:    func() (gen.MetaBehavior, error) { return newConsumeMeta(o), nil },
	})
}
