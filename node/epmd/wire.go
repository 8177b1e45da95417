package epmd

// The EPMD wire format (shared/specs/erlang-dist.md §1). Everything in this
// file is pure: no ergo, no net, no I/O. Requests carry a u16 length prefix;
// responses do not. All integers are big-endian.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Well-known values.
const (
	// DefaultPort is the EPMD port when ERL_EPMD_PORT is unset.
	DefaultPort = 4369
	// EnvPort names the environment variable that overrides DefaultPort for
	// epmd, erl and us alike.
	EnvPort = "ERL_EPMD_PORT"

	// DistVersion is the only distribution protocol version OTP 25+ speaks.
	DistVersion uint16 = 6

	NodeTypeNormal byte = 77 // 'M'
	NodeTypeHidden byte = 72 // 'H'
	ProtocolTCP    byte = 0  // TCP/IPv4
)

// Operation codes (the first byte of a request or a response).
const (
	OpAlive2Req      byte = 'x' // 120
	OpAlive2XResp    byte = 'v' // 118: ALIVE2_X_RESP, u32 creation
	OpAlive2Resp     byte = 'y' // 121: ALIVE2_RESP, u16 creation (HighestVersion 5)
	OpPortPlease2Req byte = 'z' // 122
	OpPort2Resp      byte = 'w' // 119
	OpNamesReq       byte = 'n' // 110
)

// Limits. Every length read from input is checked against one of these before
// anything is allocated.
const (
	// MaxNameLen bounds a node's alive part in bytes: 255 characters of up to
	// four UTF-8 bytes each, as epmd's MAXSYMLEN.
	MaxNameLen = 255 * 4
	// MaxExtraLen bounds the Extra field of ALIVE2_REQ and PORT2_RESP.
	MaxExtraLen = 1024
	// MaxRequestLen bounds the body of any request (the u16 length prefix).
	MaxRequestLen = alive2Fixed + MaxNameLen + 2 + MaxExtraLen
	// MaxNameLineLen bounds one "name N at port P\n" line of a NAMES response.
	MaxNameLineLen = len(namePrefix) + MaxNameLen + len(nameInfix) + 5 + 1
	// MaxNames bounds the number of entries a NAMES response may carry.
	MaxNames = 4096
	// MaxNamesRespLen bounds a whole NAMES response.
	MaxNamesRespLen = 4 + MaxNames*MaxNameLineLen
)

const (
	alive2Fixed = 1 + 2 + 1 + 1 + 2 + 2 + 2 // op .. Nlen
	port2Fixed  = 2 + 2 + 1 + 1 + 2 + 2 + 2 // op result port type proto hi lo nlen
	namePrefix  = "name "
	nameInfix   = " at port "
)

// Errors.
var (
	// ErrNeedMore: the input is a valid prefix; feed more bytes.
	ErrNeedMore = errors.New("epmd: need more data")
	// ErrTooLarge: a length field exceeds its named limit.
	ErrTooLarge = errors.New("epmd: too large")
	// ErrMalformed: the bytes are not EPMD.
	ErrMalformed = errors.New("epmd: malformed")
	// ErrUnknownOp: a request or response with an operation code we do not serve.
	ErrUnknownOp = errors.New("epmd: unknown operation")
	// ErrBadName: an alive name that is empty, too long, not UTF-8, or holds
	// '@' or control characters.
	ErrBadName = errors.New("epmd: bad node name")
	// ErrNotRegistered: PORT2_RESP with a non-zero result (no such name).
	ErrNotRegistered = errors.New("epmd: name not registered")
	// ErrNameInUse: ALIVE2 refused (non-zero result); epmd refuses only names
	// already registered by a live node.
	ErrNameInUse = errors.New("epmd: name refused (in use by another node)")
)

// NodeInfo is what ALIVE2_REQ registers and PORT2_RESP returns.
type NodeInfo struct {
	Port     uint16 // distribution listen port
	NodeType byte   // NodeTypeNormal or NodeTypeHidden
	Protocol byte   // ProtocolTCP
	Highest  uint16 // highest distribution version
	Lowest   uint16 // lowest distribution version
	Name     string // alive part only
	Extra    []byte
}

// Alive2Resp is a decoded ALIVE2_X_RESP ('v') or ALIVE2_RESP ('y').
type Alive2Resp struct {
	Creation uint32 // opaque incarnation number; u16 in the old form
	Extended bool   // true for ALIVE2_X_RESP
}

// NameEntry is one line of a NAMES response.
type NameEntry struct {
	Name string
	Port int
}

