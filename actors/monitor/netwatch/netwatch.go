// Package netwatch is the actor half shared by the network emperor sources
// (pg://, mongodb://, amqp://, zmq://): it owns the source's vassal set,
// forwards it to the emperor as complete snapshots, and owns the connection
// lifecycle — one meta process per connection to the backend, respawned with
// exponential backoff (SendAfter) when the backend goes away. While the
// backend is away nothing is sent, so the emperor keeps the vassals it has
// (spec uwsgi.md §3.2: "errors → nothing changes").
//
// A source package embeds Actor, calls Begin from its Init with a Connect
// function that builds a fresh meta process (which does all blocking I/O),
// and its meta process sends the messages of messages.go to its parent. The
// meta process embeds Conn (conn.go), which gives it the cancellable context,
// the MessageDown at its end and the idle ergo callbacks; the source adds Run
// and HandleInspect.
//
// Import rules: netwatch imports actors/emperor (the snapshot contract) and
// ergo only; actors/monitor/{pg,mongodb,amqp,zmq} import it.
package netwatch

// The source actor.
//
// Accepts  MessageUp, MessageDown, MessageSet, MessageTouch, MessageDestroy,
//          MessageProblem (from its meta process); messageConnect (its
//          reconnect tick).
// Replies  nothing.
// Sends    emperor.MessageSnapshot to Options.Emperor when its set changes
//          (never while the backend is down, never an unchanged set).
// Spawns   one meta process at a time (Options.Connect), after the previous
//          one sent MessageDown.
// Owns     the vassal set, the backoff timer; no goroutine, socket or file.

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/emperor"
)

// Errors of netwatch; test with errors.Is.
var (
	ErrOptions = errors.New("netwatch: bad options")
	// ErrMetaGone: the meta process ended without saying why (a panic).
	ErrMetaGone = errors.New("netwatch: connection process ended unexpectedly")
)

// Default backoff bounds.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
)

// Options configure a network source.
type Options struct {
	Source  string   // MessageSnapshot.Source: the spec, without passwords
	Emperor gen.Atom // where snapshots go; default emperor.Name
	Tag     string   // log prefix, uWSGI's: "[emperor-pg]"
	// Connect builds the meta process of one connection attempt. It runs in
	// the actor and must not block: the meta's Start dials.
	Connect    func() (gen.MetaBehavior, error)
	MinBackoff time.Duration // first retry delay; default DefaultMinBackoff
	MaxBackoff time.Duration // retry delays double up to this; default DefaultMaxBackoff
}

// Actor is the source actor; source packages embed it and call Begin from Init.
type Actor struct {
	act.Actor
	opts Options

	table   map[string]emperor.VassalConfig // the source's vassals by name
	last    []emperor.VassalConfig          // last snapshot sent
	sent    bool
	problem map[string]string // name (or text) → the problem last logged (polling sources)

	up      bool          // the current meta process reported MessageUp
	everUp  bool          // some meta process did
	backoff time.Duration // the next reconnect delay
	downErr string        // the last MessageDown error logged
	retry   gen.CancelFunc
}

var _ act.ActorBehavior = (*Actor)(nil)

// Begin checks the options and spawns the first connection's meta process.
func (a *Actor) Begin(o Options) error {
	if o.Source == "" || o.Connect == nil {
		return fmt.Errorf("%w: Source and Connect are required", ErrOptions)
	}
	if o.Emperor == "" {
		o.Emperor = emperor.Name
	}
	if o.Tag == "" {
		o.Tag = "[emperor]"
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	a.opts = o
	a.table = make(map[string]emperor.VassalConfig)
	a.problem = make(map[string]string)
	a.backoff = o.MinBackoff
	return a.connect()
}

// connect spawns one meta process; a failure to build or spawn it is retried
// like a lost connection.
func (a *Actor) connect() error {
	m, err := a.opts.Connect()
	if err == nil {
		_, err = a.SpawnMeta(m, gen.MetaOptions{})
	}
	if err != nil {
		a.down(err)
	}
	return nil
}

func (a *Actor) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case messageConnect:
		a.retry = nil
		return a.connect()
	case MessageUp:
		switch {
		case a.downErr != "":
			a.Log().Info("%s %s: backend is back", a.opts.Tag, a.opts.Source)
		case !a.everUp:
			a.Log().Info("%s %s: connected", a.opts.Tag, a.opts.Source)
		}
		a.up, a.everUp, a.downErr, a.backoff = true, true, "", a.opts.MinBackoff
	case MessageDown:
		a.down(m.Err)
	case MessageSet:
		a.set(m)
	case MessageTouch:
		a.touch(m.Vassal)
	case MessageDestroy:
		if _, ok := a.table[m.Name]; !ok {
			a.Log().Warning("%s %s: unknown instance %q", a.opts.Tag, a.opts.Source, m.Name)
			return nil
		}
		delete(a.table, m.Name)
		a.flush()
	case MessageProblem:
		a.Log().Error("%s %s: %s", a.opts.Tag, a.opts.Source, problemText(m.Problem))
	default:
		a.Log().Error("%s %s: unknown message %T", a.opts.Tag, a.opts.Source, message)
	}
	return nil
}

