// Package worker is imperial's uWSGI worker: it serves one application on
// uwsgi sockets (--socket) and HTTP/1.1 sockets (--http-socket, keep-alive),
// with uWSGI's concurrency model (--processes × --threads requests at once),
// --harakiri, uWSGI RPC (modifier1 173, reaching the node's RPC registry) and
// ping (modifier1 100).
//
// The application is either a native Go app from one explicit table (Apps:
// testapp, static, hello, erlang) or an external one: OS processes of the
// extworker pool (actors/extworker) speaking BERT over fds 3/4,
// {request, Env, Body} → {response, Status, Headers, Body}; the Python WSGI
// adapter that apps/worker ships is one. External workers reach Erlang nodes
// through the bridge socket (bridge_meta.go): erlang_connect, erlang_rpc,
// erlang_send_message, erlang_recv_message, erlang_register_process,
// erlang_close.
//
// Actors decide, meta processes carry bytes: the worker actor owns the
// listeners and spawns the meta processes; each uwsgi accept loop (one per
// process × thread) and the HTTP server are meta processes that own their
// connections; the caller meta process receives the answers (pool replies,
// RPC results) that request goroutines wait for, so no request blocks an actor.
//
// It imports actors/cgi, actors/extworker (messages), actors/wire/uwsgi,
// bertrpc/berp, node/etf, node/dist (pid/ref conversion), node/rpc and ergo;
// it must not import apps, supervisors or rel. supervisors and apps import it.
package worker

import "errors"

// Errors returned by this package; test them with errors.Is.
var (
	ErrOptions  = errors.New("worker: bad options")
	ErrNoApp    = errors.New("worker: unknown app")
	ErrNoAnswer = errors.New("worker: no answer")
	ErrProtocol = errors.New("worker: bad answer from external worker")
)
