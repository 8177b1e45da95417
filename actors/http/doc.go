// Package http is imperial's HTTP front in router mode (uWSGI's --http with a
// subscription server): it speaks HTTP/1.1 with keep-alive to clients and
// uwsgi to the nodes subscribed for the request's Host, so a newcomer can
// curl a cluster without nginx.
//
// Actors decide, meta processes carry bytes: the front actor (Factory) owns
// its listeners; each client connection gets one session meta process that
// owns the client and node sockets, reads requests, asks the subscription
// server (actors/subscription) for a node per request, and relays the answer.
//
// It imports actors/subscription (messages, Client), actors/cgi,
// actors/wire/uwsgi and ergo; it must not import apps, supervisors, rel or
// other actor packages. supervisors and apps import it.
package http

import "errors"

// Errors returned by this package; test them with errors.Is.
var (
	ErrOptions = errors.New("http: bad options")
)
