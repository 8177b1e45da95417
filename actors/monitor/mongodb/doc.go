// Package mongodb is the mongodb:// emperor source (uWSGI's emperor_mongodb,
// spec uwsgi.md §3.2): `mongodb://ADDR,DB.COLLECTION,FILTER` (defaults
// 127.0.0.1:27017, uwsgi.emperor.vassals, {}) names a collection whose
// documents are vassals — name, config, ts (a BSON date, or a number of
// milliseconds), uid, gid, socket — polled every --emperor-freq with the
// official Go driver. A document with an empty config is the config file of
// that name, relative to the emperor's directory. Divergences from uWSGI, on
// purpose: one client is kept (uWSGI reconnects per scan and re-queries each
// known vassal to find removals; here each poll is the complete set), ts
// keeps milliseconds, a document that cannot be read is logged with its name
// and keeps the vassal it was.
//
// Files: spec.go (the mongodb:// argument), doc_vassal.go (a document →
// VassalConfig, pure), mongodb.go (the actor, over actors/monitor/netwatch),
// poll_meta.go (the client and its queries).
//
// Import rules: mongodb imports actors/emperor, actors/monitor/netwatch, ergo
// and go.mongodb.org/mongo-driver/v2; actors/monitor's scheme table imports it.
package mongodb

import "errors"

// Errors of mongodb; test with errors.Is.
var (
	ErrSpec     = errors.New("mongodb: bad mongodb:// spec")
	ErrName     = errors.New("mongodb: empty or missing name")
	ErrField    = errors.New("mongodb: field has the wrong type")
	ErrTooLarge = errors.New("mongodb: too large")
	ErrOptions  = errors.New("mongodb: bad options")
)
