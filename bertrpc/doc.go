// Package bertrpc is a Go BERT-RPC client: Call, Cast and Info over BERP
// framing, with timeouts and cancellation from a context.
//
// A Client keeps one connection open and carries one request at a time
// (callers queue on an internal lock, honouring their context while they
// wait). Ernie closes every connection after one reply; the Client notices a
// connection the server has closed before it writes the next request and
// dials again, but cannot see a close that is still in flight, so against
// Ernie use CallOnce/CastOnce, or Dial, Info, Call, Close per request.
//
// Replies: {reply, X} gives X, {noreply} gives nil, {error, …} gives a
// *RemoteError that unwraps to a *bert.Error (use errors.As, or errors.Is
// with bert.ErrRemoteUser and friends); info packets the server sends before
// its reply are skipped. Any transport or protocol failure closes the
// connection; the next request dials a new one. Requests are never retried
// once written.
//
// This package may import net (it is a client) but never ergo; it imports
// imperial/bertrpc/bert, imperial/bertrpc/berp and imperial/node/etf. It is
// imported by tests, tools and actors that call BERT-RPC services.
package bertrpc
