package subscription

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"imperial/actors/wire/uwsgi"
)

// Limits of the subscription protocol (spec §2.1).
const (
	// Modifier1 is the uwsgi modifier1 of subscription packets.
	Modifier1 = uwsgi.ModSubscription
	// CmdSubscribe and CmdUnsubscribe are the packet's modifier2.
	CmdSubscribe   = 0
	CmdUnsubscribe = 1
	// MaxDatagram is the size of uWSGI's receive buffer: a longer datagram
	// is cut there by a real router, so Append refuses to build one.
	MaxDatagram = 4096
	// MaxKeyLen and MaxAddressLen: a real router ignores packets whose key
	// or address is longer.
	MaxKeyLen     = 255
	MaxAddressLen = 255
)

// Subscription is one (un)subscription announce. Numbers are as on the wire;
// the receiving router treats Weight 0 as 1. Strings and Sign are copies: the
// input buffer may be reused after Parse.
type Subscription struct {
	Unsubscribe bool   // modifier2 of the header: 0 subscribe, 1 unsubscribe
	Key         string // pool key, usually a host name, may contain ":port"
	Address     string // node address the router connects to
	Modifier1   uint8  // modifier1 the router writes into forwarded requests
	Modifier2   uint8  // modifier2 likewise
	Cores       int    // processes × cores (informational)
	Load        int    // listen-queue backlog (informational)
	Weight      int    // --weight, or processes × cores with --auto-weight
	SNIKey      string // optional "sni_key" file path
	SNICrt      string // optional "sni_crt" file path
	SNICA       string // optional "sni_ca" file path
	Notify      string // optional "notify": datagram address for acks
	Unix        int64  // optional "unix": signing time, now + command; 0 when absent
	Sign        []byte // optional "sign": signature over the vars before it
}

