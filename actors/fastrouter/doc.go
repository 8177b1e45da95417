// Package fastrouter is imperial's uWSGI FastRouter: it accepts uwsgi
// requests, picks the routing key from their vars (UWSGI_FASTROUTER_KEY, else
// HTTP_HOST, else SERVER_NAME), asks the subscription server for a node, and
// splices client and node together (shared/specs/uwsgi.md §2.8, §2.9).
//
// Actors decide, meta processes carry bytes: the fastrouter actor (Factory)
// only owns its listeners; each accepted connection gets one session meta
// process that owns both sockets and the copy loop, and picks the node in the
// subscription server's table (actors/subscription Shared; by message when
// the router has no table). Bytes never cross a mailbox, and nothing on a
// request's path goes through one.
//
// It imports actors/subscription (messages, Client, Name), actors/wire/uwsgi
// and ergo; it must not import apps, supervisors, rel or other actor packages.
// supervisors and apps import it.
package fastrouter

import "errors"

// Errors returned by this package; test them with errors.Is.
var (
	ErrOptions = errors.New("fastrouter: bad options")
	ErrNoKey   = errors.New("fastrouter: request without routing key")
)
