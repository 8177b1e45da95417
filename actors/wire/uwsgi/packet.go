package uwsgi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the length of a uwsgi packet header.
const HeaderSize = 4

// Header is the 4-byte uwsgi packet header. Size is the length of the payload
// that directly follows it (for requests: the vars block only, not the body).
type Header struct {
	Modifier1 uint8
	Size      uint16 // little-endian on the wire
	Modifier2 uint8
}

// ParseHeader decodes the header at the start of b. It returns ErrNeedMore
// when b holds fewer than HeaderSize bytes.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < HeaderSize {
		return Header{}, 0, ErrNeedMore
	}
	return Header{
		Modifier1: b[0],
		Size:      binary.LittleEndian.Uint16(b[1:3]),
		Modifier2: b[3],
	}, HeaderSize, nil
}

// AppendHeader appends the 4 header bytes of h to buf.
func AppendHeader(buf []byte, h Header) []byte {
	return append(buf, h.Modifier1, byte(h.Size), byte(h.Size>>8), h.Modifier2)
}

// Packet is a decoded header + vars packet. Raw is the header and vars block
// as they were in the input (a view), ready to be forwarded verbatim; a router
// that must change the modifiers rewrites Raw[0] and Raw[3] only.
type Packet struct {
	Header Header
	Vars   Vars
	Raw    []byte
}

// PacketSize reports whether b starts with a complete header + payload. It
// returns the total length (HeaderSize + Header.Size) and nil when the packet
// is complete. While it is not, it returns ErrNeedMore together with the total
// length once the header is in (0 before), so a connection loop knows how much
// to read. A datasize over lim.MaxVarsSize is ErrTooLarge, reported as soon as
// the header is in.
func PacketSize(b []byte, lim Limits) (int, error) {
	h, _, err := ParseHeader(b)
	if err != nil {
		return 0, err
	}
	if max := lim.maxVarsSize(); int(h.Size) > max {
		return 0, fmt.Errorf("%w: datasize %d > max %d", ErrTooLarge, h.Size, max)
	}
	total := HeaderSize + int(h.Size)
	if len(b) < total {
		return total, ErrNeedMore
	}
	return total, nil
}

// ReadPacket reads from r into buf until it holds a whole header and vars
// block, growing buf when the header announces more than it can take. It
// returns the buffer, how many bytes it holds (a request body may follow the
// vars: n ≥ total) and the packet's length. An oversized packet is
// ErrTooLarge; any other error is r's, with the n bytes read before it.
func ReadPacket(r io.Reader, buf []byte, lim Limits) (b []byte, n, total int, err error) {
	if len(buf) < HeaderSize {
		buf = make([]byte, 4096)
	}
	for {
		size, err := PacketSize(buf[:n], lim)
		if err == nil {
			return buf, n, size, nil
		}
		if !errors.Is(err, ErrNeedMore) {
			return buf, n, 0, err
		}
		if size > len(buf) {
			nb := make([]byte, size)
			copy(nb, buf[:n])
			buf = nb
		}
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return buf, n, 0, err
		}
	}
}

// ParsePacket decodes a header followed by a vars block (requests, subscription
// and emperor packets; not RPC arrays, see ParseRPCRequest). It returns the
// packet and the number of bytes it took; bytes after it (a request body) are
// left alone. ErrNeedMore until the whole vars block is in b; a record that
// runs past datasize is ErrTruncated.
func ParsePacket(b []byte, lim Limits) (Packet, int, error) {
	total, err := PacketSize(b, lim)
	if err != nil {
		return Packet{}, 0, err
	}
	h, _, _ := ParseHeader(b)
	vars, _, err := ParseVars(b[HeaderSize:total], lim)
	if err != nil {
		return Packet{}, 0, err
	}
	return Packet{Header: h, Vars: vars, Raw: b[:total:total]}, total, nil
}

// AppendPacket appends a header with the given modifiers and the encoded vars.
// On error buf is returned unchanged.
func AppendPacket(buf []byte, modifier1, modifier2 uint8, vars Vars) ([]byte, error) {
	size, err := vars.Size()
	if err != nil {
		return buf, err
	}
	out := AppendHeader(buf, Header{Modifier1: modifier1, Size: uint16(size), Modifier2: modifier2})
	return vars.appendTo(out), nil
}
