package handshake

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on handshake input. Both are checked before anything is sliced or allocated.
const (
	// MaxFrameLen bounds the u16 length of one handshake message (tag included). The largest legal message,
	// a challenge carrying a 255-byte name, is 274 bytes; the rest leaves room for trailing bytes that newer
	// OTP releases may append (spec §2.2: trailing bytes are accepted and ignored).
	MaxFrameLen = 2048
	// MaxNameLen bounds a node name in bytes, as ergo's node.Start does (spec ergo-network.md P8).
	MaxNameLen = 255
	// DigestLen is the size of an MD5 challenge digest.
	DigestLen = 16
)

// Message tags (the byte after the u16 length).
const (
	tagName   byte = 'N' // send_name (A→B) and challenge (B→A)
	tagStatus byte = 's'
	tagReply  byte = 'r'
	tagAck    byte = 'a'
)

// Sentinel errors of the codec; every decoder error wraps one of them.
var (
	// ErrNeedMore says the input holds an incomplete message: read more and call again.
	ErrNeedMore = errors.New("handshake: need more input")
	// ErrTooLarge says a frame length or a name length exceeds MaxFrameLen or MaxNameLen.
	ErrTooLarge = errors.New("handshake: length over limit")
	// ErrUnexpectedTag says the message is not the one this step of the handshake expects.
	ErrUnexpectedTag = errors.New("handshake: unexpected message tag")
	// ErrMalformed says a frame is shorter than its fixed fields, or empty.
	ErrMalformed = errors.New("handshake: malformed message")
	// ErrBadName says a node name does not have exactly one '@' with non-empty parts on both sides.
	ErrBadName = errors.New("handshake: invalid node name")
)

// SendName is the initiator's first message: 'N' Flags:u64 Creation:u32 Nlen:u16 Name.
type SendName struct {
	Flags    uint64
	Creation uint32
	Name     string
}

// Challenge is the acceptor's challenge: 'N' Flags:u64 Challenge:u32 Creation:u32 Nlen:u16 Name.
type Challenge struct {
	Flags     uint64
	Challenge uint32
	Creation  uint32
	Name      string
}

// Reply is the initiator's challenge reply: 'r' Challenge:u32 (the initiator's own challenge) Digest:16
// (over the acceptor's challenge).
type Reply struct {
	Challenge uint32
	Digest    [DigestLen]byte
}

// Ack is the acceptor's last message: 'a' Digest:16 (over the initiator's challenge).
type Ack struct {
	Digest [DigestLen]byte
}

// Status is the text of an 's' message.
type Status string

// Statuses of spec §2.2. The first five go from acceptor to initiator; true and false answer alive.
const (
	StatusOK             Status = "ok"
	StatusOKSimultaneous Status = "ok_simultaneous"
	StatusNok            Status = "nok"
	StatusNotAllowed     Status = "not_allowed"
	StatusAlive          Status = "alive"
	StatusTrue           Status = "true"
	StatusFalse          Status = "false"
)

// Digest is MD5 of the cookie followed by the decimal text of the unsigned challenge (spec §2.3).
func Digest(cookie string, challenge uint32) [DigestLen]byte {
	b := make([]byte, 0, len(cookie)+10)
	b = append(b, cookie...)
	b = strconv.AppendUint(b, uint64(challenge), 10)
	return md5.Sum(b)
}

// CheckName returns ErrBadName unless name has exactly one '@' and non-empty parts on both sides, and
// ErrTooLarge if it is longer than MaxNameLen.
func CheckName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: node name of %d bytes", ErrTooLarge, len(name))
	}
	at := strings.IndexByte(name, '@')
	if at <= 0 || at == len(name)-1 || strings.IndexByte(name[at+1:], '@') >= 0 {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return nil
}

// AppendSendName appends the framed send_name message to dst.
func AppendSendName(dst []byte, m SendName) ([]byte, error) {
	if len(m.Name) > MaxNameLen {
		return dst, fmt.Errorf("%w: node name of %d bytes", ErrTooLarge, len(m.Name))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(1+8+4+2+len(m.Name)))
	dst = append(dst, tagName)
	dst = binary.BigEndian.AppendUint64(dst, m.Flags)
	dst = binary.BigEndian.AppendUint32(dst, m.Creation)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(m.Name)))
	return append(dst, m.Name...), nil
}

// ParseSendName decodes a framed send_name from the start of b and returns the bytes it consumed. Bytes after
// the name inside the frame are ignored; bytes after the frame are not consumed.
func ParseSendName(b []byte) (SendName, int, error) {
	body, n, err := frame(b, tagName)
	if err != nil {
		return SendName{}, 0, err
	}
	const fixed = 8 + 4 + 2
	if len(body) < fixed {
		return SendName{}, 0, fmt.Errorf("%w: send_name body of %d bytes", ErrMalformed, len(body))
	}
	nm, err := parseName(body[fixed-2:])
	if err != nil {
		return SendName{}, 0, err
	}
	return SendName{
		Flags:    binary.BigEndian.Uint64(body),
		Creation: binary.BigEndian.Uint32(body[8:]),
		Name:     nm,
	}, n, nil
}

