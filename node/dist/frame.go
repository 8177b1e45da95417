package dist

import (
	"encoding/binary"
	"fmt"

	"imperial/node/etf"
)

// Frame body tags (spec §4).
const (
	tagPassThrough = 112 // 'p': 131 Ctl [131 Payload]
	tagVersion     = 131
	tagHeader      = 68 // 'D': atom cache header, then Ctl [Payload] without version bytes
	tagFragStart   = 69 // 'E'
	tagFragCont    = 70 // 'F'

	atomCacheSize = 2048
	maxFragSeqs   = 1024 // concurrent fragment sequences kept per connection

	// maxInternedAtoms bounds the atoms a connection interns (about 100 KB)
	maxInternedAtoms = 2048
)

// frameReader turns frame bodies into control messages. It lives on the read
// goroutine only: the atom cache and fragment buffers need no lock.
type frameReader struct {
	c        *conn
	dispatch func(ctl etf.Tuple, payload any, hasPayload bool) error
	fast     bool // control messages of the common ops take the fast path (fastctl.go)
	cache    [atomCacheSize]etf.Atom
	frags    map[uint64]*fragSeq
	atoms    *etf.AtomTable // names seen frame after frame, interned
}

type fragSeq struct {
	atoms []etf.Atom
	data  []byte
	next  uint64 // the fragment id expected next
}

func newFrameReader(c *conn) *frameReader {
	return &frameReader{c: c, dispatch: c.dispatch, fast: true, frags: make(map[uint64]*fragSeq),
		atoms: etf.NewAtomTable(maxInternedAtoms)}
}

func (f *frameReader) frame(b []byte) error {
	switch b[0] {
	case tagPassThrough:
		return f.decode(b[1:], true, nil)
	case tagVersion:
		if len(b) < 2 {
			return fmt.Errorf("%w: short header", ErrMalformed)
		}
		switch b[1] {
		case tagHeader:
			atoms, n, err := f.header(b[2:])
			if err != nil {
				return err
			}
			return f.decode(b[2+n:], false, atoms)
		case tagFragStart, tagFragCont:
			return f.fragment(b[1], b[2:])
		}
	}
	return fmt.Errorf("%w: unknown frame tag %d", ErrMalformed, b[0])
}

// header parses a normal distribution header's atom cache references (spec §4.3).
func (f *frameReader) header(b []byte) ([]etf.Atom, int, error) {
	if len(b) < 1 {
		return nil, 0, fmt.Errorf("%w: empty header", ErrMalformed)
	}
	n := int(b[0])
	pos := 1
	if n == 0 {
		return nil, pos, nil
	}
	flagLen := n/2 + 1
	if len(b) < pos+flagLen {
		return nil, 0, fmt.Errorf("%w: short atom cache flags", ErrMalformed)
	}
	flags := b[pos : pos+flagLen]
	pos += flagLen
	nibble := func(i int) byte {
		if i%2 == 0 {
			return flags[i/2] & 0x0F
		}
		return flags[i/2] >> 4
	}
	long := nibble(n)&1 != 0
	atoms := make([]etf.Atom, n)
	for i := 0; i < n; i++ {
		fl := nibble(i)
		if len(b) < pos+1 {
			return nil, 0, fmt.Errorf("%w: short atom cache ref", ErrMalformed)
		}
		slot := int(fl&7)*256 + int(b[pos])
		pos++
		if fl&8 == 0 {
			atoms[i] = f.cache[slot]
			continue
		}
		var l int
		if long {
			if len(b) < pos+2 {
				return nil, 0, fmt.Errorf("%w: short atom length", ErrMalformed)
			}
			l = int(binary.BigEndian.Uint16(b[pos:]))
			pos += 2
		} else {
			if len(b) < pos+1 {
				return nil, 0, fmt.Errorf("%w: short atom length", ErrMalformed)
			}
			l = int(b[pos])
			pos++
		}
		if len(b) < pos+l {
			return nil, 0, fmt.Errorf("%w: short atom text", ErrMalformed)
		}
		a := etf.Atom(b[pos : pos+l])
		pos += l
		f.cache[slot] = a
		atoms[i] = a
	}
	return atoms, pos, nil
}

// fragment reassembles 'E'/'F' sequences (spec §4.4). The control tuple and the
// atom cache header come in the start fragment; the rest is payload bytes.
func (f *frameReader) fragment(tag byte, b []byte) error {
	if len(b) < 16 {
		return fmt.Errorf("%w: short fragment header", ErrMalformed)
	}
	seqID := binary.BigEndian.Uint64(b)
	fragID := binary.BigEndian.Uint64(b[8:])
	b = b[16:]
	if fragID == 0 {
		return fmt.Errorf("%w: fragment id 0", ErrMalformed)
	}
	if tag == tagFragStart {
		atoms, n, err := f.header(b)
		if err != nil {
			return err
		}
		if fragID == 1 {
			return f.decode(b[n:], false, atoms)
		}
		if _, dup := f.frags[seqID]; dup || len(f.frags) >= maxFragSeqs {
			return fmt.Errorf("%w: fragment sequence %d duplicate or too many", ErrMalformed, seqID)
		}
		f.frags[seqID] = &fragSeq{atoms: atoms, data: append([]byte(nil), b[n:]...), next: fragID - 1}
		return nil
	}
	s := f.frags[seqID]
	if s == nil || s.next != fragID {
		return fmt.Errorf("%w: unexpected fragment %d of sequence %d", ErrMalformed, fragID, seqID)
	}
	if len(s.data)+len(b) > f.c.opts.MaxMessageSize {
		return fmt.Errorf("%w: fragmented message over %d bytes", ErrFrameTooLarge, f.c.opts.MaxMessageSize)
	}
	s.data = append(s.data, b...)
	if fragID > 1 {
		s.next--
		return nil
	}
	delete(f.frags, seqID)
	return f.decode(s.data, false, s.atoms)
}

// decode reads the control tuple and the optional payload, then dispatches.
func (f *frameReader) decode(b []byte, versioned bool, atoms []etf.Atom) error {
	opts := f.c.dec
	opts.AtomCache = atoms
	opts.Atoms = f.atoms
	next := func(b []byte) (any, int, error) {
		if versioned {
			return etf.Decode(b, opts)
		}
		return etf.DecodeTerm(b, opts)
	}
	payloadOf := func(b []byte) (any, error) {
		payload, n, err := next(b)
		if err != nil {
			return nil, fmt.Errorf("dist: payload: %w", err)
		}
		if n != len(b) {
			return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-n)
		}
		return payload, nil
	}

	off := 0
	if versioned {
		off = 1
	}
	var m fastCtl
	if f.fast && len(b) > off && (!versioned || b[0] == tagVersion) {
		if n, ok := f.readFastCtl(b[off:], &m); ok && (len(b) > off+n) == m.wantsPayload() {
			var payload any
			if m.wantsPayload() {
				var err error
				if payload, err = payloadOf(b[off+n:]); err != nil {
					return err
				}
			}
			return f.c.dispatchFast(&m, payload)
		}
	}

	ctl, n, err := next(b)
	if err != nil {
		return fmt.Errorf("dist: control message: %w", err)
	}
	b = b[n:]
	var payload any
	hasPayload := len(b) > 0
	if hasPayload {
		if payload, err = payloadOf(b); err != nil {
			return err
		}
	}
	t, ok := ctl.(etf.Tuple)
	if !ok || len(t) == 0 {
		return fmt.Errorf("%w: control is %T", ErrMalformed, ctl)
	}
	return f.dispatch(t, payload, hasPayload)
}
