package mongodb

// The mongodb:// source actor: netwatch.Actor with a poll meta process per client.
//
// Accepts  what netwatch.Actor accepts (from its poll meta process).
// Replies  nothing.
// Sends    emperor.MessageSnapshot to Options.Emperor: each poll's documents
//          when they differ from the last snapshot; nothing while the server
//          is unreachable.
// Spawns   one poll meta process per client (poll_meta.go).
// Owns     what netwatch.Actor owns.

import (
	"fmt"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/monitor/netwatch"
)

// Options configure a mongodb:// source.
type Options struct {
	Spec       Spec
	Interval   time.Duration // poll period; default 3 s
	Cwd        string        // the emperor's directory: where config-less documents' files are
	Source     string        // MessageSnapshot.Source; default "mongodb://" + the redacted spec
	Emperor    gen.Atom      // default emperor.Name
	Timeout    time.Duration // server selection and query timeout; default 5 s
	MaxBackoff time.Duration // reconnect delays double up to this; default netwatch's
}

// FromSpec builds Options from an --emperor spec ("mongodb://ARG"): the scheme
// table's entry. rescan (--emperor-freq) is the poll period; cwd is where the
// files of config-less documents are.
func FromSpec(spec, arg string, emperorName gen.Atom, rescan time.Duration, cwd string) (Options, error) {
	s, err := ParseSpec(arg)
	if err != nil {
		return Options{}, err
	}
	return Options{Spec: s, Interval: rescan, Cwd: cwd, Source: Redact(spec), Emperor: emperorName}, nil
}

// Factory makes a mongodb:// source; spawn it with one Options argument.
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
	if o.Spec.Addr == "" || o.Spec.DB == "" || o.Spec.Collection == "" {
		return fmt.Errorf("%w: Spec needs Addr, DB and Collection (use ParseSpec)", ErrOptions)
	}
	if o.Interval <= 0 {
		o.Interval = 3 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Source == "" {
		o.Source = "mongodb://" + Redact(o.Spec.Addr) + "," + o.Spec.DB + "." + o.Spec.Collection
	}
	return s.Begin(netwatch.Options{
		Source:     o.Source,
		Emperor:    o.Emperor,
		Tag:        "[emperor-mongodb]",
		MaxBackoff: o.MaxBackoff,
		Connect:    func() (gen.MetaBehavior, error) { return newPollMeta(o), nil },
	})
}
