// Package handshake owns the Erlang distribution handshake, protocol version 6 (OTP 23+, the only one
// OTP 25+ speaks): the send_name/status/challenge/reply/ack codecs, the MD5 challenge digest, the DFLAG
// table and masks, and Handshake, the gen.NetworkHandshake that ergo calls for every distribution socket
// (Accept when erl dials us, Start when we dial erl). Specs: shared/specs/erlang-dist.md §2–3 and
// ergo-network.md §1.3–1.5, §7.
//
// The codecs (message.go, flags.go) are pure: they import neither ergo nor net, take []byte and return
// (value, n, err), ErrNeedMore when the input is incomplete. handshake.go, accept.go and start.go do the I/O.
//
// It imports only the standard library and ergo's gen; it must not import node/etf, node/dist, node/epmd or
// anything outside node/. It is imported by node (which plugs it into gen.NetworkOptions) and reads nothing
// of the connected phase: after 'a' the socket, the negotiated flags (Negotiated in HandshakeResult.Custom)
// and any bytes read past 'a' (HandshakeResult.Tail) belong to node/dist.
package handshake
