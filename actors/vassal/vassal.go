package vassal

// The vassal actor: one per vassal config, alive from the emperor's spawn
// until the config is removed; its OS process may start, reload and die many
// times meanwhile.
//
// Accepts  MessageStart, MessageReload, MessageStop (from the emperor);
//          procSpawned, procByte, procClosed, procWriteFailed, procRefused,
//          procExited (from procMeta); odReady (from odMeta); messageKill,
//          messageHeartbeat, messageRebind (its own timers).
// Replies  nothing.
// Sends    MessageEvent to its parent (the emperor) on every change;
//          procWrite, procConfig, procKill to procMeta; odArm to odMeta.
// Spawns   one procMeta per process start; one odMeta per on-demand vassal
//          (kept across process starts, so the socket stays bound).
// Owns     no OS resource itself: the metas own the process and the socket.
//          When the actor ends (MessageStop{Remove}, or its parent's exit) the
//          node terminates the metas, and procMeta stops the process.

import (
	"fmt"
	"os"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"
)

var _ act.ActorBehavior = (*vassal)(nil)

// Factory makes a vassal actor; spawn it with one Options argument. It starts
// its process at once (MessageStart to itself).
func Factory() gen.ProcessBehavior { return &vassal{} }

const rebindAfter = time.Second

type vassal struct {
	act.Actor
	o Options

	proc      gen.Alias // the running procMeta
	running   bool
	osPid     int
	stopping  bool // a stop byte went out (emperor's stop, or the vassal's own 22)
	voluntary bool // the stop came from the vassal (22)
	cursed    bool
	remove    bool // terminate once the process is gone
	restart   bool // MessageStart came while the process was still running

	od           *odMeta // on-demand socket owner, nil for a normal vassal
	odAlias      gen.Alias
	backToDemand bool
	bindFailed   bool

	killGen     int
	hbGen       int
	hbCancel    gen.CancelFunc
	broodWarned bool
}

func (v *vassal) Init(args ...any) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want 1 argument (Options), got %d", ErrOptions, len(args))
	}
	o, ok := args[0].(Options)
	if !ok {
		return fmt.Errorf("%w: want Options, got %T", ErrOptions, args[0])
	}
	if err := o.check(); err != nil {
		return err
	}
	v.o = o
	return v.Send(v.PID(), MessageStart{})
}

func (v *vassal) event(ev MessageEvent) {
	ev.Name = v.o.Name
	if ev.OSPid == 0 {
		ev.OSPid = v.osPid
	}
	v.Send(v.Parent(), ev)
}

func (v *vassal) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case MessageStart:
		if m.Options != nil {
			o := *m.Options
			if err := o.check(); err != nil {
				v.event(MessageEvent{Event: EventRefused, Reason: err.Error()})
				return nil
			}
			if o.Socket != v.o.Socket && v.od != nil {
				v.SendExitMeta(v.odAlias, gen.TerminateReasonNormal)
				v.od = nil
			}
			v.o = o
		}
		v.start()

	case MessageReload:
		if m.Config != nil {
			v.o.Config = m.Config
		}
		if v.running && !v.stopping && !v.cursed {
			v.Send(v.proc, procWrite{b: byteReload})
			v.event(MessageEvent{Event: EventReloading})
		}

	case MessageStop:
		v.remove = v.remove || m.Remove
		v.restart = false
		if v.running {
			v.stop(false)
			return nil
		}
		if v.od != nil {
			v.SendExitMeta(v.odAlias, gen.TerminateReasonNormal)
			v.od = nil
		}
		if v.remove {
			return gen.TerminateReasonNormal
		}

	case procSpawned:
		v.osPid = m.pid
		v.event(MessageEvent{Event: EventSpawned, OSPid: m.pid, Program: m.program})

	case procByte:
		v.handleByte(m.b)

	case procClosed:
		v.curse(m.reason)

	case procWriteFailed:
		v.curse("write to the vassal failed: " + m.err)

	case procRefused:
		v.running = false
		v.event(MessageEvent{Event: EventRefused, Reason: m.reason})
		if v.remove {
			return gen.TerminateReasonNormal
		}

	case procExited:
		return v.exited(m)

	case odReady:
		if !v.running && v.od != nil {
			v.spawn(v.od.ln)
		}

	case messageKill:
		if m.gen == v.killGen && v.running {
			v.Log().Warning("vassal %s (pid %d) did not stop within %s: killing its process group", v.o.Name, v.osPid, v.o.StopTimeout)
			v.Send(v.proc, procKill{})
			v.armKill()
		}

	case messageHeartbeat:
		if m.gen == v.hbGen && v.running && !v.stopping {
			v.Log().Warning("vassal %s sent no heartbeat in last %s, brutally respawning it...", v.o.Name, v.o.Heartbeat)
			v.event(MessageEvent{Event: EventHeartbeatLost})
			v.Send(v.proc, procKill{})
		}

	case messageRebind:
		if v.od == nil && !v.running && !v.remove {
			v.start()
		}

	default:
		v.Log().Error("vassal %s: unknown message %T %#v from %s", v.o.Name, message, message, from)
	}
	return nil
}

