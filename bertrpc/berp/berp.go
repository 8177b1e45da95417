// Package berp owns BERP framing: every BERT-RPC packet is a 4-byte unsigned
// big-endian length N followed by N bytes of BERT.
//
// It is a pure codec: standard library only, no ergo, no net. It must not
// import anything from imperial. Imported by imperial/bertrpc (the client)
// and by the Ernie server actors (imperial/actors/ernie).
//
// Every length read from the wire is checked against a limit (MaxPacket by
// default) before anything is allocated. A zero-length packet is valid
// framing (BERT-RPC streams end with one); decoding it as BERT fails later.
package berp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// HeaderSize is the size of the length prefix.
const HeaderSize = 4

// MaxPacket is the default limit on a packet body, used when a maxSize argument is
// zero or negative. The wire allows up to 2³²−1 bytes.
const MaxPacket = 64 << 20

// readChunk bounds how much ReadPacket allocates ahead of the bytes that have
// actually arrived, so a peer announcing a large packet and sending nothing
// cannot make us allocate the whole announced size.
const readChunk = 1 << 20

var (
	// ErrNeedMore means the input ends before a complete packet.
	ErrNeedMore = errors.New("berp: need more data")
	// ErrTooLarge means a packet length exceeds the limit in force.
	ErrTooLarge = errors.New("berp: packet too large")
)

// limit returns the effective limit for a caller-supplied max.
func limit(maxSize int) uint64 {
	if maxSize <= 0 {
		return MaxPacket
	}
	return uint64(maxSize)
}

// Split extracts the first packet from b. It returns the packet body (a
// sub-slice of b, capacity capped so appends cannot overwrite b), the number
// of bytes consumed (header + body), or ErrNeedMore when b does not yet hold a
// whole packet, or ErrTooLarge as soon as the header announces a length above
// maxSize (0 → MaxPacket), even if the body has not arrived. Split does not copy
// or allocate.
func Split(b []byte, maxSize int) (packet []byte, n int, err error) {
	if len(b) < HeaderSize {
		return nil, 0, ErrNeedMore
	}
	size := uint64(binary.BigEndian.Uint32(b))
	if lim := limit(maxSize); size > lim {
		return nil, 0, fmt.Errorf("%w: %d > max %d", ErrTooLarge, size, lim)
	}
	if uint64(len(b)-HeaderSize) < size {
		return nil, 0, ErrNeedMore
	}
	end := HeaderSize + int(size)
	return b[HeaderSize:end:end], end, nil
}

// ReadPacket reads one packet from r. It returns io.EOF if r is at EOF before
// the first header byte, io.ErrUnexpectedEOF if the stream ends inside a
// packet, and ErrTooLarge (before allocating) if the announced length exceeds
// maxSize (0 → MaxPacket). The returned body is freshly allocated and never nil.
func ReadPacket(r io.Reader, maxSize int) ([]byte, error) {
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	size := uint64(binary.BigEndian.Uint32(hdr[:]))
	if lim := limit(maxSize); size > lim {
		return nil, fmt.Errorf("%w: %d > max %d", ErrTooLarge, size, lim)
	}
	n := int(size)
	// Grow the buffer as data arrives, never more than readChunk (or double
	// what we have) ahead of the bytes received.
	buf := make([]byte, min(n, readChunk))
	got := 0
	for {
		m, err := io.ReadFull(r, buf[got:])
		got += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if got == n {
			return buf, nil
		}
		next := min(n, max(2*len(buf), len(buf)+readChunk))
		nb := make([]byte, next)
		copy(nb, buf)
		buf = nb
	}
}

// AppendPacket appends the header and payload to dst. It fails with
// ErrTooLarge only if payload does not fit the 32-bit length.
func AppendPacket(dst, payload []byte) ([]byte, error) {
	if uint64(len(payload)) > math.MaxUint32 {
		return dst, fmt.Errorf("%w: %d > max %d", ErrTooLarge, len(payload), uint64(math.MaxUint32))
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...), nil
}

// WritePacket writes header and payload to w in a single Write call.
func WritePacket(w io.Writer, payload []byte) error {
	buf, err := AppendPacket(make([]byte, 0, HeaderSize+len(payload)), payload)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}