// Request is a decoded client request, as the embedded server sees it.
type Request struct {
	Op   byte     // OpAlive2Req, OpPortPlease2Req or OpNamesReq
	Node NodeInfo // OpAlive2Req
	Name string   // OpPortPlease2Req
}

// CheckName reports whether name may be registered or looked up: 1 to
// MaxNameLen bytes of UTF-8 with no '@' and no control characters.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrBadName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: %d bytes > max %d", ErrBadName, len(name), MaxNameLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not UTF-8", ErrBadName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == '@' {
			return fmt.Errorf("%w: byte %#x at %d", ErrBadName, c, i)
		}
	}
	return nil
}

// AppendAlive2Req appends a length-prefixed ALIVE2_REQ.
func AppendAlive2Req(dst []byte, n NodeInfo) ([]byte, error) {
	if err := CheckName(n.Name); err != nil {
		return dst, err
	}
	if len(n.Extra) > MaxExtraLen {
		return dst, fmt.Errorf("%w: extra %d > max %d", ErrTooLarge, len(n.Extra), MaxExtraLen)
	}
	size := alive2Fixed + len(n.Name) + 2 + len(n.Extra)
	dst = binary.BigEndian.AppendUint16(dst, uint16(size))
	dst = append(dst, OpAlive2Req)
	dst = binary.BigEndian.AppendUint16(dst, n.Port)
	dst = append(dst, n.NodeType, n.Protocol)
	dst = binary.BigEndian.AppendUint16(dst, n.Highest)
	dst = binary.BigEndian.AppendUint16(dst, n.Lowest)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(n.Name)))
	dst = append(dst, n.Name...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(n.Extra)))
	return append(dst, n.Extra...), nil
}

// AppendPortPlease2Req appends a length-prefixed PORT_PLEASE2_REQ for the
// alive part name.
func AppendPortPlease2Req(dst []byte, name string) ([]byte, error) {
	if err := CheckName(name); err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(1+len(name)))
	dst = append(dst, OpPortPlease2Req)
	return append(dst, name...), nil
}

// AppendNamesReq appends a length-prefixed NAMES_REQ.
func AppendNamesReq(dst []byte) []byte {
	return append(dst, 0, 1, OpNamesReq)
}

// ParseRequest decodes one length-prefixed request. It returns ErrNeedMore
// until the whole request is present, ErrTooLarge when the prefix exceeds
// MaxRequestLen, and ErrUnknownOp for operations other than ALIVE2,
// PORT_PLEASE2 and NAMES (n is then the request's full size, so a caller may
// skip it).
func ParseRequest(b []byte) (Request, int, error) {
	if len(b) < 2 {
		return Request{}, 0, ErrNeedMore
	}
	size := int(binary.BigEndian.Uint16(b))
	if size == 0 {
		return Request{}, 0, fmt.Errorf("%w: empty request", ErrMalformed)
	}
	if size > MaxRequestLen {
		return Request{}, 0, fmt.Errorf("%w: request %d > max %d", ErrTooLarge, size, MaxRequestLen)
	}
	if len(b) < 2+size {
		return Request{}, 0, ErrNeedMore
	}
	body := b[2 : 2+size]
	n := 2 + size
	switch body[0] {
	case OpNamesReq:
		if size != 1 {
			return Request{}, 0, fmt.Errorf("%w: NAMES_REQ of %d bytes", ErrMalformed, size)
		}
		return Request{Op: OpNamesReq}, n, nil
	case OpPortPlease2Req:
		name := string(body[1:])
		if err := CheckName(name); err != nil {
			return Request{}, 0, err
		}
		return Request{Op: OpPortPlease2Req, Name: name}, n, nil
	case OpAlive2Req:
		node, err := parseAlive2Body(body)
		if err != nil {
			return Request{}, 0, err
		}
		return Request{Op: OpAlive2Req, Node: node}, n, nil
	default:
		return Request{Op: body[0]}, n, fmt.Errorf("%w: %d", ErrUnknownOp, body[0])
	}
}

