package dist

import (
	"errors"
	"fmt"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// ExitReason carries an Erlang exit reason that has no ergo equivalent, so that
// it travels through ergo as an error and returns to the wire unchanged.
type ExitReason struct{ Term any }

func (e ExitReason) Error() string { return fmt.Sprintf("exit %v", e.Term) }

// ReasonToTerm turns an ergo termination reason into the Erlang term sent on the
// wire. Errors without an Erlang meaning go out as a binary of their text: never
// as a fresh atom, because erl's atom table is finite.
func ReasonToTerm(err error) any {
	var er ExitReason
	switch {
	case err == nil, errors.Is(err, gen.TerminateReasonNormal):
		return etf.Atom("normal")
	case errors.Is(err, gen.TerminateReasonShutdown):
		return etf.Atom("shutdown")
	case errors.Is(err, gen.TerminateReasonKill):
		return etf.Atom("killed")
	case errors.Is(err, gen.ErrNoConnection):
		return etf.Atom("noconnection")
	case errors.Is(err, gen.ErrProcessUnknown), errors.Is(err, gen.ErrProcessTerminated):
		return etf.Atom("noproc")
	case errors.As(err, &er):
		return er.Term
	}
	return []byte(err.Error())
}

// TermToReason is the inverse of ReasonToTerm.
func TermToReason(t any) error {
	if a, ok := t.(etf.Atom); ok {
		switch a {
		case "normal":
			return gen.TerminateReasonNormal
		case "shutdown":
			return gen.TerminateReasonShutdown
		case "kill", "killed":
			return gen.TerminateReasonKill
		case "noconnection":
			return gen.ErrNoConnection
		case "noproc":
			return gen.ErrProcessUnknown
		}
	}
	return ExitReason{Term: t}
}

// PIDFromETF converts a wire pid; ID and Serial pack losslessly into gen.PID.ID.
func PIDFromETF(p etf.Pid) gen.PID {
	return gen.PID{Node: gen.Atom(p.Node), ID: uint64(p.ID) | uint64(p.Serial)<<32, Creation: int64(p.Creation)}
}

// PIDToETF is the inverse of PIDFromETF.
func PIDToETF(p gen.PID) etf.Pid {
	return etf.Pid{Node: etf.Atom(p.Node), ID: uint32(p.ID), Serial: uint32(p.ID >> 32), Creation: uint32(p.Creation)}
}

// packedRefMark marks a gen.Ref that wraps an Erlang reference minted by a peer
// (1..5 words), so that it converts back word for word.
const packedRefMark = uint64(0xA) << 60

// RefToGen wraps a peer's Erlang reference into a gen.Ref (for ergo APIs that demand
// one, such as gen.Alias). The word count lives in the top bits of ID[2].
func RefToGen(r etf.Ref) gen.Ref {
	var w [6]uint32
	copy(w[:], r.IDs)
	n := uint64(len(r.IDs))
	return gen.Ref{
		Node:     gen.Atom(r.Node),
		Creation: int64(r.Creation),
		ID: [3]uint64{
			uint64(w[0]) | uint64(w[1])<<32,
			uint64(w[2]) | uint64(w[3])<<32,
			uint64(w[4]) | n<<56 | packedRefMark,
		},
	}
}

// RefToETF converts a gen.Ref to the wire: packed peer references unpack exactly,
// ergo's own references map to three words.
func RefToETF(r gen.Ref) etf.Ref {
	if r.ID[2]&(uint64(0xF)<<60) == packedRefMark {
		n := int(r.ID[2] >> 56 & 0xF)
		if n >= 1 && n <= 5 {
			w := [5]uint32{uint32(r.ID[0]), uint32(r.ID[0] >> 32), uint32(r.ID[1]), uint32(r.ID[1] >> 32), uint32(r.ID[2])}
			ids := make([]uint32, n)
			copy(ids, w[:n])
			return etf.Ref{Node: etf.Atom(r.Node), Creation: uint32(r.Creation), IDs: ids}
		}
	}
	return etf.Ref{Node: etf.Atom(r.Node), Creation: uint32(r.Creation),
		IDs: []uint32{uint32(r.ID[0]), uint32(r.ID[1]), uint32(r.ID[2])}}
}

// encodeHook lets actors put ergo values into terms bound for Erlang.
func encodeHook(v any) (any, bool) {
	switch x := v.(type) {
	case gen.Atom:
		return etf.Atom(x), true
	case gen.PID:
		return PIDToETF(x), true
	case gen.Ref:
		return RefToETF(x), true
	case gen.Alias:
		return RefToETF(gen.Ref(x)), true
	case gen.ProcessID:
		return etf.Tuple{etf.Atom(x.Name), etf.Atom(x.Node)}, true
	case error:
		return ReasonToTerm(x), true
	}
	return nil, false
}

// appendHook writes ergo pids and refs without boxing an etf replacement.
func appendHook(buf []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case gen.PID:
		return appendPid(buf, x), true
	case gen.Ref:
		if x.ID[2]&(uint64(0xF)<<60) != packedRefMark {
			var ids [3]uint32
			ids[0], ids[1], ids[2] = uint32(x.ID[0]), uint32(x.ID[1]), uint32(x.ID[2])
			return appendRefIDs(buf, string(x.Node), uint32(x.Creation), ids[:]), true
		}
	}
	return buf, false
}

// decodePid makes every decoded pid a gen.PID, so actors can reply to it.
func decodePid(p etf.Pid) any { return PIDFromETF(p) }
