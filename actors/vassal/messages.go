package vassal

import (
	"strconv"
	"time"
)

// MessageStart asks the vassal to run its process now: spawn it, or, for an
// on-demand vassal, bind its socket and spawn on the first connection.
// Options, when not nil, replaces the vassal's options first (a respawn after
// the config changed, tyrant uid/gid changed, ...).
type MessageStart struct {
	Options *Options
}

// MessageReload asks a running vassal to reload gracefully (byte 1 on the
// emperor fd; a config-based vassal gets Config when it asks for it with
// byte 2). An on-demand vassal that is not running only records Config.
type MessageReload struct {
	Config []byte // the new config of a config-based vassal; nil keeps the old one
}

// MessageStop asks the vassal to stop its process (byte 0, or 2 with
// Options.GracefulStop), killing its process group after Options.StopTimeout.
// With Remove the actor terminates (reason normal) once the process is gone;
// without it the actor stays, idle, until the next MessageStart.
type MessageStop struct {
	Remove bool
}

// Event is what happened to a vassal's process, reported to the emperor in a
// MessageEvent.
type Event int

const (
	// EventSpawned: the process started (OSPid is set).
	EventSpawned Event = iota + 1
	// EventReady: the vassal sent byte 1 (its master is up).
	EventReady
	// EventAccepting: the vassal sent byte 5 (a worker accepts requests).
	EventAccepting
	// EventLoyal: the vassal sent byte 17 (it served a request, or is a sub-emperor).
	EventLoyal
	// EventReloading: byte 1 was written to the vassal.
	EventReloading
	// EventStopping: a stop byte was written (or the vassal asked to stop with 22).
	EventStopping
	// EventCursed: the emperor fd closed, or a write to it failed, while the
	// process runs; it is killed after Options.StopTimeout unless it exits.
	EventCursed
	// EventHeartbeatLost: no heartbeat (26) within Options.Heartbeat; the group is killed.
	EventHeartbeatLost
	// EventExited: the process is gone (ExitCode, Signal; Requested if it was
	// asked to stop); an on-demand vassal that was asked with 22 goes back to
	// EventIdle after this.
	EventExited
	// EventIdle: an on-demand vassal waits for a connection on its socket (no process).
	EventIdle
	// EventRefused: the vassal cannot run (Reason): an unknown plugin without a
	// wrapper, no program found, a config too large, an on-demand socket that
	// cannot be bound. It is not retried until the emperor sends MessageStart again.
	EventRefused
)

func (e Event) String() string {
	switch e {
	case EventSpawned:
		return "spawned"
	case EventReady:
		return "ready"
	case EventAccepting:
		return "accepting"
	case EventLoyal:
		return "loyal"
	case EventReloading:
		return "reloading"
	case EventStopping:
		return "stopping"
	case EventCursed:
		return "cursed"
	case EventHeartbeatLost:
		return "heartbeat_lost"
	case EventExited:
		return "exited"
	case EventIdle:
		return "idle"
	case EventRefused:
		return "refused"
	}
	return "event#" + strconv.Itoa(int(e))
}

// MessageEvent is sent by a vassal actor to its parent (the emperor) on every
// change of its process.
type MessageEvent struct {
	Name      string
	Event     Event
	OSPid     int           // the process (EventSpawned and later); 0 when none
	ExitCode  int           // EventExited: exit status, -1 when killed by a signal
	Signal    string        // EventExited: the signal that killed it, if any
	Requested bool          // EventExited: the emperor asked it to stop (MessageStop)
	Voluntary bool          // EventExited: the vassal asked to stop (22); an on-demand one is idle again
	Lived     time.Duration // EventExited: how long the process ran
	Reason    string        // EventRefused, EventCursed: why
	Program   string        // EventSpawned: the binary that runs the vassal
}

// Between the vassal actor and its meta processes (same package).
type (
	procWrite   struct{ b byte }
	procConfig  struct{ config []byte }
	procKill    struct{}
	procSpawned struct {
		pid      int
		program  string
		imperial bool
	}
	procByte        struct{ b byte }
	procClosed      struct{ reason string }
	procWriteFailed struct{ err string }
	procRefused     struct{ reason string }
	procExited      struct {
		code   int
		signal string
		lived  time.Duration
	}
	odArm   struct{}
	odReady struct{}
)

// Self-ticks of the vassal actor; gen tells a stale timer from the current one.
type (
	messageKill      struct{ gen int }
	messageHeartbeat struct{ gen int }
	messageRebind    struct{}
)
