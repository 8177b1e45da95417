// Package amqp is the amqp:// emperor source (uWSGI's emperor_amqp, spec
// uwsgi.md §3.2): it binds a server-named, exclusive queue to the fanout
// exchange `uwsgi.emperor` (declared non-durable, as uWSGI does) and turns
// each message into a vassal change:
//
//   - routing key set: the key is the vassal's name and the body its config;
//     a new name spawns, a known one reloads with the new config (real uWSGI
//     crashes with a double free here), an empty body removes it;
//   - routing key empty: the body is a config file path (the vassal is named
//     by it; a path that is not a regular file removes it) or an http:// or
//     https:// URL whose 200 body is the config (any other status removes the
//     vassal; a failed fetch is logged and changes nothing). ValidName refuses
//     ':' in names, so a URL vassal is named by the URL without its scheme,
//     ':' replaced by '_' ("127.0.0.1_8080/app.ini").
//
// Every message is a touch stamped with the time it arrived, so it always
// reloads. The connection negotiates channel_max (RabbitMQ ≥ 3.10 refuses
// uWSGI's 0) and is re-made with backoff when the broker goes away; the
// source's vassals stay meanwhile (messages published while it is away are
// lost, as with uWSGI: the queue is the connection's).
//
// Files: spec.go (the amqp:// argument), delivery.go (a message → an action,
// pure), amqp.go (the actor, over actors/monitor/netwatch), consume_meta.go
// (the connection, deliveries, file checks and HTTP fetches).
//
// Import rules: amqp imports actors/emperor, actors/monitor/netwatch, ergo
// and github.com/rabbitmq/amqp091-go; actors/monitor's scheme table imports it.
package amqp

import "errors"

// Errors of amqp; test with errors.Is.
var (
	ErrSpec     = errors.New("amqp: bad amqp:// spec")
	ErrEmpty    = errors.New("amqp: empty message without routing key")
	ErrTooLarge = errors.New("amqp: too large")
	ErrFetch    = errors.New("amqp: cannot fetch config")
	ErrOptions  = errors.New("amqp: bad options")
)