// AppendChallenge appends the framed challenge message to dst.
func AppendChallenge(dst []byte, m Challenge) ([]byte, error) {
	if len(m.Name) > MaxNameLen {
		return dst, fmt.Errorf("%w: node name of %d bytes", ErrTooLarge, len(m.Name))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(1+8+4+4+2+len(m.Name)))
	dst = append(dst, tagName)
	dst = binary.BigEndian.AppendUint64(dst, m.Flags)
	dst = binary.BigEndian.AppendUint32(dst, m.Challenge)
	dst = binary.BigEndian.AppendUint32(dst, m.Creation)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(m.Name)))
	return append(dst, m.Name...), nil
}

// ParseChallenge decodes a framed challenge from the start of b, like ParseSendName.
func ParseChallenge(b []byte) (Challenge, int, error) {
	body, n, err := frame(b, tagName)
	if err != nil {
		return Challenge{}, 0, err
	}
	const fixed = 8 + 4 + 4 + 2
	if len(body) < fixed {
		return Challenge{}, 0, fmt.Errorf("%w: challenge body of %d bytes", ErrMalformed, len(body))
	}
	nm, err := parseName(body[fixed-2:])
	if err != nil {
		return Challenge{}, 0, err
	}
	return Challenge{
		Flags:     binary.BigEndian.Uint64(body),
		Challenge: binary.BigEndian.Uint32(body[8:]),
		Creation:  binary.BigEndian.Uint32(body[12:]),
		Name:      nm,
	}, n, nil
}

// AppendStatus appends the framed status message to dst.
func AppendStatus(dst []byte, s Status) ([]byte, error) {
	if 1+len(s) > MaxFrameLen {
		return dst, fmt.Errorf("%w: status of %d bytes", ErrTooLarge, len(s))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(1+len(s)))
	dst = append(dst, tagStatus)
	return append(dst, s...), nil
}

// ParseStatus decodes a framed status from the start of b. The text is returned as sent; the caller decides
// which statuses it accepts.
func ParseStatus(b []byte) (Status, int, error) {
	body, n, err := frame(b, tagStatus)
	if err != nil {
		return "", 0, err
	}
	return Status(body), n, nil
}

// AppendReply appends the framed challenge reply to dst.
func AppendReply(dst []byte, m Reply) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 1+4+DigestLen)
	dst = append(dst, tagReply)
	dst = binary.BigEndian.AppendUint32(dst, m.Challenge)
	return append(dst, m.Digest[:]...)
}

// ParseReply decodes a framed challenge reply from the start of b.
func ParseReply(b []byte) (Reply, int, error) {
	body, n, err := frame(b, tagReply)
	if err != nil {
		return Reply{}, 0, err
	}
	if len(body) < 4+DigestLen {
		return Reply{}, 0, fmt.Errorf("%w: reply body of %d bytes", ErrMalformed, len(body))
	}
	m := Reply{Challenge: binary.BigEndian.Uint32(body)}
	copy(m.Digest[:], body[4:])
	return m, n, nil
}

// AppendAck appends the framed ack to dst.
func AppendAck(dst []byte, m Ack) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 1+DigestLen)
	dst = append(dst, tagAck)
	return append(dst, m.Digest[:]...)
}

// ParseAck decodes a framed ack from the start of b. Bytes after the frame (the peer's first 4-byte frames)
// are not consumed.
func ParseAck(b []byte) (Ack, int, error) {
	body, n, err := frame(b, tagAck)
	if err != nil {
		return Ack{}, 0, err
	}
	if len(body) < DigestLen {
		return Ack{}, 0, fmt.Errorf("%w: ack body of %d bytes", ErrMalformed, len(body))
	}
	var m Ack
	copy(m.Digest[:], body)
	return m, n, nil
}

// frame returns the body (after the tag) of the u16-framed message at the start of b and the frame's size.
func frame(b []byte, tag byte) ([]byte, int, error) {
	if len(b) < 2 {
		return nil, 0, ErrNeedMore
	}
	l := int(binary.BigEndian.Uint16(b))
	switch {
	case l == 0:
		return nil, 0, fmt.Errorf("%w: empty frame", ErrMalformed)
	case l > MaxFrameLen:
		return nil, 0, fmt.Errorf("%w: frame of %d bytes (max %d)", ErrTooLarge, l, MaxFrameLen)
	case len(b) < 2+l:
		return nil, 0, ErrNeedMore
	case b[2] != tag:
		return nil, 0, fmt.Errorf("%w: got %q, want %q", ErrUnexpectedTag, b[2], tag)
	}
	return b[3 : 2+l], 2 + l, nil
}

// parseName decodes Nlen:u16 Name from the start of b; anything after the name is ignored.
func parseName(b []byte) (string, error) {
	l := int(binary.BigEndian.Uint16(b))
	if l > MaxNameLen {
		return "", fmt.Errorf("%w: node name of %d bytes (max %d)", ErrTooLarge, l, MaxNameLen)
	}
	if len(b) < 2+l {
		return "", fmt.Errorf("%w: name length %d past the end of the frame", ErrMalformed, l)
	}
	return string(b[2 : 2+l]), nil
}
