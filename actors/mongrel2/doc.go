// Package mongrel2 runs imperial as a Mongrel2 handler (uWSGI's --zeromq,
// spec shared/specs/uwsgi.md §4) and ships imperial's log lines to ZeroMQ
// collectors (uWSGI's --logger zeromq:, §5).
//
// Handler: for every Mongrel2 server (--zeromq SEND_SPEC,RECV_SPEC) the
// actor imperial_mongrel2 spawns Processes handler meta processes. Each one
// has its own UUID, connects as a PULL socket to Mongrel2's send_spec
// (Mongrel2 PUSHes requests round-robin over every connected handler) and as
// a PUB socket, with the UUID as its identity, to Mongrel2's recv_spec, and
// reconnects both whenever Mongrel2 goes away. zmq4 performs the ZMTP
// handshake; framing is done here (zmtp.go: buffered, bounded, batched). The
// receive loop only reads; each message gets its own goroutine, which parses
// it (package actors/wire/tnetstring; a malformed one is logged and dropped)
// and serves it, so a slow request never holds up the next one. Requests
// are served by the same apps as the uWSGI/HTTP worker (actors/worker): a
// native Go http.Handler from worker.Apps, or the extworker pool running the
// Python WSGI adapter. Large bodies that Mongrel2
// spooled to disk (x-mongrel2-upload-start/-done) are read from the temp
// file, resolved inside Options.Chroot (Mongrel2's chroot).
//
// Logging: LogQueue is an io.Writer that never blocks (every Write is one
// log line, kept in a bounded queue; a full queue drops and counts), and the
// log pusher (actor imperial_logzmq with one PUSH meta process per
// endpoint, zmtp.go framing) sends each line as one single-part ZeroMQ message, as uWSGI's
// logzmq plugin does.
//
// It imports ergo, github.com/go-zeromq/zmq4 (and its NULL security),
// actors/wire/tnetstring, actors/wire/uwsgi, actors/cgi, actors/extworker
// (messages) and actors/worker (its app table and external-app payload codec: the apps must
// be the worker's, not a copy). It must not import apps, supervisors or rel;
// supervisors and apps/mongrel2 import it.
package mongrel2

import "errors"

// Errors of this package; test them with errors.Is.
var (
	// ErrOptions means Options that cannot run.
	ErrOptions = errors.New("mongrel2: bad options")
	// ErrUpload means an upload-done message whose temp file cannot be
	// served (mismatched or missing paths, outside the chroot, not a regular
	// file, size not the announced content-length, or not a real upload).
	ErrUpload = errors.New("mongrel2: bad upload")
	// ErrNoAnswer means the external app did not answer.
	ErrNoAnswer = errors.New("mongrel2: no answer")
)
