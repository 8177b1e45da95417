package emperor

// The emperor actor: uWSGI's emperor_loop as a state machine over messages.
//
// Accepts  MessageSnapshot (a monitor's complete vassal set), vassal.MessageEvent
//          (a vassal's process changed), gen.MessageExitPID (a vassal actor
//          ended: exits are trapped), messageRespawn (its own throttle timer),
//          messageStats (from the stats connection meta).
// Replies  RequestVassals → ResponseVassals, RequestReload/RequestStop →
//          ResponseAction, RequestReloadAll → ResponseReloadAll, RequestStopAll
//          → ResponseStopAll (later, once every vassal is gone).
// Sends    vassal.MessageStart, vassal.MessageReload, vassal.MessageStop to its
//          vassals; statsJSON to stats connection metas.
// Spawns   one vassal actor per vassal (LinkChild), one stats listener meta
//          with --emperor-stats.
// Owns     the vassal table and the blacklist; no goroutine, socket or OS
//          process (the stats listener meta owns its socket).

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/vassal"
)

// Name is the emperor's registered name.
const Name gen.Atom = "imperial_emperor"

var _ act.ActorBehavior = (*emperor)(nil)

// Options configure the emperor; apps/emperor builds them from the emperor-* options.
type Options struct {
	Sources []string // the monitor specs, as given (stats "emperor" list)

	// Binary is imperial itself, which runs vassals when no wrapper is set.
	Binary          string
	Wrapper         string   // --emperor-wrapper
	WrapperOverride []string // --emperor-wrapper-override: tried before the wrapper
	WrapperFallback []string // --emperor-wrapper-fallback: tried after it
	// Check refuses a vassal imperial cannot run itself (a plugin it lacks);
	// it runs only when imperial is the program chosen.
	Check func(file string, config []byte) error

	Tyrant           bool          // --emperor-tyrant: run vassals as their uid/gid, never root
	Throttle         time.Duration // --emperor-throttle (default 1 s)
	MaxThrottle      time.Duration // --emperor-max-throttle (default 3 min)
	NoBlacklist      bool          // --emperor-no-blacklist
	StopTimeout      time.Duration // --emperor-curse-tolerance / reload-mercy (default 30 s)
	Heartbeat        time.Duration // --emperor-required-heartbeat (default 30 s)
	GracefulShutdown bool          // --emperor-graceful-shutdown: stop with byte 2
	ExtraExtensions  []string      // --emperor-extra-extension
	Stats            string        // --emperor-stats: TCP "host:port" or a unix path

	// NodeName is this node's name when it runs distribution: imperial vassals
	// then run as nodes named after the vassal (app.ini → app@host) and
	// connect to it.
	NodeName gen.Atom
	Env      []string // added to every vassal's environment
	Cwd      string   // reported in stats

	Stdout, Stderr *os.File         // the vassals' output; nil inherits the emperor's
	Clock          func() time.Time // nil: time.Now (tests inject one)
}

// Factory makes the emperor actor; spawn it with one Options argument.
func Factory() gen.ProcessBehavior { return &emperor{} }

type emperor struct {
	act.Actor
	opts    Options
	now     func() time.Time
	vassals map[string]*entry // by vassal name; the only copy of vassal state
	byPID   map[gen.PID]string
	black   blacklist
	warned  map[string]string // name → last warning, to log a broken entry once per change

	ragnarok   bool
	stopAllReq []gen.PID
	stopAllRef []gen.Ref
	stopped    int
}

