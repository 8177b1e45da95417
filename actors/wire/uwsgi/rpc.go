package uwsgi

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// RPC limits.
const (
	// MaxRPCItems is the most items of an RPC array: the function name and up
	// to 254 arguments (uWSGI keeps argc in a uint8 and stops at 255).
	MaxRPCItems = 255
	// MaxRPCResult is the default cap on an RPC result a client accepts. The
	// modifier2 5 framing can announce any CONTENT_LENGTH, so a client must
	// bound it.
	MaxRPCResult = 16 << 20
)

// RPC modes: the modifier2 of a modifier1 173 packet (spec §1.7).
const (
	RPCFramed = 0 // request: uwsgi array; answer: header (173, len, 0) + result
	RPCRaw    = 1 // request: uwsgi array (nginx vars); answer: raw result, no header, ends at close
	RPCHTTP   = 2 // request: vars with PATH_INFO /func/arg…; answer: an HTTP response
	RPCXML    = 3 // request: XML-RPC body; answer: methodResponse over HTTP
	RPCJSON   = 4 // reserved (JSON-RPC)
	RPCLarge  = 5 // answer only: vars {CONTENT_LENGTH: n} then n raw bytes, for results over 65535
)

// RPCRequest is an RPC call. Decoded Func and Args are views into the input.
type RPCRequest struct {
	Modifier2 uint8 // RPCFramed or RPCRaw
	Func      []byte
	Args      [][]byte
}

// ScanArray walks the items of a complete uwsgi array (u16le length + bytes,
// repeated) and calls fn with a view of each. Zero-length items are skipped,
// as uWSGI does, so they never reach fn (uWSGI 2.0.21 rejects an array that
// ends with an empty item; this accepts it). It stops early without error when fn
// returns false and returns the number of items passed to fn. Errors: block
// over lim.MaxVarsSize or more than max items (ErrTooLarge), an item running
// past the end (ErrTruncated).
func ScanArray(block []byte, lim Limits, max int, fn func(item []byte) bool) (int, error) {
	if m := lim.maxVarsSize(); len(block) > m {
		return 0, fmt.Errorf("%w: array %d bytes > max %d", ErrTooLarge, len(block), m)
	}
	count := 0
	for off := 0; off < len(block); {
		if len(block)-off < 2 {
			return count, fmt.Errorf("%w: item length at offset %d", ErrTruncated, off)
		}
		l := int(binary.LittleEndian.Uint16(block[off:]))
		off += 2
		if l == 0 {
			continue
		}
		if len(block)-off < l {
			return count, fmt.Errorf("%w: item of %d bytes at offset %d", ErrTruncated, l, off)
		}
		if count == max {
			return count, fmt.Errorf("%w: more than %d array items", ErrTooLarge, max)
		}
		item := block[off : off+l : off+l]
		off += l
		count++
		if !fn(item) {
			return count, nil
		}
	}
	return count, nil
}

// ParseArray decodes a complete uwsgi array into views of its non-empty items,
// at most lim.MaxRPCItems of them.
func ParseArray(block []byte, lim Limits) ([][]byte, error) {
	max := lim.maxRPCItems()
	n, err := ScanArray(block, lim, max, func([]byte) bool { return true })
	if err != nil {
		return nil, err
	}
	items := make([][]byte, 0, n)
	_, _ = ScanArray(block, lim, max, func(it []byte) bool {
		items = append(items, it)
		return true
	})
	return items, nil
}

// AppendArray appends items as a uwsgi array (no header). An empty item is
// ErrEmptyItem, since a receiver would drop it and shift the others; an item
// over MaxItemSize, a total over MaxVarsSize or more than MaxRPCItems items is
// ErrTooLarge. On error buf is returned unchanged.
func AppendArray(buf []byte, items ...[]byte) ([]byte, error) {
	if _, err := arraySize(items); err != nil {
		return buf, err
	}
	return appendArray(buf, items), nil
}

func arraySize(items [][]byte) (int, error) {
	if len(items) > MaxRPCItems {
		return 0, fmt.Errorf("%w: %d array items > max %d", ErrTooLarge, len(items), MaxRPCItems)
	}
	size := 0
	for i, it := range items {
		if len(it) == 0 {
			return 0, fmt.Errorf("%w: item %d", ErrEmptyItem, i)
		}
		if len(it) > MaxItemSize {
			return 0, fmt.Errorf("%w: item %d: %d bytes > max %d", ErrTooLarge, i, len(it), MaxItemSize)
		}
		size += 2 + len(it)
		if size > MaxVarsSize {
			return 0, fmt.Errorf("%w: array %d+ bytes > max %d", ErrTooLarge, size, MaxVarsSize)
		}
	}
	return size, nil
}

func appendArray(buf []byte, items [][]byte) []byte {
	for _, it := range items {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(it)))
		buf = append(buf, it...)
	}
	return buf
}

// AppendRPCRequest appends a complete RPC request packet: header
// (173, len, req.Modifier2) + the array [Func, Args...]. The whole array must
// fit 65535 bytes; Func and every arg must be non-empty (ErrNoFunc,
// ErrEmptyItem). Modifier2 must be RPCFramed or RPCRaw (ErrModifier). On error
// buf is returned unchanged.
func AppendRPCRequest(buf []byte, req RPCRequest) ([]byte, error) {
	if req.Modifier2 != RPCFramed && req.Modifier2 != RPCRaw {
		return buf, fmt.Errorf("%w: rpc request modifier2 %d", ErrModifier, req.Modifier2)
	}
	if len(req.Func) == 0 {
		return buf, ErrNoFunc
	}
	items := make([][]byte, 0, 1+len(req.Args))
	items = append(items, req.Func)
	items = append(items, req.Args...)
	size, err := arraySize(items)
	if err != nil {
		return buf, err
	}
	buf = AppendHeader(buf, Header{Modifier1: ModRPC, Size: uint16(size), Modifier2: req.Modifier2})
	return appendArray(buf, items), nil
}

