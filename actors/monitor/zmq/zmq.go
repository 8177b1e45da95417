package zmq

// The zmq:// source actor: netwatch.Actor with a pull meta process.
//
// Accepts  what netwatch.Actor accepts (from its pull meta process).
// Replies  nothing.
// Sends    emperor.MessageSnapshot to Options.Emperor after every touch and
//          every destroy of a known vassal.
// Spawns   one pull meta process per bound socket (pull_meta.go); another,
//          with backoff, when binding fails.
// Owns     what netwatch.Actor owns: the vassals messages gave.

import (
	"fmt"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/monitor/netwatch"
)

// Options configure a zmq:// source.
type Options struct {
	Endpoint   string   // tcp://HOST:PORT or ipc://PATH, from ParseEndpoint
	Cwd        string   // the emperor's directory: config-less vassals' files are in it
	Source     string   // MessageSnapshot.Source; default "zmq://" + Endpoint
	Emperor    gen.Atom // default emperor.Name
	MaxBackoff time.Duration
}

// FromSpec builds Options from an --emperor spec ("zmq://ARG"): the scheme
// table's entry. cwd is where config-less vassals' files are; rescan is unused
// (peers push).
func FromSpec(spec, arg string, emperorName gen.Atom, rescan time.Duration, cwd string) (Options, error) {
	ep, err := ParseEndpoint(arg)
	if err != nil {
		return Options{}, err
	}
	return Options{Endpoint: ep, Cwd: cwd, Source: spec, Emperor: emperorName}, nil
}

// Factory makes a zmq:// source; spawn it with one Options argument.
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
	ep, err := ParseEndpoint(o.Endpoint)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	o.Endpoint = ep
	if o.Source == "" {
		o.Source = "zmq://" + o.Endpoint
	}
	return s.Begin(netwatch.Options{
		Source:     o.Source,
		Emperor:    o.Emperor,
		Tag:        "[emperor-zeromq]",
		MaxBackoff: o.MaxBackoff,
		Connect:    func() (gen.MetaBehavior, error) { return newPullMeta(o), nil },
	})
}