func (e *emperor) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("emperor: want 1 argument (Options), got %d", len(args))
	}
	opts, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("emperor: want Options, got %T", args[0])
	}
	if opts.Binary == "" && opts.Wrapper == "" && len(opts.WrapperOverride) == 0 && len(opts.WrapperFallback) == 0 {
		return errors.New("emperor: no binary to run vassals (Binary or Wrapper)")
	}
	if opts.Throttle <= 0 {
		opts.Throttle = time.Second
	}
	if opts.MaxThrottle <= 0 {
		opts.MaxThrottle = 3 * time.Minute
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 30 * time.Second
	}
	e.opts = opts
	e.now = opts.Clock
	if e.now == nil {
		e.now = time.Now
	}
	e.vassals = make(map[string]*entry)
	e.byPID = make(map[gen.PID]string)
	e.warned = make(map[string]string)
	e.black = blacklist{step: opts.Throttle, max: opts.MaxThrottle}
	e.SetTrapExit(true) // vassal exits arrive in HandleMessage as gen.MessageExitPID
	if opts.Stats != "" {
		network := "unix"
		if strings.Contains(opts.Stats, ":") {
			network = "tcp"
		} else {
			os.Remove(opts.Stats)
		}
		ln, err := net.Listen(network, opts.Stats)
		if err != nil {
			return fmt.Errorf("emperor: stats server: %w", err)
		}
		if _, err := e.SpawnMeta(&statsListener{ln: ln}, gen.MetaOptions{}); err != nil {
			ln.Close()
			return fmt.Errorf("emperor: stats server: %w", err)
		}
		e.Log().Info("*** Emperor stats server enabled on %s ***", opts.Stats)
	}
	return nil
}

// vassalState is the emperor's view of one vassal.
type vassalState int

const (
	stateStarting  vassalState = iota + 1 // spawned, not ready yet
	stateRunning                          // ready or accepting
	stateReloading                        // byte 1 sent, not ready again yet
	stateStopping                         // stop sent (removed, stopped, or restarting)
	stateStopped                          // stopped on request; kept until its config changes
	stateThrottled                        // died; respawn scheduled
	stateOnDemand                         // waits for a connection on its socket
	stateRefused                          // cannot run until its config changes
)

func (s vassalState) String() string {
	switch s {
	case stateStarting:
		return "starting"
	case stateRunning:
		return "running"
	case stateReloading:
		return "reloading"
	case stateStopping:
		return "stopping"
	case stateStopped:
		return "stopped"
	case stateThrottled:
		return "throttled"
	case stateOnDemand:
		return "on_demand"
	case stateRefused:
		return "refused"
	}
	return fmt.Sprintf("state#%d", int(s))
}

// entry is one row of the vassal table (uWSGI's struct uwsgi_instance).
type entry struct {
	cfg    VassalConfig
	source string
	pid    gen.PID // the vassal actor; zero when none
	state  vassalState
	reason string // refused: why

	osPid      int
	respawns   int
	born       time.Time // the config's MTime when first seen
	lastChange time.Time

	ready, accepting, loyal                       bool
	lastReady, lastAccepting, lastLoyal, cursedAt time.Time
	firstRun, lastRun                             time.Time

	removing   bool // config gone: the vassal actor ends after its process
	readd      bool // config came back while removing: spawn again after
	held       bool // stopped on request
	respawnGen int
}

func (e *emperor) setState(v *entry, s vassalState) {
	v.state = s
	v.lastChange = e.now()
}

func (e *emperor) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case MessageSnapshot:
		e.snapshot(m)
	case vassal.MessageEvent:
		e.vassalEvent(from, m)
	case gen.MessageExitPID:
		e.vassalGone(m)
	case messageRespawn:
		e.respawnTimer(m)
	case messageStats:
		e.Send(m.to, statsJSON{data: e.renderStats()})
	default:
		e.Log().Error("emperor: unknown message %T from %s", message, from)
	}
	return nil
}

func (e *emperor) HandleCall(from gen.PID, ref gen.Ref, request any) (any, error) {
	switch r := request.(type) {
	case RequestVassals:
		return e.table(), nil
	case RequestReload:
		return ResponseAction{Err: e.reloadRequest(r.Name)}, nil
	case RequestStop:
		return ResponseAction{Err: e.stopRequest(r.Name)}, nil
	case RequestReloadAll:
		n := 0
		for _, cur := range e.vassals {
			if !cur.removing && (cur.state == stateRunning || cur.state == stateStarting || cur.state == stateOnDemand) {
				e.reload(cur)
				n++
			}
		}
		return ResponseReloadAll{Reloaded: n}, nil
	case RequestStopAll:
		e.stopAll(from, ref)
		if len(e.vassals) == 0 {
			return ResponseStopAll{Stopped: e.stopped}, nil
		}
		return nil, nil // answered from vassalGone
	}
	e.Log().Error("emperor: unknown request %T from %s", request, from)
	return nil, nil
}