// ParseRPCRequest decodes an RPC request packet with modifier2 RPCFramed or
// RPCRaw (other modes carry vars or HTTP bodies: ErrModifier, as is a
// modifier1 other than 173). It returns the request and the bytes it took,
// ErrNeedMore until the whole array is in b, and ErrNoFunc for an array with
// no non-empty item. Empty arguments are skipped, as uWSGI does.
func ParseRPCRequest(b []byte, lim Limits) (RPCRequest, int, error) {
	total, err := PacketSize(b, lim)
	if err != nil {
		return RPCRequest{}, 0, err
	}
	h, _, _ := ParseHeader(b)
	if h.Modifier1 != ModRPC {
		return RPCRequest{}, 0, fmt.Errorf("%w: modifier1 %d, want %d", ErrModifier, h.Modifier1, ModRPC)
	}
	if h.Modifier2 != RPCFramed && h.Modifier2 != RPCRaw {
		return RPCRequest{}, 0, fmt.Errorf("%w: rpc request modifier2 %d", ErrModifier, h.Modifier2)
	}
	items, err := ParseArray(b[HeaderSize:total], lim)
	if err != nil {
		return RPCRequest{}, 0, err
	}
	if len(items) == 0 {
		return RPCRequest{}, 0, ErrNoFunc
	}
	return RPCRequest{Modifier2: h.Modifier2, Func: items[0], Args: items[1:]}, total, nil
}

// AppendRPCResponse appends the answer to an RPCFramed request: header
// (173, len, 0) + result when the result fits 65535 bytes, otherwise header
// (173, len(dict), 5) + vars {CONTENT_LENGTH: n} + the n result bytes. An
// RPCRaw request is answered with the bare result instead (no framing).
func AppendRPCResponse(buf []byte, result []byte) []byte {
	if len(result) <= MaxVarsSize {
		buf = AppendHeader(buf, Header{Modifier1: ModRPC, Size: uint16(len(result)), Modifier2: RPCFramed})
		return append(buf, result...)
	}
	var num [maxDigits]byte
	cl := strconv.AppendUint(num[:0], uint64(len(result)), 10)
	const key = "CONTENT_LENGTH"
	size := 2 + len(key) + 2 + len(cl)
	buf = AppendHeader(buf, Header{Modifier1: ModRPC, Size: uint16(size), Modifier2: RPCLarge})
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(key)))
	buf = append(buf, key...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(cl)))
	buf = append(buf, cl...)
	return append(buf, result...)
}

// ParseRPCResponse decodes the answer to an RPCFramed request and returns the
// result (a view into b) and the bytes it took. While incomplete it returns
// ErrNeedMore with the length b must reach before a new call can progress: 0
// before the header is in, then the end of the RPCLarge dict, then the total.
// A result over lim.MaxRPCResult is ErrTooLarge (checked on the
// CONTENT_LENGTH of an RPCLarge answer before waiting for its bytes); a
// modifier1 other than 173 or a modifier2 other than RPCFramed/RPCLarge is
// ErrModifier. A node that has no such function closes the connection without
// sending anything: that is an EOF on zero bytes, for the caller to see.
func ParseRPCResponse(b []byte, lim Limits) ([]byte, int, error) {
	h, _, err := ParseHeader(b)
	if err != nil {
		return nil, 0, err
	}
	if h.Modifier1 != ModRPC {
		return nil, 0, fmt.Errorf("%w: modifier1 %d, want %d", ErrModifier, h.Modifier1, ModRPC)
	}
	maxResult := lim.maxRPCResult()
	switch h.Modifier2 {
	case RPCFramed:
		if int(h.Size) > maxResult {
			return nil, 0, fmt.Errorf("%w: rpc result %d bytes > max %d", ErrTooLarge, h.Size, maxResult)
		}
		total := HeaderSize + int(h.Size)
		if len(b) < total {
			return nil, total, ErrNeedMore
		}
		return b[HeaderSize:total:total], total, nil
	case RPCLarge:
		dictEnd, err := PacketSize(b, lim)
		if err != nil {
			return nil, dictEnd, err
		}
		var cl []byte
		found := false
		_, err = ScanVars(b[HeaderSize:dictEnd], lim, func(k, v []byte) bool {
			if string(k) == "CONTENT_LENGTH" {
				cl, found = v, true
			}
			return true
		})
		if err != nil {
			return nil, 0, err
		}
		if !found {
			return nil, 0, fmt.Errorf("%w: rpc answer without CONTENT_LENGTH", ErrNumber)
		}
		n, err := ParseNumber(cl, uint64(maxResult))
		if err != nil {
			return nil, 0, fmt.Errorf("rpc CONTENT_LENGTH: %w", err)
		}
		total := dictEnd + int(n)
		if len(b) < total {
			return nil, total, ErrNeedMore
		}
		return b[dictEnd:total:total], total, nil
	default:
		return nil, 0, fmt.Errorf("%w: rpc answer modifier2 %d", ErrModifier, h.Modifier2)
	}
}
