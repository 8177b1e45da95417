// Package zmq is the zmq:// emperor source (uWSGI's emperor_zeromq, spec
// uwsgi.md §3.2): `zmq://ENDPOINT` binds a ZeroMQ PULL socket (go-zeromq/zmq4,
// wire-compatible with libzmq 4.3 PUSH peers such as pyzmq) at ENDPOINT
// (tcp://HOST:PORT or ipc://PATH) and takes multipart messages
// [command, name, config?, uid?, gid?, socket?]:
//
//   - touch: spawn the vassal, or reload it (every touch reloads: uWSGI stamps
//     touches with the current second and ignores a second touch within it);
//     an empty or absent config means the config file of that name in the
//     emperor's directory; uid/gid are decimal; an empty socket is a normal
//     vassal;
//   - destroy: remove the vassal (an unknown name is logged).
//
// Any other command, or a message without a name, is logged and ignored; a
// five-part message is read as five parts (uWSGI pulls an extra frame).
//
// zmq4 sizes a frame from its header before reading it, without a limit of its
// own: bind the endpoint to loopback or a trusted network only.
//
// Files: command.go (a message → a command, pure), zmq.go (the actor, over
// actors/monitor/netwatch), pull_meta.go (the socket and its Recv loop).
//
// Import rules: zmq imports actors/emperor, actors/monitor/netwatch, ergo and
// github.com/go-zeromq/zmq4; actors/monitor's scheme table imports it.
package zmq

import "errors"

// Errors of zmq; test with errors.Is.
var (
	ErrSpec     = errors.New("zmq: bad zmq:// spec")
	ErrMessage  = errors.New("zmq: bad message received (command and instance name required)")
	ErrCommand  = errors.New("zmq: unknown command")
	ErrID       = errors.New("zmq: bad uid or gid")
	ErrTooLarge = errors.New("zmq: too large")
	ErrOptions  = errors.New("zmq: bad options")
)