// snapshot diffs a monitor's complete set against what that source gave before.
func (e *emperor) snapshot(s MessageSnapshot) {
	if e.ragnarok {
		return
	}
	seen := make(map[string]bool, len(s.Vassals))
	for _, v := range s.Vassals {
		if err := ValidName(v.Name, e.opts.ExtraExtensions); err != nil {
			e.warnOnce(s.Source+"\x00"+v.Name, fmt.Sprintf("[emperor] %s: ignored: %v", s.Source, err))
			continue
		}
		seen[v.Name] = true
		cur := e.vassals[v.Name]
		switch {
		case cur == nil:
			e.add(s.Source, v)
		case cur.source != s.Source:
			e.warnOnce(s.Source+"\x00"+v.Name, fmt.Sprintf("[emperor] %s: vassal %s ignored: %v (%s)", s.Source, v.Name, ErrOwned, cur.source))
		default:
			e.update(cur, v)
		}
	}
	for name, cur := range e.vassals {
		if cur.source == s.Source && !seen[name] {
			cur.readd = false
			e.destroy(name, cur)
		}
	}
}

func (e *emperor) warnOnce(key, text string) {
	if e.warned[key] == text {
		return
	}
	e.warned[key] = text
	e.Log().Warning("%s", text)
}

// admit is tyrant mode's rule: a vassal never runs as root or as nobody known.
func (e *emperor) admit(v VassalConfig) error {
	if e.opts.Tyrant && (v.UID <= 0 || v.GID <= 0) {
		return fmt.Errorf("%w: [emperor-tyrant] invalid permissions for vassal %s (uid %d gid %d)", ErrTyrant, v.Name, v.UID, v.GID)
	}
	return nil
}

func (e *emperor) add(source string, v VassalConfig) {
	now := e.now()
	cur := &entry{cfg: v, source: source, born: v.MTime, firstRun: now, lastChange: now}
	e.vassals[v.Name] = cur
	if err := e.admit(v); err != nil {
		e.refuse(cur, err.Error())
		return
	}
	if wait := e.black.wait(v.Name, now); wait > 0 {
		e.setState(cur, stateThrottled)
		e.scheduleRespawn(cur, wait)
		return
	}
	e.spawn(cur)
}

func (e *emperor) refuse(cur *entry, reason string) {
	if cur.state != stateRefused || cur.reason != reason {
		e.Log().Error("[emperor] vassal %s refused: %s", cur.cfg.Name, reason)
	}
	cur.reason = reason
	e.setState(cur, stateRefused)
}

// spawn starts a vassal actor for cur.
func (e *emperor) spawn(cur *entry) {
	opts := e.vassalOptions(cur.cfg)
	pid, err := e.Spawn(vassal.Factory, gen.ProcessOptions{LinkChild: true}, opts)
	if err != nil {
		e.refuse(cur, err.Error())
		return
	}
	cur.pid = pid
	cur.ready, cur.accepting, cur.loyal = false, false, false
	cur.lastRun = e.now()
	e.byPID[pid] = cur.cfg.Name
	if cur.cfg.Socket != "" {
		e.setState(cur, stateOnDemand)
	} else {
		e.setState(cur, stateStarting)
	}
}

// start (re)starts the process of a vassal whose actor may already exist.
func (e *emperor) start(cur *entry) {
	if err := e.admit(cur.cfg); err != nil {
		e.refuse(cur, err.Error())
		return
	}
	cur.reason = ""
	if cur.pid == (gen.PID{}) {
		e.spawn(cur)
		return
	}
	opts := e.vassalOptions(cur.cfg)
	e.Send(cur.pid, vassal.MessageStart{Options: &opts})
	cur.ready, cur.accepting, cur.loyal = false, false, false
	cur.lastRun = e.now()
	if cur.cfg.Socket != "" {
		e.setState(cur, stateOnDemand)
	} else {
		e.setState(cur, stateStarting)
	}
}

