package handshake

import (
	"crypto/subtle"
	"fmt"
	"net"

	"ergo.services/ergo/gen"
)

// Accept implements gen.NetworkHandshake for a socket that a peer dialled (spec erlang-dist.md §2.4). ergo
// runs it inline in its accept loop (ergo-network.md P1), so every step has a SetupTimeout deadline; the
// deadline is cleared before Accept returns. On error the caller closes conn; nothing after the failure
// point has been sent (in particular no 'a' on a wrong cookie).
func (h *Handshake) Accept(node gen.NodeHandshake, conn net.Conn, opts gen.HandshakeOptions) (gen.HandshakeResult, error) {
	s := &stream{conn: conn, timeout: h.timeout}
	defer s.clear()

	sn, err := next(s, "send_name", ParseSendName)
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	if err := CheckName(sn.Name); err != nil {
		return gen.HandshakeResult{}, err // erl closes without a status too
	}
	peer := gen.Atom(sn.Name)
	theirs := ExpandFlags(sn.Flags)
	if missing := Mandatory25 &^ theirs; missing != 0 {
		b, _ := AppendStatus(nil, StatusNotAllowed)
		s.write(b) // best effort: we fail either way
		return gen.HandshakeResult{}, fmt.Errorf("%w: connection attempt from %s rejected since it cannot handle %v",
			ErrMissingFlags, peer, FlagNames(missing))
	}

	var disconnect func()
	if h.alive != nil {
		if d, ok := h.alive(peer); ok {
			disconnect = d
		}
	}
	status := StatusOK
	if disconnect != nil {
		status = StatusAlive
	}
	b, _ := AppendStatus(nil, status)
	if err := s.write(b); err != nil {
		return gen.HandshakeResult{}, err
	}
	if disconnect != nil {
		answer, err := next(s, "alive answer", ParseStatus)
		if err != nil {
			return gen.HandshakeResult{}, err
		}
		switch answer {
		case StatusTrue: // the peer says its old connection is dead; we drop ours once the cookie checks out
		case StatusFalse:
			return gen.HandshakeResult{}, fmt.Errorf("%w: %s answered false to alive (it keeps its live connection)",
				ErrRefused, peer)
		default:
			return gen.HandshakeResult{}, fmt.Errorf("%w: %q in answer to alive from %s", ErrBadStatus, answer, peer)
		}
	}

	ours := newChallenge(0)
	b, err = AppendChallenge(nil, Challenge{
		Flags:     h.flags,
		Challenge: ours,
		Creation:  uint32(node.Creation()),
		Name:      string(node.Name()), // byte-identical to what the peer dialled (spec §12.8)
	})
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	if err := s.write(b); err != nil {
		return gen.HandshakeResult{}, err
	}

	reply, err := next(s, "challenge reply", ParseReply)
	if err != nil {
		return gen.HandshakeResult{}, err
	}
	cookie := h.cookieFor(peer, opts)
	want := Digest(cookie, ours)
	if subtle.ConstantTimeCompare(reply.Digest[:], want[:]) != 1 {
		return gen.HandshakeResult{}, fmt.Errorf("%w: invalid challenge reply from %s", ErrBadDigest, peer)
	}
	if reply.Challenge == ours {
		return gen.HandshakeResult{}, fmt.Errorf("%w: %s reflected our challenge", ErrBadDigest, peer)
	}

	if disconnect != nil {
		disconnect() // as erl's wait_pending: the old connection goes before the new one is acknowledged
	}
	if err := s.write(AppendAck(nil, Ack{Digest: Digest(cookie, reply.Challenge)})); err != nil {
		return gen.HandshakeResult{}, err
	}
	return h.result(Negotiated{
		Flags:        ExpandFlags(h.flags) & theirs,
		PeerFlags:    sn.Flags,
		PeerCreation: sn.Creation,
		Peer:         peer,
	}, s.buf), nil
}
