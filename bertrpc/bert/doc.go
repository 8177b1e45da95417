// Package bert owns the BERT conventions on top of the Erlang external term
// format: the complex types spelled as tuples headed by the atom bert, the
// mapping between them and Go values, and the BERT-RPC message forms
// ({call,…}, {cast,…}, {info,…}, {reply,…}, {noreply}, {error,…}).
//
// Go ↔ BERT:
//
//	nil              ↔ {bert, nil}
//	true, false      ↔ {bert, true}, {bert, false}
//	Dict (and Go maps, etf.Map on encode) ↔ {bert, dict, [{K, V}, …]}
//	time.Time        ↔ {bert, time, Mega, Sec, Micro}  (UTC, microseconds)
//	Regex (and *regexp.Regexp on encode)  ↔ {bert, regex, Source, [Opt, …]}
//
// Everything else is the etf term model: etf.Atom, int64/*big.Int, float64,
// []byte (binaries; Go strings encode as binaries too), etf.Tuple, etf.List
// (Go slices encode as lists), etf.ImproperList. The empty list and nil stay
// distinct: etf.List{} is [], nil is {bert, nil}.
//
// Encode always writes the BERT tag subset (ATOM_EXT, FLOAT_EXT, …) so that
// Ruby's bert 1.1.6 can read the result; terms that have no BERT form (pids,
// refs, ports, funs, bitstrings) are refused with ErrNotBERT. Decode accepts
// what real peers send (including NEW_FLOAT_EXT and UTF-8 atom tags), bounded
// by etf.Limits; MAP_EXT decodes as a Dict, and pids, refs and the like are
// passed through unchanged. Atoms are Latin-1 on the BERT wire: Ruby writes a
// symbol's UTF-8 bytes, so non-ASCII symbols do not survive the trip.
//
// This package is a pure codec: it imports only the standard library and
// imperial/node/etf; never ergo, never net. It is imported by
// imperial/bertrpc (the client) and the Ernie server actors.
package bert
