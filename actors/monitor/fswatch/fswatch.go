// Package fswatch is the file-system half shared by the dir:// and glob://
// monitors: one actor that forwards whole snapshots to the emperor, and one
// meta process that owns an fsnotify watcher, rescans when a relevant change
// arrives (a change is noticed in milliseconds) and every Rescan period as a
// safety net (changes fsnotify cannot see: files behind symlinks, a watch
// that could not be added yet, a lost event queue).
//
// It knows nothing of directories or patterns: a monitor package gives it a
// ScanFunc that lists the vassals and the directories to watch.
//
// Import rules: fswatch imports actors/emperor (the snapshot contract), ergo
// and fsnotify; actors/monitor/dir and actors/monitor/glob import it.
package fswatch

// The monitor actor.
//
// Accepts  messageScanned (a complete scan from the watch meta).
// Replies  nothing.
// Sends    emperor.MessageSnapshot to Options.Emperor, only when the set
//          differs from the last one sent.
// Spawns   one watch meta process.
// Owns     the last snapshot sent; no goroutine, socket or file.

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
)

// ErrOptions: the monitor was spawned with bad options.
var ErrOptions = errors.New("fswatch: bad options")

// ScanFunc lists a source's vassals, and the directories whose changes can
// alter the list. An error means "source unavailable": no snapshot is sent,
// so the emperor keeps the vassals it has.
type ScanFunc func() (vassals []emperor.VassalConfig, watch []string, err error)

// Options configure a file-system monitor.
type Options struct {
	Source  string   // MessageSnapshot.Source: the spec as given ("dir:///etc/uwsgi/vassals")
	Emperor gen.Atom // where snapshots go; default emperor.Name
	Scan    ScanFunc
	// Relevant tells whether a change to a file with this base name may matter;
	// creations, removals and renames always do. Nil: every change does.
	Relevant func(base string) bool
	Rescan   time.Duration // safety-net period; default 3 s (uWSGI's --emperor-freq)
	Quiet    time.Duration // scan once changes pause this long; default 5 ms
	MaxWait  time.Duration // ... or this long after the first change; default 25 ms
}

// Actor is the monitor actor; monitor packages embed it and call Begin from
// their Init.
type Actor struct {
	act.Actor
	opts Options
	last []emperor.VassalConfig
	sent bool
}

var _ act.ActorBehavior = (*Actor)(nil)

// Begin checks the options and starts the watch meta process.
func (a *Actor) Begin(o Options) error {
	if o.Scan == nil || o.Source == "" {
		return fmt.Errorf("%w: Scan and Source are required", ErrOptions)
	}
	if o.Emperor == "" {
		o.Emperor = emperor.Name
	}
	if o.Rescan <= 0 {
		o.Rescan = 3 * time.Second
	}
	if o.Quiet <= 0 {
		o.Quiet = 5 * time.Millisecond
	}
	if o.MaxWait < o.Quiet {
		o.MaxWait = 25 * time.Millisecond
	}
	a.opts = o
	w, err := newWatchMeta(o)
	if err != nil {
		return err
	}
	if _, err := a.SpawnMeta(w, gen.MetaOptions{}); err != nil {
		w.close()
		return fmt.Errorf("fswatch: %s: %w", o.Source, err)
	}
	return nil
}

func (a *Actor) HandleMessage(from gen.PID, message any) error {
	m, ok := message.(messageScanned)
	if !ok {
		a.Log().Error("fswatch %s: unknown message %T", a.opts.Source, message)
		return nil
	}
	if a.sent && reflect.DeepEqual(m.vassals, a.last) {
		return nil
	}
	if err := a.Send(a.opts.Emperor, emperor.MessageSnapshot{Source: a.opts.Source, Vassals: m.vassals}); err != nil {
		a.Log().Warning("fswatch %s: cannot reach the emperor: %v", a.opts.Source, err)
		return nil
	}
	a.last, a.sent = m.vassals, true
	return nil
}

// messageScanned is one complete scan, from the watch meta to its actor.
type messageScanned struct {
	vassals []emperor.VassalConfig
}
