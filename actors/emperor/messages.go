package emperor

import (
	"time"

	"ergo.services/ergo/gen"
)

// VassalConfig is one vassal as a source sees it: uWSGI's (name, config, mtime,
// uid, gid, socket) tuple, the only thing every monitor reduces to.
type VassalConfig struct {
	Name   string    // the vassal's name: the file name with extension, the row's name, the routing key
	Path   string    // the config file, when the config is a file (dir, glob, an AMQP path body)
	Config []byte    // the config itself, when the source carries it (pg, mongodb, AMQP body, zmq)
	Format string    // "ini", "xml", "yaml" or "json"; empty means by Name's extension
	MTime  time.Time // change stamp: a newer one reloads the vassal
	UID    int       // tyrant mode owner; -1 when the source gives none
	GID    int       // -1 when the source gives none
	Socket string    // on-demand socket; empty for a normal vassal
	Dir    string    // the vassal's working directory (dir://: the directory); empty: the emperor's
}

// MessageSnapshot is a monitor's complete set of vassals. The emperor diffs it
// against what that source gave before: new names spawn, newer MTimes reload,
// missing names are destroyed. A monitor that loses its backend sends nothing
// (its vassals stay).
type MessageSnapshot struct {
	Source  string // the monitor's URL, e.g. "dir:///etc/uwsgi/vassals"
	Vassals []VassalConfig
}

// RequestVassals asks for the vassal table (Call); the answer is ResponseVassals.
type RequestVassals struct{}

// ResponseVassals lists every vassal the emperor knows, sorted by name.
type ResponseVassals struct {
	Vassals []VassalInfo
}

// VassalInfo is one row of the vassal table.
type VassalInfo struct {
	Name       string
	Source     string
	State      string    // starting, running, reloading, stopping, stopped, throttled, on_demand, refused
	OSPid      int       // 0 when no process runs
	Restarts   int       // reloads and respawns since the vassal appeared
	LastChange time.Time // the last state change
	Ready      bool
	Accepting  bool
	Loyal      bool
	Reason     string // why a refused vassal cannot run
}

// RequestReload asks for a graceful reload of one vassal (Call), as a touch of
// its config would; a stopped, throttled or refused vassal is started now.
// The answer is ResponseAction.
type RequestReload struct{ Name string }

// RequestStop asks to stop one vassal (Call) and keep it stopped until its
// config changes or RequestReload. The answer is ResponseAction.
type RequestStop struct{ Name string }

// ResponseAction answers RequestReload and RequestStop; Err wraps
// ErrUnknownVassal when no vassal has that name.
type ResponseAction struct{ Err error }

// RequestReloadAll reloads every running vassal (uWSGI's SIGHUP); the answer
// is ResponseReloadAll.
type RequestReloadAll struct{}

// ResponseReloadAll answers RequestReloadAll with how many vassals were told.
type ResponseReloadAll struct{ Reloaded int }

// RequestStopAll stops every vassal (uWSGI's Ragnarok): the answer,
// ResponseStopAll, comes once every vassal process is gone (each one killed
// after the stop timeout at the latest). Snapshots are ignored from then on.
type RequestStopAll struct{}

// ResponseStopAll answers RequestStopAll.
type ResponseStopAll struct{ Stopped int }

// Self-ticks and meta → emperor messages.
type (
	messageRespawn struct {
		name string
		gen  int
	}
	// messageStats asks for the stats JSON, to be sent to the stats connection meta.
	messageStats struct{ to gen.Alias }
	// statsJSON is the answer to messageStats.
	statsJSON struct{ data []byte }
)
