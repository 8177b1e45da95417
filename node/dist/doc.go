// Package dist is the connected phase of the Erlang distribution protocol for ergo:
// it implements gen.NetworkProto and gen.Connection over one TCP socket per peer
// (shared/specs/erlang-dist.md §4–§7, shared/specs/ergo-network.md §2–§4).
//
// It owns framing (ticks, the 'p' pass-through form, the 131,68 header form with the
// atom cache, 'E'/'F' fragments), the control messages of spec §5, the link and
// monitor tables of each connection, the $gen_call bridge that lets any ergo actor
// answer gen_server:call from erl (and lets an actor Call an erl process), and the
// erpc emulation of SPAWN_REQUEST (ergo-network §4 option B): an erpc call becomes a
// Call to the registered process named by Options.RPCName, and its reply becomes
// the DOWN/EXIT erl expects.
//
// The messages of every call (SEND, REG_SEND, SEND_SENDER, MONITOR_P, DEMONITOR_P
// in; the alias reply, SPAWN_REPLY and the result DOWN out) are read straight from
// the wire (fastctl.go) and written from typed fields (writer.go), without building
// and boxing term trees; everything else takes the general etf path, and tests
// hold the two to the same bytes and meaning. Output is batched: whoever finds the
// socket idle writes the whole queue, and the read loop holds replies back while a
// burst of requests is still buffered.
//
// Terms inside messages use the node/etf model, except that pids are gen.PID so that
// actors can answer them. Atoms stay etf.Atom; the encoder also accepts gen.Atom,
// gen.PID, gen.Ref, gen.Alias and gen.ProcessID.
//
// dist imports node/etf and node/handshake (for the negotiated flags); it is imported
// by node (which wires it into ergo) and node/kernel (for the request types).
package dist
