package pg

// The pg:// source actor: netwatch.Actor with a poll meta process per connection.
//
// Accepts  what netwatch.Actor accepts (from its poll meta process).
// Replies  nothing.
// Sends    emperor.MessageSnapshot to Options.Emperor: each poll's rows when
//          they differ from the last snapshot; nothing while the database is
//          unreachable.
// Spawns   one poll meta process per connection (poll_meta.go).
// Owns     what netwatch.Actor owns.

import (
	"fmt"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/monitor/netwatch"
)

// Options configure a pg:// source.
type Options struct {
	Spec       Spec
	Interval   time.Duration // poll period when Spec.Interval is 0; default 3 s
	Source     string        // MessageSnapshot.Source; default "pg://" + the redacted spec
	Emperor    gen.Atom      // default emperor.Name
	MaxBackoff time.Duration // reconnect delays double up to this; default netwatch's
}

// FromSpec builds Options from an --emperor spec ("pg://ARG"): the scheme
// table's entry. rescan (--emperor-freq) is the poll period unless the conninfo
// says interval=; cwd is unused.
func FromSpec(spec, arg string, emperorName gen.Atom, rescan time.Duration, cwd string) (Options, error) {
	s, err := ParseSpec(arg)
	if err != nil {
		return Options{}, err
	}
	return Options{Spec: s, Interval: rescan, Source: Redact(spec), Emperor: emperorName}, nil
}

// Factory makes a pg:// source; spawn it with one Options argument.
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
	if o.Spec.Query == "" {
		return fmt.Errorf("%w: empty query", ErrOptions)
	}
	if o.Spec.Interval > 0 {
		o.Interval = o.Spec.Interval
	}
	if o.Interval <= 0 {
		o.Interval = 3 * time.Second
	}
	if o.Source == "" {
		o.Source = "pg://" + Redact(o.Spec.ConnInfo) + ";" + o.Spec.Query
	}
	return s.Begin(netwatch.Options{
		Source:     o.Source,
		Emperor:    o.Emperor,
		Tag:        "[emperor-pg]",
		MaxBackoff: o.MaxBackoff,
		Connect:    func() (gen.MetaBehavior, error) { return newPollMeta(o) },
	})
}
