// Package pg is the pg:// emperor source (uWSGI's emperor_pg, spec uwsgi.md
// §3.2): `pg://CONNINFO;QUERY` names a libpq connection string and a query
// whose rows are vassals — name, config, ts [, uid, gid [, socket]] — polled
// every interval and, when the conninfo carries `listen=CHANNEL`, also right
// after each NOTIFY on that channel. New rows spawn, a newer ts reloads, gone
// rows are destroyed (by the emperor, from the complete snapshots this source
// sends). Divergences from uWSGI, on purpose: one connection is kept (uWSGI
// opens one per scan), ts keeps its fraction (two updates in one second both
// reload), an empty or NULL socket column means a normal vassal (uWSGI tries
// to bind ""), and a row that cannot be read is logged with its name and
// keeps the vassal it was, without disturbing the others.
//
// Files: spec.go (the pg:// argument), row.go (a result row → VassalConfig,
// pure), pg.go (the actor, over actors/monitor/netwatch), poll_meta.go (the
// connection: pgx, LISTEN, queries).
//
// Import rules: pg imports actors/emperor (the contract), actors/monitor/netwatch,
// ergo and github.com/jackc/pgx/v5; actors/monitor's scheme table imports it.
package pg

import "errors"

// Errors of pg; test with errors.Is.
var (
	ErrSpec     = errors.New("pg: bad pg:// spec")
	ErrColumns  = errors.New("pg: query must return 3 to 6 columns (name, config, ts [, uid, gid [, socket]])")
	ErrName     = errors.New("pg: empty or NULL name")
	ErrConfig   = errors.New("pg: empty or NULL config")
	ErrTooLarge = errors.New("pg: too large")
	ErrTS       = errors.New("pg: bad ts")
	ErrID       = errors.New("pg: bad uid or gid")
	ErrOptions  = errors.New("pg: bad options")
)
