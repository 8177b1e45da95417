// Package accesslog owns Ernie's access log: the line format
// (ernie-bert.md §6), an Erlang ~p term printer for the request field, and
// a Writer that appends lines to a path and reopens it when the file was
// moved or deleted.
//
// A line, as Ernie writes it when a request completes:
//
//	ACC [2026-11-21T15:23:30.208184] 0.002686 0.001312 - 0 0 nat high - {call,tnat,add,[1,2]}
//	ERR [2026-11-21T15:25:03.891678] 0.000137 1.001900 - 0 0 ext high - External process error error: {badmatch,{error,closed}} : {call,tnat,slow,[1]}
//
// One deliberate difference: Ernie right-pads the microseconds with zeros
// (85559 µs prints as 855590); this package left-pads them (085559), as the
// spec recommends.
//
// Imports: the standard library and imperial/node/etf (the term model) only.
// Never ergo, never net. Imported by actors/ernie, whose access-log actor
// owns one Writer.
package accesslog
