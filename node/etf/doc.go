// Package etf owns the Erlang External Term Format: the Go term model (Atom,
// Tuple, List, ImproperList, Map, Pid, Ref, Port, Export, Fun, BitString,
// int64 / *big.Int, float64, []byte), a canonical encoder (optionally
// restricted to the BERT tag subset) and a bounded, non-recursive decoder
// that is safe on hostile input.
//
// Encoding follows what OTP's term_to_binary emits with minor_version 2
// (smallest integer tag, UTF-8 atom tags, STRING_EXT for short lists of
// bytes, NEW_FLOAT_EXT). Decoding accepts every tag OTP 25..27 may send
// except LOCAL_EXT and the old FUN_EXT; non-canonical forms are accepted and
// canonicalised. Every length read from the input is checked against the
// remaining input and against Limits before anything is allocated, and
// nesting is tracked with an explicit stack bounded by Limits.MaxDepth.
//
// Decoders take []byte and return (term, n, err); err is ErrNeedMore when the
// input ends early, so stream readers can wait for more bytes.
//
// This package imports only the standard library: never ergo, never net.
// It is imported by node/dist, node/kernel (through dist), bertrpc/bert,
// bertrpc and the actors that exchange terms. Only node/dist maps etf values
// to ergo's types, through DecodeOptions.Atom/Pid and EncodeOptions.Hook.
package etf
