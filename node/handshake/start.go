package handshake

import (
	"crypto/subtle"
	"fmt"
	"net"

	"ergo.services/ergo/gen"
)

// Start implements gen.NetworkHandshake for a socket we dialled (spec erlang-dist.md §2.5). ergo does not
// say which node it dials; the peer's name comes from the challenge, and ergo compares it afterwards.
//
// Concurrent Starts to one peer (ergo-network.md P3) are serialised twice: by remote address before
// send_name, so a latecomer to the same address sends nothing until the first one ends, and by peer name
// after the challenge. A latecomer whose predecessor completed fails with ErrConcurrentStart; one whose
// predecessor failed carries on. Each step has a SetupTimeout deadline, cleared before Start returns; on
// error the caller closes conn.
func (h *Handshake) Start(node gen.NodeHandshake, conn net.Conn, opts gen.HandshakeOptions) (res gen.HandshakeResult, err error) {
	s := &stream{conn: conn, timeout: h.timeout}
	defer s.clear()

	if addr, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		finishAddr, cerr := h.claim("addr " + addr.String())
		if cerr != nil {
			return gen.HandshakeResult{}, cerr
		}
		defer func() { finishAddr(err == nil) }()
	}

	b, err := AppendSendName(nil, SendName{
		Flags:    h.flags,
		Creation: uint32(node.Creation()),
		Name:     string(node.Name()),
	})
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	if err := s.write(b); err != nil {
		return gen.HandshakeResult{}, err
	}

	status, err := next(s, "status", ParseStatus)
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	switch status {
	case StatusOK, StatusOKSimultaneous:
	case StatusNok:
		return gen.HandshakeResult{}, fmt.Errorf("%w: nok (the peer's own connection attempt to us wins)", ErrRefused)
	case StatusNotAllowed:
		return gen.HandshakeResult{}, fmt.Errorf("%w: not_allowed (the peer rejects our flags or name)", ErrRefused)
	case StatusAlive:
		// ergo dials only when it has no connection to the peer, so ours is dead (ergo-network.md §1.4).
		b, _ := AppendStatus(nil, StatusTrue)
		if err := s.write(b); err != nil {
			return gen.HandshakeResult{}, err
		}
	default:
		return gen.HandshakeResult{}, fmt.Errorf("%w: %q", ErrBadStatus, status)
	}

	ch, err := next(s, "challenge", ParseChallenge)
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	if err := CheckName(ch.Name); err != nil {
		return gen.HandshakeResult{}, err
	}
	peer := gen.Atom(ch.Name)
	finishNode, err := h.claim("node " + ch.Name)
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	defer func() { finishNode(err == nil) }()

	negotiated := ExpandFlags(h.flags) & ExpandFlags(ch.Flags)
	if missing := Mandatory25 &^ negotiated; missing != 0 {
		return gen.HandshakeResult{}, fmt.Errorf("%w: connection attempt to %s aborted since it cannot handle %v",
			ErrMissingFlags, peer, FlagNames(missing))
	}

	ours := newChallenge(ch.Challenge)
	cookie := h.cookieFor(peer, opts)
	if err := s.write(AppendReply(nil, Reply{Challenge: ours, Digest: Digest(cookie, ch.Challenge)})); err != nil {
		return gen.HandshakeResult{}, err
	}
	ack, err := next(s, "ack", ParseAck)
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	want := Digest(cookie, ours)
	if subtle.ConstantTimeCompare(ack.Digest[:], want[:]) != 1 {
		return gen.HandshakeResult{}, fmt.Errorf("%w: invalid challenge ack from %s", ErrBadDigest, peer)
	}
	return h.result(Negotiated{
		Flags:        negotiated,
		PeerFlags:    ch.Flags,
		PeerCreation: ch.Creation,
		Peer:         peer,
	}, s.buf), nil
}
