// Package ernie runs imperial's Ernie: a BERT-RPC server that takes Ernie's
// config files, handlers, clients, CLI and access log unchanged. It keeps
// Ernie's process shape (ernie-bert.md §3.1) and fixes its failures
// (§2.5, §3.3, §3.7, §3.8):
//
//	ernie app (permanent: the process exists to serve)
//	└── ernie_sup (one_for_one, 5 restarts in 10 s)
//	    ├── ernie_beam           only with native Erlang entries: starts and
//	    │   └── beam meta        supervises the BEAM peer (erl -pa codepaths),
//	    │                        learns the modules' exports, restarts it
//	    ├── ernie_pool_<module>  one extworker pool per external entry
//	    │   └── worker metas     {command, C}, {count, N}: fd 3/4 {packet,4}
//	    └── ernie_server         binds the port; once the BEAM peer is ready:
//	        ├── listener meta    accepts; its connection goroutines read,
//	        │                    decode, route and run each request
//	        └── access-log meta  writes -a lines, reopens a moved file
//
// Actors decide, meta processes carry bytes: a connection's goroutine
// reads packets, decodes them, routes them with the immutable ernie.Router
// and runs native Go functions and native Erlang calls (one message to the
// call server on the BEAM peer and one back, erlcalls.go) itself; external
// requests go to the module's pool, whose worker puts the reply on the
// connection's channel. So a native call
// never waits behind an external one, an external request waits only for
// its own module's workers (high before low), several requests may share a
// connection, and undecodable input gets a protocol error reply and a
// close.
//
// Differences from Ernie, on purpose: error replies use the spec's codes
// (server 1 no such module, 2 no such function; protocol 1 header, 2 data)
// and the tuple form; {info, priority, low} works without the list;
// connections stay open for more requests; native floats go out as
// FLOAT_EXT; a worker dying mid-request answers its caller with a server
// error and is replaced; reload starts new workers at once; halt drains
// in-flight requests, then stops.
//
// Imports: ergo, imperial/ernie (semantics), imperial/ernie/config,
// imperial/ernie/accesslog, imperial/actors/extworker, imperial/bertrpc/bert
// and berp, imperial/node/etf. The Erlang distribution itself is reached
// through Options.ErlangRPC, which rel/imperial builds from node/kernel.
// Imported by rel/imperial (and its tests).
package ernie
