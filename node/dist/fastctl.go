package dist

import (
	"encoding/binary"

	"ergo.services/ergo/gen"

	"imperial/node/etf"
)

// The control messages of every call and message (SEND, REG_SEND, SEND_SENDER,
// MONITOR_P, DEMONITOR_P) are read straight from the wire into a fastCtl, with
// no term tree and no boxing: a gen_server:call from erl brings three of them.
// Anything else, or any unexpected encoding (old pid/ref tags, Latin-1 atoms,
// atom cache references), goes to the general decoder and dispatch, which
// also reports malformed messages: the fast path only ever declines.

// ETF tags the fast path reads (spec §9).
const (
	tagSmallInt   = 97
	tagSmallTuple = 104
	tagNewPid     = 88
	tagNewerRef   = 90
	tagAtomU8     = 118
	tagSmallAtom8 = 119
)

type fastCtl struct {
	op   int
	from gen.PID
	to   target // SEND, SEND_SENDER: pid; REG_SEND: name; (DE)MONITOR_P: either
	ref  refKey // MONITOR_P, DEMONITOR_P
}

// ctlReader reads the fields of one control tuple.
type ctlReader struct {
	f   *frameReader
	b   []byte
	pos int
	ok  bool
}

func (r *ctlReader) u8() int {
	if r.pos+1 > len(r.b) {
		r.ok = false
		return 0
	}
	r.pos++
	return int(r.b[r.pos-1])
}

func (r *ctlReader) u32() uint32 {
	if r.pos+4 > len(r.b) {
		r.ok = false
		return 0
	}
	r.pos += 4
	return binary.BigEndian.Uint32(r.b[r.pos-4:])
}

// atom reads a UTF-8 atom; the two node names and names seen before cost no
// allocation.
func (r *ctlReader) atom() gen.Atom {
	var n int
	switch r.u8() {
	case tagSmallAtom8:
		n = r.u8()
	case tagAtomU8:
		n = r.u8()<<8 | r.u8()
	default:
		r.ok = false
	}
	if !r.ok || r.pos+n > len(r.b) || n > etf.MaxAtomChars*4 {
		r.ok = false
		return ""
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	c := r.f.c
	switch {
	case string(b) == string(c.peer):
		return c.peer
	case string(b) == string(c.self):
		return c.self
	}
	a, ok := r.f.atoms.Intern(b)
	if !ok {
		r.ok = false // not valid UTF-8, or the table is full: the general path decides
	}
	return gen.Atom(a)
}

func (r *ctlReader) pid() gen.PID {
	if r.u8() != tagNewPid {
		r.ok = false
		return gen.PID{}
	}
	node := r.atom()
	id, serial, creation := r.u32(), r.u32(), r.u32()
	return gen.PID{Node: node, ID: uint64(id) | uint64(serial)<<32, Creation: int64(creation)}
}

// target reads a pid or an atom (a registered name).
func (r *ctlReader) target() target {
	if r.pos < len(r.b) && r.b[r.pos] == tagNewPid {
		return target{pid: r.pid()}
	}
	return target{name: r.atom()}
}

func (r *ctlReader) ref(m *fastCtl) {
	if r.u8() != tagNewerRef {
		r.ok = false
		return
	}
	n := r.u8()<<8 | r.u8()
	if n < 1 || n > len(m.ref.ids) {
		r.ok = false
		return
	}
	m.ref.node = etf.Atom(r.atom())
	m.ref.creation = r.u32()
	m.ref.n = uint8(n)
	for i := range n {
		m.ref.ids[i] = r.u32()
	}
}

// readFastCtl reads a control tuple of one of the common operations from b (no
// version byte). ok false means: use the general decoder.
func (f *frameReader) readFastCtl(b []byte, m *fastCtl) (n int, ok bool) {
	r := ctlReader{f: f, b: b, ok: true}
	if r.u8() != tagSmallTuple {
		return 0, false
	}
	arity := r.u8()
	if r.u8() != tagSmallInt {
		return 0, false
	}
	m.op = r.u8()
	switch {
	case m.op == opSend && arity == 3:
		r.atom() // the unused cookie
		m.to = target{pid: r.pid()}
	case m.op == opSendSender && arity == 3:
		m.from = r.pid()
		m.to = target{pid: r.pid()}
	case m.op == opRegSend && arity == 4:
		m.from = r.pid()
		r.atom() // unused
		m.to = target{name: r.atom()}
	case (m.op == opMonitorP || m.op == opDemonitorP) && arity == 4:
		m.from = r.pid()
		m.to = r.target()
		r.ref(m)
	default:
		return 0, false
	}
	if !r.ok || (m.to.pid == gen.PID{} && m.to.name == "") {
		return 0, false
	}
	return r.pos, true
}

// wantsPayload tells whether the operation carries a message.
func (m *fastCtl) wantsPayload() bool { return m.op != opMonitorP && m.op != opDemonitorP }

// dispatchFast routes what readFastCtl read, as dispatch does for the same ops.
func (c *conn) dispatchFast(m *fastCtl, payload any) error {
	switch m.op {
	case opSend:
		return c.deliver(c.peerPID, m.to.pid, payload)
	case opSendSender:
		return c.deliver(m.from, m.to.pid, payload)
	case opRegSend:
		return c.deliverName(m.from, m.to.name, payload)
	case opMonitorP:
		return c.monitorIn(m.from, m.to, m.ref.ref())
	default: // opDemonitorP
		c.demonitorIn(m.to, m.ref)
		return nil
	}
}
