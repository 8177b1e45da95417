// Package tnetstring owns two wire formats of the Mongrel2 handler protocol
// (spec uwsgi.md §4): tnetstrings (the typed netstrings Mongrel2 uses for
// request headers when a handler's protocol is 'tnetstring') and the Mongrel2
// envelope around them — the request message Mongrel2 PUSHes to a handler
// (`UUID ID PATH HEADERS BODY`, headers as a tnetstring dict or a JSON object
// in a netstring) and the response message a handler PUBlishes back
// (`UUID SIZE:ID ID, BODY`).
//
// It is a pure codec: it imports only the standard library (no ergo, no net,
// no ZeroMQ) and never logs. Decoders take []byte, check every length read
// from the input against a named limit (see Limits) before using it, return
// ErrNeedMore (wrapped) when the input stops early and ErrMalformed,
// ErrTooLarge or ErrTooDeep (wrapped, test with errors.Is) when it is wrong.
// Nothing here panics on input.
//
// Imported by actors/mongrel2 (the handler's PULL/PUB meta processes and its
// request actor) and by tests that play Mongrel2. It must not import ergo,
// net, or any other imperial package.
package tnetstring