// parseAlive2Body decodes a complete ALIVE2_REQ body (without the prefix).
func parseAlive2Body(body []byte) (NodeInfo, error) {
	if len(body) < alive2Fixed {
		return NodeInfo{}, fmt.Errorf("%w: ALIVE2_REQ of %d bytes", ErrMalformed, len(body))
	}
	node := NodeInfo{
		Port:     binary.BigEndian.Uint16(body[1:]),
		NodeType: body[3],
		Protocol: body[4],
		Highest:  binary.BigEndian.Uint16(body[5:]),
		Lowest:   binary.BigEndian.Uint16(body[7:]),
	}
	nlen := int(binary.BigEndian.Uint16(body[9:]))
	if nlen > MaxNameLen {
		return NodeInfo{}, fmt.Errorf("%w: name %d > max %d", ErrTooLarge, nlen, MaxNameLen)
	}
	rest := body[alive2Fixed:]
	if len(rest) < nlen+2 {
		return NodeInfo{}, fmt.Errorf("%w: ALIVE2_REQ name overruns the request", ErrMalformed)
	}
	node.Name = string(rest[:nlen])
	if err := CheckName(node.Name); err != nil {
		return NodeInfo{}, err
	}
	rest = rest[nlen:]
	elen := int(binary.BigEndian.Uint16(rest))
	if elen > MaxExtraLen {
		return NodeInfo{}, fmt.Errorf("%w: extra %d > max %d", ErrTooLarge, elen, MaxExtraLen)
	}
	rest = rest[2:]
	if len(rest) != elen {
		return NodeInfo{}, fmt.Errorf("%w: ALIVE2_REQ extra %d, %d bytes left", ErrMalformed, elen, len(rest))
	}
	if elen > 0 {
		node.Extra = append([]byte(nil), rest...)
	}
	return node, nil
}

// AppendAlive2Resp appends ALIVE2_X_RESP (extended) or the old ALIVE2_RESP,
// whose creation is truncated to 16 bits.
func AppendAlive2Resp(dst []byte, result byte, creation uint32, extended bool) []byte {
	if extended {
		dst = append(dst, OpAlive2XResp, result)
		return binary.BigEndian.AppendUint32(dst, creation)
	}
	dst = append(dst, OpAlive2Resp, result)
	return binary.BigEndian.AppendUint16(dst, uint16(creation))
}

// ParseAlive2Resp decodes ALIVE2_X_RESP or ALIVE2_RESP. A non-zero result
// returns ErrNameInUse together with the full response size.
func ParseAlive2Resp(b []byte) (Alive2Resp, int, error) {
	if len(b) < 1 {
		return Alive2Resp{}, 0, ErrNeedMore
	}
	var r Alive2Resp
	var n int
	switch b[0] {
	case OpAlive2XResp:
		n = 6
		if len(b) < n {
			return Alive2Resp{}, 0, ErrNeedMore
		}
		r = Alive2Resp{Creation: binary.BigEndian.Uint32(b[2:]), Extended: true}
	case OpAlive2Resp:
		n = 4
		if len(b) < n {
			return Alive2Resp{}, 0, ErrNeedMore
		}
		r = Alive2Resp{Creation: uint32(binary.BigEndian.Uint16(b[2:]))}
	default:
		return Alive2Resp{}, 0, fmt.Errorf("%w: ALIVE2 response op %d", ErrUnknownOp, b[0])
	}
	if b[1] != 0 {
		return Alive2Resp{}, n, fmt.Errorf("%w (result %d)", ErrNameInUse, b[1])
	}
	return r, n, nil
}

// AppendPort2Resp appends a successful PORT2_RESP describing n.
func AppendPort2Resp(dst []byte, n NodeInfo) ([]byte, error) {
	if len(n.Name) > MaxNameLen {
		return dst, fmt.Errorf("%w: name %d > max %d", ErrTooLarge, len(n.Name), MaxNameLen)
	}
	if len(n.Extra) > MaxExtraLen {
		return dst, fmt.Errorf("%w: extra %d > max %d", ErrTooLarge, len(n.Extra), MaxExtraLen)
	}
	dst = append(dst, OpPort2Resp, 0)
	dst = binary.BigEndian.AppendUint16(dst, n.Port)
	dst = append(dst, n.NodeType, n.Protocol)
	dst = binary.BigEndian.AppendUint16(dst, n.Highest)
	dst = binary.BigEndian.AppendUint16(dst, n.Lowest)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(n.Name)))
	dst = append(dst, n.Name...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(n.Extra)))
	return append(dst, n.Extra...), nil
}

// AppendPort2Err appends a failed PORT2_RESP (result must be non-zero).
func AppendPort2Err(dst []byte, result byte) []byte {
	return append(dst, OpPort2Resp, result)
}