// Parse decodes one subscription datagram. The datagram must hold exactly
// one packet: modifier1 224, modifier2 0 or 1 (ErrModifier otherwise),
// datasize equal to the bytes that follow (ErrTruncated / ErrTrailing).
// Unknown vars are ignored; a repeated var counts with its last value; a
// missing or empty key or address is ErrMissingKey / ErrMissingAddress, and
// one over MaxKeyLen / MaxAddressLen is ErrTooLarge. An empty sign record
// leaves Sign nil. A number that is not
// plain decimal, or out of range, is ErrBadValue.
func Parse(b []byte) (Subscription, error) {
	if len(b) > MaxDatagram {
		return Subscription{}, fmt.Errorf("%w: datagram %d bytes > max %d", ErrTooLarge, len(b), MaxDatagram)
	}
	block, h, err := vars(b)
	if err != nil {
		return Subscription{}, err
	}
	var (
		s                        Subscription
		key, addr                []byte
		m1, m2, cores, load, wgt []byte
		unix, sniK, sniC, sniA   []byte
		notify, sign             []byte
	)
	_, err = uwsgi.ScanVars(block, uwsgi.Limits{MaxVars: MaxDatagram}, func(k, v []byte) bool {
		switch string(k) {
		case "key":
			key = v
		case "address":
			addr = v
		case "modifier1":
			m1 = v
		case "modifier2":
			m2 = v
		case "cores":
			cores = v
		case "load":
			load = v
		case "weight":
			wgt = v
		case "unix":
			unix = v
		case "sign":
			sign = v
		case "sni_key":
			sniK = v
		case "sni_crt":
			sniC = v
		case "sni_ca":
			sniA = v
		case "notify":
			notify = v
		}
		return true
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(key) == 0 {
		return Subscription{}, ErrMissingKey
	}
	if len(key) > MaxKeyLen {
		return Subscription{}, fmt.Errorf("%w: key %d bytes > max %d", ErrTooLarge, len(key), MaxKeyLen)
	}
	if len(addr) == 0 {
		return Subscription{}, ErrMissingAddress
	}
	if len(addr) > MaxAddressLen {
		return Subscription{}, fmt.Errorf("%w: address %d bytes > max %d", ErrTooLarge, len(addr), MaxAddressLen)
	}
	s.Unsubscribe = h.Modifier2 == CmdUnsubscribe
	s.Key, s.Address = string(key), string(addr)
	for _, f := range []struct {
		name string
		v    []byte
		max  uint64
		set  func(uint64)
	}{
		{"modifier1", m1, math.MaxUint8, func(x uint64) { s.Modifier1 = uint8(x) }},
		{"modifier2", m2, math.MaxUint8, func(x uint64) { s.Modifier2 = uint8(x) }},
		{"cores", cores, math.MaxInt, func(x uint64) { s.Cores = int(x) }},
		{"load", load, math.MaxInt, func(x uint64) { s.Load = int(x) }},
		{"weight", wgt, math.MaxInt, func(x uint64) { s.Weight = int(x) }},
		{"unix", unix, math.MaxInt64, func(x uint64) { s.Unix = int64(x) }},
	} {
		if f.v == nil {
			continue
		}
		x, err := uwsgi.ParseNumber(f.v, f.max)
		if err != nil {
			return Subscription{}, fmt.Errorf("%w: %s: %w", ErrBadValue, f.name, err)
		}
		f.set(x)
	}
	s.SNIKey, s.SNICrt, s.SNICA, s.Notify = string(sniK), string(sniC), string(sniA), string(notify)
	if len(sign) > 0 {
		s.Sign = append([]byte{}, sign...)
	}
	return s, nil
}

// vars checks the framing of a datagram and returns its vars block.
func vars(b []byte) ([]byte, uwsgi.Header, error) {
	size, err := uwsgi.PacketSize(b, uwsgi.Limits{})
	if errors.Is(err, uwsgi.ErrNeedMore) {
		return nil, uwsgi.Header{}, fmt.Errorf("%w: %d bytes, need %d: %w", ErrTruncated, len(b), max(size, uwsgi.HeaderSize), err)
	}
	if err != nil {
		return nil, uwsgi.Header{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	h, _, _ := uwsgi.ParseHeader(b)
	if h.Modifier1 != Modifier1 {
		return nil, h, fmt.Errorf("%w: modifier1 %d, want %d", ErrModifier, h.Modifier1, Modifier1)
	}
	if h.Modifier2 != CmdSubscribe && h.Modifier2 != CmdUnsubscribe {
		return nil, h, fmt.Errorf("%w: modifier2 %d, want 0 or 1", ErrModifier, h.Modifier2)
	}
	if size != len(b) {
		return nil, h, fmt.Errorf("%w: %d bytes after a %d-byte packet", ErrTrailing, len(b)-size, size)
	}
	return b[uwsgi.HeaderSize:size], h, nil
}

// Append appends s as a datagram, with the vars in the order uWSGI sends them
// (key, address, modifier1, modifier2, cores, load, weight, then sni_key,
// sni_crt, sni_ca, notify, unix, sign when set), so Append(Parse(p)) == p for
// packets from real uWSGI. Errors: empty key or address, a key/address over
// its limit, negative numbers, a datagram over MaxDatagram. On error buf is
// returned unchanged.
func Append(buf []byte, s Subscription) ([]byte, error) {
	vs, err := s.vars()
	if err != nil {
		return buf, err
	}
	if len(s.Sign) > 0 {
		vs = append(vs, uwsgi.Var{Key: []byte("sign"), Value: s.Sign})
	}
	return appendVars(buf, s, vs)
}

// AppendSigned appends s signed: the packet is built with the Unix field and
// without Sign, sign is called with the vars bytes (what a router verifies,
// see SignedData), and its result is appended as the last record. s.Sign is
// ignored. Set s.Unix to now (+1 for an unsubscribe) first, as uWSGI does.
func AppendSigned(buf []byte, s Subscription, sign func(data []byte) ([]byte, error)) ([]byte, error) {
	vs, err := s.vars()
	if err != nil {
		return buf, err
	}
	unsigned, err := appendVars(nil, s, vs)
	if err != nil {
		return buf, err
	}
	sig, err := sign(unsigned[uwsgi.HeaderSize:])
	if err != nil {
		return buf, err
	}
	if len(sig) == 0 {
		return buf, fmt.Errorf("%w: empty signature", ErrBadValue)
	}
	return appendVars(buf, s, append(vs, uwsgi.Var{Key: []byte("sign"), Value: sig}))
}

func appendVars(buf []byte, s Subscription, vs uwsgi.Vars) ([]byte, error) {
	cmd := uint8(CmdSubscribe)
	if s.Unsubscribe {
		cmd = CmdUnsubscribe
	}
	out, err := uwsgi.AppendPacket(buf, Modifier1, cmd, vs)
	if err != nil {
		return buf, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if len(out)-len(buf) > MaxDatagram {
		return buf, fmt.Errorf("%w: datagram %d bytes > max %d", ErrTooLarge, len(out)-len(buf), MaxDatagram)
	}
	return out, nil
}

// vars returns every record but sign, validated.
func (s Subscription) vars() (uwsgi.Vars, error) {
	switch {
	case s.Key == "":
		return nil, ErrMissingKey
	case len(s.Key) > MaxKeyLen:
		return nil, fmt.Errorf("%w: key %d bytes > max %d", ErrTooLarge, len(s.Key), MaxKeyLen)
	case s.Address == "":
		return nil, ErrMissingAddress
	case len(s.Address) > MaxAddressLen:
		return nil, fmt.Errorf("%w: address %d bytes > max %d", ErrTooLarge, len(s.Address), MaxAddressLen)
	case s.Cores < 0 || s.Load < 0 || s.Weight < 0 || s.Unix < 0:
		return nil, fmt.Errorf("%w: negative number (cores %d, load %d, weight %d, unix %d)",
			ErrBadValue, s.Cores, s.Load, s.Weight, s.Unix)
	}
	num := func(k string, x int64) uwsgi.Var {
		return uwsgi.Var{Key: []byte(k), Value: strconv.AppendInt(nil, x, 10)}
	}
	vs := make(uwsgi.Vars, 0, 13)
	vs = vs.Add("key", s.Key).Add("address", s.Address)
	vs = append(vs, num("modifier1", int64(s.Modifier1)), num("modifier2", int64(s.Modifier2)),
		num("cores", int64(s.Cores)), num("load", int64(s.Load)), num("weight", int64(s.Weight)))
	for _, kv := range [...][2]string{{"sni_key", s.SNIKey}, {"sni_crt", s.SNICrt}, {"sni_ca", s.SNICA}, {"notify", s.Notify}} {
		if kv[1] != "" {
			vs = vs.Add(kv[0], kv[1])
		}
	}
	if s.Unix != 0 {
		vs = append(vs, num("unix", s.Unix))
	}
	return vs, nil
}

// SignedData returns the bytes a signed datagram's signature covers: its vars
// block up to the sign record, which must be the last record (ErrNotSigned
// when there is none or it is not last). The result is a view into b.
func SignedData(b []byte) ([]byte, error) {
	block, _, err := vars(b)
	if err != nil {
		return nil, err
	}
	var lastKey, lastVal []byte
	_, err = uwsgi.ScanVars(block, uwsgi.Limits{MaxVars: MaxDatagram}, func(k, v []byte) bool {
		lastKey, lastVal = k, v
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if string(lastKey) != "sign" {
		return nil, ErrNotSigned
	}
	return block[:len(block)-(2+len("sign")+2+len(lastVal))], nil
}