func (e *emperor) update(cur *entry, v VassalConfig) {
	old := cur.cfg
	newer := v.MTime.After(old.MTime)
	creds := e.opts.Tyrant && (v.UID != old.UID || v.GID != old.GID)
	socket := v.Socket != old.Socket
	if !newer && !creds && !socket {
		return
	}
	cur.cfg = v
	if cur.removing {
		cur.readd = true
		return
	}
	switch cur.state {
	case stateRefused:
		e.start(cur)
	case stateStopped:
		if newer {
			cur.held = false
			e.start(cur)
		}
	case stateThrottled:
		// the respawn timer starts it with the new config
	case stateStarting, stateRunning, stateReloading, stateOnDemand:
		if creds || socket {
			if creds {
				e.Log().Warning("!!! permissions of file %s changed. stopping the instance... !!!", v.Name)
			}
			if err := e.admit(v); err != nil {
				e.Send(cur.pid, vassal.MessageStop{})
				e.refuse(cur, err.Error())
				return
			}
			opts := e.vassalOptions(v)
			e.Send(cur.pid, vassal.MessageStop{})
			e.Send(cur.pid, vassal.MessageStart{Options: &opts})
			e.setState(cur, stateStopping)
			return
		}
		e.reload(cur)
	}
}

// reload is uWSGI's emperor_respawn: byte 1 to a running vassal, or only the
// new config for an idle on-demand one.
func (e *emperor) reload(cur *entry) {
	e.Send(cur.pid, vassal.MessageReload{Config: cur.cfg.Config})
	if cur.state == stateOnDemand {
		e.Log().Info("[emperor] updated configuration for \"on demand\" instance %s", cur.cfg.Name)
		return
	}
	cur.respawns++
	cur.ready, cur.accepting = false, false
	cur.lastRun = e.now()
	e.setState(cur, stateReloading)
	e.Log().Info("[emperor] reload the uwsgi instance %s", cur.cfg.Name)
}

func (e *emperor) destroy(name string, cur *entry) {
	if cur.removing {
		return
	}
	cur.removing = true
	cur.respawnGen++
	e.black.remove(name)
	if cur.pid == (gen.PID{}) {
		delete(e.vassals, name)
		e.Log().Info("[emperor] removed uwsgi instance %s", name)
		return
	}
	e.Log().Info("[emperor] stop the uwsgi instance %s", name)
	e.Send(cur.pid, vassal.MessageStop{Remove: true})
	e.setState(cur, stateStopping)
}

func (e *emperor) scheduleRespawn(cur *entry, wait time.Duration) {
	cur.respawnGen++
	msg := messageRespawn{name: cur.cfg.Name, gen: cur.respawnGen}
	if wait <= 0 {
		e.respawnTimer(msg)
		return
	}
	e.SendAfter(e.PID(), msg, wait)
}

func (e *emperor) respawnTimer(m messageRespawn) {
	cur := e.vassals[m.name]
	if cur == nil || cur.respawnGen != m.gen || cur.removing || cur.held || cur.state != stateThrottled || e.ragnarok {
		return
	}
	e.start(cur)
}

func (e *emperor) vassalEvent(from gen.PID, ev vassal.MessageEvent) {
	name, ok := e.byPID[from]
	if !ok {
		return
	}
	cur := e.vassals[name]
	if cur == nil || cur.pid != from {
		return
	}
	now := e.now()
	switch ev.Event {
	case vassal.EventSpawned:
		cur.osPid = ev.OSPid
		e.Log().Debug("[emperor] vassal %s: pid %d (%s)", name, ev.OSPid, ev.Program)
		if cur.state == stateOnDemand {
			e.setState(cur, stateStarting)
		}
	case vassal.EventReady:
		cur.ready, cur.lastReady = true, now
		e.Log().Info("[emperor] vassal %s has been spawned", name)
		e.running(cur)
	case vassal.EventAccepting:
		cur.accepting, cur.lastAccepting = true, now
		e.Log().Info("[emperor] vassal %s is ready to accept requests", name)
		e.running(cur)
	case vassal.EventLoyal:
		cur.loyal, cur.lastLoyal = true, now
		e.black.remove(name)
		e.Log().Info("[emperor] vassal %s is now loyal", name)
	case vassal.EventCursed:
		cur.cursedAt = now
		e.Log().Warning("[emperor] curse the uwsgi instance %s (pid: %d): %s", name, cur.osPid, ev.Reason)
	case vassal.EventHeartbeatLost:
		cur.cursedAt = now
	case vassal.EventStopping:
		if cur.state != stateStopping {
			e.setState(cur, stateStopping)
		}
	case vassal.EventIdle:
		cur.osPid = -1
		e.Log().Info("[uwsgi-emperor] %s -> \"on demand\" instance detected, waiting for connections on socket \"%s\" ...", name, cur.cfg.Socket)
		if !cur.removing {
			e.setState(cur, stateOnDemand)
		}
	case vassal.EventRefused:
		cur.osPid = 0
		e.refuse(cur, ev.Reason)
	case vassal.EventExited:
		e.exited(cur, ev)
	}
}