// ParsePort2Resp decodes PORT2_RESP. A non-zero result returns
// ErrNotRegistered with n = 2.
func ParsePort2Resp(b []byte) (NodeInfo, int, error) {
	if len(b) < 1 {
		return NodeInfo{}, 0, ErrNeedMore
	}
	if b[0] != OpPort2Resp {
		return NodeInfo{}, 0, fmt.Errorf("%w: PORT2 response op %d", ErrUnknownOp, b[0])
	}
	if len(b) < 2 {
		return NodeInfo{}, 0, ErrNeedMore
	}
	if b[1] != 0 {
		return NodeInfo{}, 2, fmt.Errorf("%w (result %d)", ErrNotRegistered, b[1])
	}
	if len(b) < port2Fixed {
		return NodeInfo{}, 0, ErrNeedMore
	}
	node := NodeInfo{
		Port:     binary.BigEndian.Uint16(b[2:]),
		NodeType: b[4],
		Protocol: b[5],
		Highest:  binary.BigEndian.Uint16(b[6:]),
		Lowest:   binary.BigEndian.Uint16(b[8:]),
	}
	nlen := int(binary.BigEndian.Uint16(b[10:]))
	if nlen > MaxNameLen {
		return NodeInfo{}, 0, fmt.Errorf("%w: name %d > max %d", ErrTooLarge, nlen, MaxNameLen)
	}
	off := port2Fixed
	if len(b) < off+nlen+2 {
		return NodeInfo{}, 0, ErrNeedMore
	}
	node.Name = string(b[off : off+nlen])
	off += nlen
	elen := int(binary.BigEndian.Uint16(b[off:]))
	if elen > MaxExtraLen {
		return NodeInfo{}, 0, fmt.Errorf("%w: extra %d > max %d", ErrTooLarge, elen, MaxExtraLen)
	}
	off += 2
	if len(b) < off+elen {
		return NodeInfo{}, 0, ErrNeedMore
	}
	if elen > 0 {
		node.Extra = append([]byte(nil), b[off:off+elen]...)
	}
	return node, off + elen, nil
}

// AppendNamesHeader appends the NAMES response header: epmd's own port.
func AppendNamesHeader(dst []byte, epmdPort uint32) []byte {
	return binary.BigEndian.AppendUint32(dst, epmdPort)
}

// ParseNamesHeader decodes the NAMES response header.
func ParseNamesHeader(b []byte) (uint32, int, error) {
	if len(b) < 4 {
		return 0, 0, ErrNeedMore
	}
	return binary.BigEndian.Uint32(b), 4, nil
}

// AppendNameLine appends one "name N at port P\n" line.
func AppendNameLine(dst []byte, e NameEntry) []byte {
	dst = append(dst, namePrefix...)
	dst = append(dst, e.Name...)
	dst = append(dst, nameInfix...)
	dst = strconv.AppendInt(dst, int64(e.Port), 10)
	return append(dst, '\n')
}

// ParseNameLine decodes one "name N at port P\n" line of a NAMES response.
// It returns ErrNeedMore until the newline arrives and ErrTooLarge if none
// appears within MaxNameLineLen bytes.
func ParseNameLine(b []byte) (NameEntry, int, error) {
	end := -1
	for i := 0; i < len(b) && i < MaxNameLineLen; i++ {
		if b[i] == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		if len(b) >= MaxNameLineLen {
			return NameEntry{}, 0, fmt.Errorf("%w: NAMES line > max %d", ErrTooLarge, MaxNameLineLen)
		}
		// Reject a wrong start early rather than waiting for the newline.
		k := min(len(b), len(namePrefix))
		if string(b[:k]) != namePrefix[:k] {
			return NameEntry{}, 0, fmt.Errorf("%w: NAMES line %q", ErrMalformed, b[:k])
		}
		return NameEntry{}, 0, ErrNeedMore
	}
	line := string(b[:end])
	if len(line) < len(namePrefix) || line[:len(namePrefix)] != namePrefix {
		return NameEntry{}, 0, fmt.Errorf("%w: NAMES line %q", ErrMalformed, line)
	}
	line = line[len(namePrefix):]
	at := strings.LastIndex(line, nameInfix)
	if at <= 0 {
		return NameEntry{}, 0, fmt.Errorf("%w: NAMES line without port", ErrMalformed)
	}
	digits := line[at+len(nameInfix):]
	if len(digits) == 0 || len(digits) > 5 {
		return NameEntry{}, 0, fmt.Errorf("%w: NAMES port %q", ErrMalformed, digits)
	}
	port := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return NameEntry{}, 0, fmt.Errorf("%w: NAMES port %q", ErrMalformed, digits)
		}
		port = port*10 + int(c-'0')
	}
	if port > 65535 {
		return NameEntry{}, 0, fmt.Errorf("%w: NAMES port %d", ErrMalformed, port)
	}
	return NameEntry{Name: line[:at], Port: port}, end + 1, nil
}
