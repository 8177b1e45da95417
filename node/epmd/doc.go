// Package epmd speaks the Erlang Port Mapper Daemon protocol for imperial's
// distribution node.
//
// It owns three things:
//   - the EPMD wire format (wire.go): pure encoders and incremental, bounded
//     decoders for ALIVE2, PORT_PLEASE2 and NAMES. That file imports neither
//     ergo nor net, and every decoder returns ErrNeedMore on short input;
//   - the client side (client.go, registrar.go): PortPlease2, Names, Alive2 and
//     Registrar, the gen.Registrar that ergo calls to register the node
//     (ALIVE2, kept open for the node's lifetime) and to resolve peers
//     (PORT_PLEASE2);
//   - an embedded epmd (server.go) that the Registrar starts on
//     127.0.0.1:Port when no epmd answers there, so that real erl nodes still
//     find each other and us.
//
// Wire layouts follow shared/specs/erlang-dist.md §1; how ergo drives a
// registrar follows shared/specs/ergo-network.md §6.
//
// It imports only the standard library and ergo's gen and lib packages; it must
// not import any other imperial package. Only imperial/node (which assembles
// gen.NetworkOptions) and tests import it.
package epmd