func (e *emperor) running(cur *entry) {
	if cur.state == stateStarting || cur.state == stateReloading {
		e.setState(cur, stateRunning)
	}
}

func (e *emperor) exited(cur *entry, ev vassal.MessageEvent) {
	name := cur.cfg.Name
	cur.osPid = 0
	cur.ready, cur.accepting = false, false
	cur.cursedAt = time.Time{}
	switch {
	case cur.removing:
		e.setState(cur, stateStopping) // the actor ends next
	case cur.state == stateRefused:
		// stopped because it may not run any more (tyrant): stays refused
	case ev.Requested && cur.held:
		e.setState(cur, stateStopped)
	case ev.Requested:
		e.setState(cur, stateStarting) // a restart: the vassal starts again itself
	case ev.Voluntary && cur.cfg.Socket != "":
		e.setState(cur, stateOnDemand)
	default:
		how := fmt.Sprintf("exit code %d", ev.ExitCode)
		if ev.Signal != "" {
			how = ev.Signal
		}
		cur.respawns++
		wait := time.Duration(0)
		if !cur.loyal && !e.opts.NoBlacklist {
			var note throttleNote
			wait, note = e.black.add(name, e.now())
			switch note {
			case noteBadVassal:
				e.Log().Warning("[emperor] unloyal bad behaving vassal found: %s throttling it...", name)
			case noteMaxReached:
				e.Log().Warning("[emperor] maximum throttle level for vassal %s reached !!!", name)
			}
		}
		e.Log().Warning("[emperor] vassal %s died (%s after %s), respawn in %s", name, how, ev.Lived.Round(time.Millisecond), wait)
		cur.loyal = false
		e.setState(cur, stateThrottled)
		e.scheduleRespawn(cur, wait)
	}
}

// vassalGone handles the end of a vassal actor.
func (e *emperor) vassalGone(m gen.MessageExitPID) {
	name, ok := e.byPID[m.PID]
	if !ok {
		return
	}
	delete(e.byPID, m.PID)
	cur := e.vassals[name]
	if cur == nil || cur.pid != m.PID {
		return
	}
	cur.pid = gen.PID{}
	cur.osPid = 0
	if cur.removing {
		e.Log().Info("[emperor] removed uwsgi instance %s", name)
		e.stopped++
		if cur.readd && !e.ragnarok {
			fresh := &entry{cfg: cur.cfg, source: cur.source, born: cur.cfg.MTime, firstRun: e.now(), lastChange: e.now()}
			e.vassals[name] = fresh
			e.start(fresh)
		} else {
			delete(e.vassals, name)
		}
		e.answerStopAll()
		return
	}
	// the actor itself failed: treat it as a death of the vassal
	e.Log().Error("[emperor] vassal %s actor ended: %v", name, m.Reason)
	if cur.held || cur.state == stateRefused {
		return
	}
	e.exited(cur, vassal.MessageEvent{Event: vassal.EventExited, ExitCode: -1, Signal: "actor: " + fmt.Sprint(m.Reason)})
}

func (e *emperor) reloadRequest(name string) error {
	cur := e.vassals[name]
	if cur == nil || cur.removing {
		return fmt.Errorf("%w: %q", ErrUnknownVassal, name)
	}
	switch cur.state {
	case stateStopped, stateThrottled, stateRefused:
		cur.held = false
		cur.respawnGen++
		e.start(cur)
	case stateStopping:
		// a restart is already under way
	default:
		e.reload(cur)
	}
	return nil
}

func (e *emperor) stopRequest(name string) error {
	cur := e.vassals[name]
	if cur == nil || cur.removing {
		return fmt.Errorf("%w: %q", ErrUnknownVassal, name)
	}
	cur.held = true
	cur.respawnGen++
	switch cur.state {
	case stateStarting, stateRunning, stateReloading, stateStopping:
		e.Log().Info("[emperor] stop the uwsgi instance %s", name)
		e.Send(cur.pid, vassal.MessageStop{})
		e.setState(cur, stateStopping)
	case stateOnDemand:
		e.Send(cur.pid, vassal.MessageStop{})
		e.setState(cur, stateStopped)
	default:
		e.setState(cur, stateStopped)
	}
	return nil
}

