// Package ernie owns Ernie's semantics, independent of any actor framework:
//
//   - the native Go module table (GoModule, Function, Natives): handlers
//     compiled into imperial and listed in one explicit table built in code;
//     Demo is the module the tests and the benchmark use;
//   - the Router: which handler answers {call, Mod, Fun, Args}, walking the
//     config entries of Mod in file order (native first when it exports
//     Fun/Arity and its Fun_pred, if any, accepts the call; then external),
//     ernie-bert.md §3.4;
//   - the request forms: ParseAction and ParseInfo ({info, priority, low}
//     and {info, priority, [low]} both select the low queue; other infos are
//     accepted and ignored);
//   - error replies with the BERT-RPC spec's types and codes (protocol 1/2,
//     server 1/2, user 0), ernie-bert.md §2.3, built as *bert.Error;
//   - the conversions Ernie's bert.erl applies between BERT and native Erlang
//     handlers ({bert,nil} → [], {bert,true} → true, and back), and the ~p
//     rendering of Erlang exceptions as user errors;
//   - the admin calls ('__admin__': reload_handlers, stats, halt) and the
//     six-line stats text (§5.2).
//
// Imports: the standard library, imperial/ernie/config,
// imperial/ernie/accesslog (its ~p printer), imperial/bertrpc/bert and
// imperial/node/etf. Never ergo, never net. Imported by actors/ernie and by
// rel/imperial (which builds the Natives table).
package ernie
