// Package config reads Ernie's configuration file: a sequence of Erlang terms
// in file:consult syntax, one property list per handler entry, such as
//
//	[{module, nat}, {type, native}, {codepaths, ["/srv/app/ebin"]}].
//	[{module, ext}, {type, external}, {command, "ruby /srv/app/ext.rb"}, {count, 2}].
//
// It owns two layers:
//
//   - Consult: a lexer and parser for Erlang term text as file:consult reads
//     it (atoms, strings with Erlang escapes, integers in any base, $c
//     characters, floats, tuples, proper and improper lists, simple binaries,
//     maps, % comments, each term ended by a dot). Terms come out in the
//     imperial/node/etf term model; see Consult for the mapping.
//   - Parse: validation of those terms into []ModuleSpec, the entries in file
//     order (file order is shadowing order, ernie-bert.md §3.4), with every
//     problem reported as file:line:col.
//
// Server holds the server-wide options Ernie takes on its command line
// (ernie-bert.md §5.1) and their defaults.
//
// Errors: every syntax or validation error is a *PosError wrapping one of the
// sentinel errors below; Parse joins all validation errors it finds
// (errors.Join), so errors.Is and errors.As work on its result.
//
// Imports: the standard library and imperial/node/etf only. Never ergo, never
// net. Imported by actors/ernie and apps (and rel/imperial for -t).
package config
