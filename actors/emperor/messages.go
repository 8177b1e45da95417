package emperor

import "time"

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
}

// MessageSnapshot is a monitor's complete set of vassals. The emperor diffs it
// against what that source gave before: new names spawn, newer MTimes reload,
// missing names are destroyed. A monitor that loses its backend sends nothing
// (its vassals stay).
type MessageSnapshot struct {
	Source  string // the monitor's URL, e.g. "dir:///etc/uwsgi/vassals"
	Vassals []VassalConfig
}
