package subscription

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"

	"imperial/actors/wire/uwsgi"
)

// Spec is one subscriber option, --subscribe-to or --subscribe2, with
// everything the option can say (spec §2.2). Sub carries the packet fields
// the option sets: Key, Address (the announce address; "" means the
// instance's first socket), Modifier1, Modifier2, Weight and SNI*.
type Spec struct {
	Server       string       // subscription server: "host:port" (UDP) or a unix datagram socket path
	Sub          Subscription // packet fields set by the option
	MapFile      string       // SERVER:@FILE: the keys come from FILE (see ParseMapFile); Sub.Key is empty
	SharedSocket int          // =N=SERVER:…: announce shared socket N; -1 when absent
	Socket       int          // --subscribe2 socket=N: announce instance socket N (overrides addr); -1 when absent
	SignKey      string       // "ALGO:private-key.pem" to sign packets with, or ""
	Check        string       // --subscribe2 check=PATH: uWSGI 2.0.21 skips the announce while PATH exists
	HasWeight    bool         // --subscribe2 weight= was given; uWSGI makes it the instance-global weight
}

// ParseSubscribeTo parses the common --subscribe-to form
// [ADDR=]SERVER:PORT:KEY[,MODIFIER1] (or /unix/path:KEY[,MODIFIER1]) into the
// server and the subscription to announce there. The key is everything after
// the second colon up to the first comma: "127.0.0.1:7171:foo.local:5" is key
// "foo.local:5" with modifier1 0, as in uWSGI. The forms this signature
// cannot carry (=N= shared socket, @mapfile, a signing key) are
// ErrUnsupported: use ParseSubscribeToSpec for them.
func ParseSubscribeTo(s string) (string, Subscription, error) {
	sp, err := ParseSubscribeToSpec(s)
	if err != nil {
		return "", Subscription{}, err
	}
	if sp.MapFile != "" || sp.SharedSocket >= 0 || sp.SignKey != "" {
		return "", Subscription{}, fmt.Errorf("%w: %q", ErrUnsupported, s)
	}
	return sp.Server, sp.Sub, nil
}

// ParseSubscribeToSpec parses every --subscribe-to spelling uWSGI 2.0 knows:
//
//	[ADDR=]SERVER:PORT:KEY[,MODIFIER1[,ALGO:PRIVKEY_PATH]]
//	[ADDR=]/unix/dgram/path:KEY[,…]
//	SERVER:PORT:@mapfile
//	=N=SERVER:PORT:KEY   (announce the N-th shared socket)
//
// Unlike uWSGI it refuses what uWSGI would misread: an empty key, a key over
// MaxKeyLen, a modifier1 that is not a decimal 0–255, and a signing key after
// an empty modifier1 ("key,,SHA1:k": uWSGI takes ",SHA1:k" as the modifier).
func ParseSubscribeToSpec(s string) (Spec, error) {
	sp := Spec{SharedSocket: -1, Socket: -1}
	bad := func(why error) (Spec, error) {
		return Spec{}, fmt.Errorf("%w: --subscribe-to %q: %w", ErrBadOption, s, why)
	}
	rest := s
	if eq := strings.IndexByte(rest, '='); eq >= 0 {
		if eq == 0 {
			end := strings.IndexByte(rest[1:], '=')
			if end < 0 {
				return bad(errors.New("=N= without its closing '='"))
			}
			n, err := uwsgi.ParseNumber([]byte(rest[1:1+end]), math.MaxInt32)
			if err != nil {
				return bad(fmt.Errorf("shared socket number: %w", err))
			}
			sp.SharedSocket = int(n)
			rest = rest[2+end:]
		} else {
			sp.Sub.Address = rest[:eq]
			rest = rest[eq+1:]
		}
	}
	var sep int // index in rest of the colon before the key
	if strings.HasPrefix(rest, "/") {
		sep = strings.IndexByte(rest[1:], ':')
		if sep < 0 {
			return bad(errors.New("no ':' before the key"))
		}
		sep++
	} else {
		port := strings.IndexByte(rest, ':')
		if port < 0 {
			return bad(errors.New("no ':PORT'"))
		}
		sep = strings.IndexByte(rest[port+1:], ':')
		if sep < 0 {
			return bad(errors.New("no ':' before the key"))
		}
		sep += port + 1
	}
	sp.Server, rest = rest[:sep], rest[sep+1:]
	if sp.Server == "" {
		return bad(errors.New("empty server"))
	}
	if file, ok := strings.CutPrefix(rest, "@"); ok {
		if file == "" {
			return bad(errors.New("empty map file name"))
		}
		sp.MapFile = file
		return sp, nil
	}
	key, mod, hasMod := strings.Cut(rest, ",")
	if err := checkKey(key); err != nil {
		return bad(err)
	}
	sp.Sub.Key = key
	if hasMod {
		mod, sign, hasSign := strings.Cut(mod, ",")
		if hasSign {
			if mod == "" {
				return bad(errors.New("signing key after an empty modifier1 (spell it out: KEY,0,ALGO:FILE)"))
			}
			if sign == "" {
				return bad(errors.New("empty signing key"))
			}
			sp.SignKey = sign
		}
		if mod != "" {
			m, err := uwsgi.ParseNumber([]byte(mod), math.MaxUint8)
			if err != nil {
				return bad(fmt.Errorf("modifier1: %w", err))
			}
			sp.Sub.Modifier1 = uint8(m)
		}
	}
	if len(sp.Sub.Address) > MaxAddressLen {
		return bad(fmt.Errorf("%w: announce address %d bytes > max %d", ErrTooLarge, len(sp.Sub.Address), MaxAddressLen))
	}
	return sp, nil
}