func (e *emperor) stopAll(from gen.PID, ref gen.Ref) {
	if !e.ragnarok {
		e.Log().Info("[emperor] *** RAGNAROK EVOKED ***")
	}
	e.ragnarok = true
	e.stopAllReq = append(e.stopAllReq, from)
	e.stopAllRef = append(e.stopAllRef, ref)
	for name, cur := range e.vassals {
		cur.readd = false
		e.destroy(name, cur)
	}
}

func (e *emperor) answerStopAll() {
	if !e.ragnarok || len(e.vassals) > 0 {
		return
	}
	for i, pid := range e.stopAllReq {
		e.SendResponse(pid, e.stopAllRef[i], ResponseStopAll{Stopped: e.stopped})
	}
	e.stopAllReq, e.stopAllRef = nil, nil
	e.Log().Info("The Emperor is buried.")
}

func (e *emperor) table() ResponseVassals {
	out := make([]VassalInfo, 0, len(e.vassals))
	for name, cur := range e.vassals {
		pid := cur.osPid
		if pid < 0 {
			pid = 0
		}
		out = append(out, VassalInfo{Name: name, Source: cur.source, State: cur.state.String(), OSPid: pid,
			Restarts: cur.respawns, LastChange: cur.lastChange, Ready: cur.ready, Accepting: cur.accepting,
			Loyal: cur.loyal, Reason: cur.reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return ResponseVassals{Vassals: out}
}

// vassalOptions turns a config into a vassal's options.
func (e *emperor) vassalOptions(v VassalConfig) vassal.Options {
	o := vassal.Options{
		Name:         v.Name,
		Dir:          v.Dir,
		Imperial:     e.opts.Binary,
		Check:        e.opts.Check,
		Env:          e.opts.Env,
		UID:          -1,
		GID:          -1,
		Socket:       v.Socket,
		GracefulStop: e.opts.GracefulShutdown,
		StopTimeout:  e.opts.StopTimeout,
		Heartbeat:    e.opts.Heartbeat,
		Stdout:       e.opts.Stdout,
		Stderr:       e.opts.Stderr,
	}
	o.Programs = append(o.Programs, e.opts.WrapperOverride...)
	if e.opts.Wrapper != "" {
		o.Programs = append(o.Programs, e.opts.Wrapper)
	} else if e.opts.Binary != "" {
		o.Programs = append(o.Programs, e.opts.Binary)
	}
	o.Programs = append(o.Programs, e.opts.WrapperFallback...)
	if v.Path == "" {
		o.Config = v.Config
		if o.Config == nil {
			o.Config = []byte{}
		}
	} else if v.Dir != "" && filepath.Join(v.Dir, v.Name) == filepath.Clean(v.Path) {
		o.File = v.Name // uWSGI's dir monitor passes the bare name, cwd = the directory
	} else {
		o.File = v.Path
	}
	o.Flag = v.Format
	if o.Flag == "" {
		o.Flag = FormatOf(v.Name)
	}
	if o.Flag == "" {
		o.Flag = "config"
	}
	if e.opts.Tyrant {
		o.UID, o.GID = v.UID, v.GID
	}
	if e.opts.NodeName != "" {
		_, host, _ := strings.Cut(string(e.opts.NodeName), "@")
		node := NodeAlive(v.Name)
		if host != "" {
			node += "@" + host
		}
		o.ImperialArgs = []string{"--erlang", node}
		o.ImperialEnv = []string{vassal.EnvEmperorNode + "=" + string(e.opts.NodeName)}
		if nw := e.Node().Network(); nw != nil && nw.Cookie() != "" {
			// the cookie travels in the environment; argv only names the variable,
			// which apps/config's $(VAR) pass expands in the vassal
			o.ImperialArgs = append(o.ImperialArgs, "--erlang-cookie", "$("+vassal.EnvEmperorCookie+")")
			o.ImperialEnv = append(o.ImperialEnv, vassal.EnvEmperorCookie+"="+nw.Cookie())
		}
	}
	return o
}