// start runs the process, or arms the on-demand socket.
func (v *vassal) start() {
	if v.running {
		v.restart = true
		return
	}
	if v.o.Socket == "" {
		v.spawn(nil)
		return
	}
	if v.od == nil {
		od := newOnDemand(v.o.Socket)
		alias, err := v.SpawnMeta(od, gen.MetaOptions{})
		if err != nil {
			if !v.bindFailed {
				v.event(MessageEvent{Event: EventRefused, Reason: err.Error()})
			}
			v.bindFailed = true
			v.SendAfter(v.PID(), messageRebind{}, rebindAfter)
			return
		}
		v.bindFailed = false
		v.od, v.odAlias = od, alias
	} else {
		v.Send(v.odAlias, odArm{})
	}
	v.event(MessageEvent{Event: EventIdle, OSPid: -1})
}

func (v *vassal) spawn(stdin *os.File) {
	alias, err := v.SpawnMeta(&procMeta{o: v.o, stdin: stdin}, gen.MetaOptions{})
	if err != nil {
		v.event(MessageEvent{Event: EventRefused, Reason: err.Error()})
		return
	}
	v.proc, v.running = alias, true
	v.stopping, v.voluntary, v.cursed, v.backToDemand = false, false, false, false
}

// stop asks the process to stop and kills its group after StopTimeout.
func (v *vassal) stop(voluntary bool) {
	if v.stopping {
		return
	}
	v.stopping, v.voluntary = true, voluntary
	v.Send(v.proc, procWrite{b: v.o.stopByte()})
	v.armKill()
	v.event(MessageEvent{Event: EventStopping})
}

func (v *vassal) curse(reason string) {
	if !v.running || v.stopping || v.cursed {
		return
	}
	v.cursed = true
	v.event(MessageEvent{Event: EventCursed, Reason: reason})
	v.armKill()
}

func (v *vassal) armKill() {
	v.killGen++
	v.SendAfter(v.PID(), messageKill{gen: v.killGen}, v.o.StopTimeout)
}

func (v *vassal) handleByte(b byte) {
	switch b {
	case byteReady:
		v.event(MessageEvent{Event: EventReady})
	case byteConfigWanted:
		if v.o.File == "" {
			v.Send(v.proc, procConfig{config: v.o.Config})
		}
	case byteAccepting:
		v.event(MessageEvent{Event: EventAccepting})
	case byteLoyal:
		v.event(MessageEvent{Event: EventLoyal})
	case byteHeartbeat:
		if v.hbCancel != nil {
			v.hbCancel()
		}
		v.hbGen++
		v.hbCancel, _ = v.SendAfter(v.PID(), messageHeartbeat{gen: v.hbGen}, v.o.Heartbeat)
	case byteVoluntaryStop:
		if v.od != nil {
			v.Log().Info("[emperor] bringing back instance %s to on-demand mode", v.o.Name)
			v.backToDemand = true
		}
		v.stop(true)
	case byteBroodlord:
		if !v.broodWarned {
			v.Log().Warning("vassal %s asked for broodlord zergs: not supported", v.o.Name)
			v.broodWarned = true
		}
	default:
		v.Log().Warning("vassal %s sent unknown byte %d", v.o.Name, b)
	}
}

func (v *vassal) exited(m procExited) error {
	ev := MessageEvent{Event: EventExited, ExitCode: m.code, Signal: m.signal, Lived: m.lived,
		Requested: v.stopping && !v.voluntary, Voluntary: v.stopping && v.voluntary}
	v.running = false
	v.killGen++
	v.hbGen++
	if v.hbCancel != nil {
		v.hbCancel()
		v.hbCancel = nil
	}
	v.event(ev)
	v.osPid = 0
	switch {
	case v.remove:
		return gen.TerminateReasonNormal
	case v.restart:
		v.restart = false
		v.start()
	case v.backToDemand && v.od != nil:
		v.backToDemand = false
		v.Log().Info("[uwsgi-emperor] %s -> back to \"on demand\" mode, waiting for connections on socket \"%s\" ...", v.o.Name, v.o.Socket)
		v.Send(v.odAlias, odArm{})
		v.event(MessageEvent{Event: EventIdle, OSPid: -1})
	}
	return nil
}
