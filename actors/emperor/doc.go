// Package emperor runs the uWSGI Emperor (shared/specs/uwsgi.md §3): it owns the
// vassal table and decides when a vassal starts, reloads, stops, is throttled
// or refused. Monitors (actors/monitor/...) send it whole snapshots of their
// source (MessageSnapshot); only the emperor diffs them. It never reads a config
// source and never touches an OS process: each vassal is an actors/vassal actor
// it spawns with LinkChild and whose exits it traps.
//
// It also defines the monitor → emperor contract (VassalConfig, MessageSnapshot,
// ValidName), serves uWSGI's emperor stats JSON (--emperor-stats) from a meta
// process, and answers RequestVassals/RequestReload/RequestStop/RequestStopAll
// for apps/emperor's `emperor` RPC module.
//
// Import rules: emperor imports actors/vassal (messages, Factory, Options) and
// ergo; it must not import a monitor, apps, supervisors or rel. Monitors import
// emperor for the contract; supervisors and apps/emperor import it to build the tree.
package emperor

import "errors"

// Errors the emperor reports in its responses and logs; test with errors.Is.
var (
	ErrUnknownVassal = errors.New("emperor: unknown vassal")
	ErrBadName       = errors.New("emperor: invalid vassal name")
	ErrTyrant        = errors.New("emperor: tyrant mode refuses uid/gid 0 or unknown")
	ErrOwned         = errors.New("emperor: vassal name owned by another source")
	ErrStopping      = errors.New("emperor: shutting down")
)