func checkKey(key string) error {
	if key == "" {
		return ErrMissingKey
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key %d bytes > max %d", ErrTooLarge, len(key), MaxKeyLen)
	}
	return nil
}

// ParseSubscribe2 parses a --subscribe2 option into the server and the
// subscription to announce there. The keys this signature cannot carry
// (socket, sign, check) are ErrUnsupported: use ParseSubscribe2Spec.
func ParseSubscribe2(s string) (string, Subscription, error) {
	sp, err := ParseSubscribe2Spec(s)
	if err != nil {
		return "", Subscription{}, err
	}
	if sp.Socket >= 0 || sp.SignKey != "" || sp.Check != "" {
		return "", Subscription{}, fmt.Errorf("%w: %q", ErrUnsupported, s)
	}
	return sp.Server, sp.Sub, nil
}

// ParseSubscribe2Spec parses a --subscribe2 option: comma-separated KEY=VALUE
// items, a backslash escaping the next character (as uWSGI's kvlist does).
// Keys: server and key (both required), addr, socket, weight, modifier1,
// modifier2, sign, check, sni_key, sni_crt, sni_ca. A repeated key counts
// with its last value. Unlike uWSGI, an unknown key, an item without '=' and a
// number that is not decimal are ErrBadOption instead of being ignored or
// read as 0.
func ParseSubscribe2Spec(s string) (Spec, error) {
	sp := Spec{SharedSocket: -1, Socket: -1}
	bad := func(why error) (Spec, error) {
		return Spec{}, fmt.Errorf("%w: --subscribe2 %q: %w", ErrBadOption, s, why)
	}
	num := func(k, v string, max uint64) (uint64, error) {
		n, err := uwsgi.ParseNumber([]byte(v), max)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", k, err)
		}
		return n, nil
	}
	for _, item := range splitEscaped(s, ',') {
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return bad(fmt.Errorf("item %q has no '='", item))
		}
		var err error
		var n uint64
		switch k {
		case "server":
			sp.Server = v
		case "key":
			sp.Sub.Key = v
		case "addr":
			sp.Sub.Address = v
		case "socket":
			n, err = num(k, v, math.MaxInt32)
			sp.Socket = int(n)
		case "weight":
			n, err = num(k, v, math.MaxInt32)
			sp.Sub.Weight, sp.HasWeight = int(n), true
		case "modifier1":
			n, err = num(k, v, math.MaxUint8)
			sp.Sub.Modifier1 = uint8(n)
		case "modifier2":
			n, err = num(k, v, math.MaxUint8)
			sp.Sub.Modifier2 = uint8(n)
		case "sign":
			sp.SignKey = v
		case "check":
			sp.Check = v
		case "sni_key":
			sp.Sub.SNIKey = v
		case "sni_crt":
			sp.Sub.SNICrt = v
		case "sni_ca":
			sp.Sub.SNICA = v
		default:
			return bad(fmt.Errorf("unknown key %q", k))
		}
		if err != nil {
			return bad(err)
		}
	}
	if sp.Server == "" {
		return bad(errors.New("server= is required"))
	}
	if err := checkKey(sp.Sub.Key); err != nil {
		return bad(err)
	}
	if len(sp.Sub.Address) > MaxAddressLen {
		return bad(fmt.Errorf("%w: addr %d bytes > max %d", ErrTooLarge, len(sp.Sub.Address), MaxAddressLen))
	}
	return sp, nil
}

// splitEscaped splits s at every sep not preceded by a backslash and removes
// the escaping backslashes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	var cur strings.Builder
	escaped := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case c == '\\':
			escaped = true
		case c == sep:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// ParseMapFile parses the content of a --subscribe-to SERVER:@FILE map file:
// one KEY[,MODIFIER1] per line; empty lines and lines starting with '#' are
// skipped. Each returned Subscription has only Key and Modifier1 set; merge
// them with the Spec's Sub. Errors name the 1-based line.
func ParseMapFile(data []byte) ([]Subscription, error) {
	var out []Subscription
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, mod, hasMod := bytes.Cut(line, []byte(","))
		if err := checkKey(string(key)); err != nil {
			return nil, fmt.Errorf("%w: map file line %d: %w", ErrBadOption, i+1, err)
		}
		s := Subscription{Key: string(key)}
		if hasMod && len(mod) > 0 {
			m, err := uwsgi.ParseNumber(mod, math.MaxUint8)
			if err != nil {
				return nil, fmt.Errorf("%w: map file line %d: modifier1: %w", ErrBadOption, i+1, err)
			}
			s.Modifier1 = uint8(m)
		}
		out = append(out, s)
	}
	return out, nil
}
