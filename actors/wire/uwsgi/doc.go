// Package uwsgi is the codec for the uwsgi binary protocol: the 4-byte packet
// header (modifier1, little-endian datasize, modifier2), the vars block
// ("uwsgi dictionary" of u16le-length-prefixed key/value records), the uwsgi
// array, and the RPC packets of modifier1 173 (see shared/specs/uwsgi.md §1).
//
// It owns no state and does no I/O: decoders take a []byte and return
// (value, n, err), with ErrNeedMore while the input is incomplete, so a
// connection loop can read into a buffer and call them again. Every length read
// from the input is checked against a named limit (MaxVarsSize, MaxVars,
// MaxRPCItems, MaxRPCResult) before anything is allocated.
//
// Decoded keys, values and RPC items are views into the input buffer (no
// copies): they stay valid only as long as the caller leaves that buffer alone.
// This is what lets a router pick a key and forward the raw bytes without
// allocating; copy what you keep.
//
// It must not import ergo or net, nor any imperial package outside
// actors/wire. It is imported by actors/wire/subscription and by the actors
// that speak uwsgi (actors/fastrouter, actors/http, actors/subscription, the
// RPC listener). Building CGI vars from an HTTP request is not done here.
package uwsgi

import "errors"

// Errors returned by this package; they are wrapped with details, test them
// with errors.Is.
var (
	ErrNeedMore  = errors.New("uwsgi: need more input")
	ErrTooLarge  = errors.New("uwsgi: too large")
	ErrTruncated = errors.New("uwsgi: truncated record")
	ErrEmptyKey  = errors.New("uwsgi: empty key")
	ErrEmptyItem = errors.New("uwsgi: empty array item")
	ErrNoFunc    = errors.New("uwsgi: rpc request without function name")
	ErrModifier  = errors.New("uwsgi: unexpected modifier")
	ErrNumber    = errors.New("uwsgi: bad decimal number")
)

// Values of modifier1 (spec §1.4). Only the ones imperial reads or writes are
// named; the header carries any byte.
const (
	ModWSGI         = 0   // WSGI request + body
	ModPSGI         = 5   // PSGI (Perl) request
	ModLua          = 6   // Lua/WSAPI request
	ModRack         = 7   // Rack (Ruby) request
	ModJVM          = 8   // JWSGI/Ring request
	ModCGI          = 9   // CGI request
	ModPHP          = 14  // PHP request
	ModWSGIStripped = 30  // WSGI with SCRIPT_NAME stripped from PATH_INFO
	ModHTTP         = 72  // 'H': a raw HTTP response read as a uwsgi header
	ModPing         = 100 // ping (modifier2 0) / pong (modifier2 1)
	ModEcho         = 101 // echo
	ModSignal       = 110 // uwsgi signal, modifier2 = signal number
	ModEmperor      = 115 // emperor → vassal config push
	ModRPC          = 173 // RPC, modifier2 = RPC mode
	ModCloseMark    = 200 // close mark for persistent connections
	ModSubscription = 224 // subscription, modifier2 0 subscribe / 1 unsubscribe
	ModResponse     = 255 // generic response
)
