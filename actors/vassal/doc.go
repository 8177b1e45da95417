// Package vassal runs one uWSGI-style vassal: one actor that owns the vassal's
// lifecycle (start, graceful reload, stop, curse, heartbeat, on-demand
// activation) and, per running OS process, one meta process that owns the
// process: its process group (Setpgid, Pdeathsig from a thread locked for the
// process's life), the emperor control socket (UWSGI_EMPEROR_FD, spec §3.5),
// the config socket (UWSGI_EMPEROR_FD_CONFIG, one uwsgi packet with modifier1
// 115 per start or per request byte 2), and the group kill after a stop times
// out. On-demand vassals get a second meta process that owns the listening
// socket and waits for it to become readable without accepting (spec §3.10).
//
// The vassal never decides whether to respawn: it reports every change to its
// parent in a MessageEvent and the emperor (actors/emperor) decides.
//
// Import rules: vassal imports ergo, actors/wire/uwsgi and golang.org/x/sys/unix;
// it must not import actors/emperor (which imports it), apps, supervisors or rel.
package vassal

import "errors"

// Errors reported in EventRefused reasons and returned by Init; test with errors.Is.
var (
	ErrOptions        = errors.New("vassal: bad options")
	ErrNoProgram      = errors.New("vassal: no program found")
	ErrConfigTooLarge = errors.New("vassal: config larger than 65535 bytes")
	ErrBind           = errors.New("vassal: cannot bind on-demand socket")
)