// down logs a lost backend (once per distinct error) and schedules a reconnect.
func (a *Actor) down(err error) {
	if err == nil {
		err = ErrMetaGone
	}
	if text := err.Error(); text != a.downErr {
		a.Log().Warning("%s %s: backend unavailable, retrying (its vassals are kept): %v", a.opts.Tag, a.opts.Source, err)
		a.downErr = text
	}
	a.up = false
	if a.retry != nil {
		return
	}
	cancel, serr := a.SendAfter(a.PID(), messageConnect{}, a.backoff)
	if serr != nil {
		a.Log().Error("%s %s: cannot schedule a reconnect: %v", a.opts.Tag, a.opts.Source, serr)
		return
	}
	a.retry = cancel
	a.backoff = min(2*a.backoff, a.opts.MaxBackoff)
}

// set replaces the table with a polling source's complete set.
func (a *Actor) set(m MessageSet) {
	table := make(map[string]emperor.VassalConfig, len(m.Vassals))
	for _, v := range m.Vassals {
		table[v.Name] = v
	}
	seen := make(map[string]bool, len(m.Problems))
	for _, p := range m.Problems {
		text := problemText(p)
		key := p.Name
		if key == "" {
			key = text // nameless problems are told apart by their text
		}
		seen[key] = true
		if a.problem[key] != text {
			a.Log().Error("%s %s: %s", a.opts.Tag, a.opts.Source, text)
			a.problem[key] = text
		}
		if old, ok := a.table[p.Name]; ok && p.Name != "" {
			if _, fresh := table[p.Name]; !fresh {
				table[p.Name] = old // a broken row keeps the vassal it was
			}
		}
	}
	for key := range a.problem {
		if !seen[key] {
			delete(a.problem, key)
		}
	}
	a.table = table
	a.flush()
}

// touch adds or replaces one vassal of an event source.
func (a *Actor) touch(v emperor.VassalConfig) {
	if v.MTime.IsZero() {
		v.MTime = time.Now()
		if old, ok := a.table[v.Name]; ok && !v.MTime.After(old.MTime) {
			v.MTime = old.MTime.Add(time.Nanosecond)
		}
	}
	a.table[v.Name] = v
	a.flush()
}

// flush sends the table as a snapshot when it differs from the last one sent.
func (a *Actor) flush() {
	vs := make([]emperor.VassalConfig, 0, len(a.table))
	for _, v := range a.table {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	if a.sent && reflect.DeepEqual(vs, a.last) {
		return
	}
	// the emperor owns what it receives: send a copy
	out := make([]emperor.VassalConfig, len(vs))
	copy(out, vs)
	if err := a.Send(a.opts.Emperor, emperor.MessageSnapshot{Source: a.opts.Source, Vassals: out}); err != nil {
		a.Log().Warning("%s %s: cannot reach the emperor: %v", a.opts.Tag, a.opts.Source, err)
		return
	}
	a.last, a.sent = vs, true
}

func (a *Actor) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{
		"source":  a.opts.Source,
		"up":      strconv.FormatBool(a.up),
		"vassals": strconv.Itoa(len(a.table)),
		"backoff": a.backoff.String(),
	}
}

func (a *Actor) Terminate(reason error) {
	if a.retry != nil {
		a.retry()
	}
}

func problemText(p Problem) string {
	if p.Name == "" {
		return fmt.Sprintf("bad entry: %v", p.Err)
	}
	return fmt.Sprintf("vassal %s: %v", p.Name, p.Err)
}
