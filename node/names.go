package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
)

// ErrName: a node name erl would refuse.
var ErrName = errors.New("node: invalid node name")

var aliveRe = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)

// ResolveName expands a node name as erl -sname (long false) or -name (long true)
// does (erlang-dist.md §1.6): a bare name gets this host's short name, or its
// fully qualified one; a short name's host may not contain a dot. A name with a
// host and no long flag picks long names when the host has a dot (node@127.0.0.1).
func ResolveName(name string, long bool) (full string, isLong bool, err error) {
	alive, host, hasHost := strings.Cut(name, "@")
	if !aliveRe.MatchString(alive) {
		return "", false, fmt.Errorf("%w: %q (the part before @ must match [0-9A-Za-z_-]+)", ErrName, name)
	}
	if hasHost {
		if host == "" || strings.Contains(host, "@") {
			return "", false, fmt.Errorf("%w: %q", ErrName, name)
		}
		if !long && strings.Contains(host, ".") && net.ParseIP(host) == nil {
			long = true
		}
		if net.ParseIP(host) != nil {
			long = true
		}
		return alive + "@" + host, long, nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", false, fmt.Errorf("%w: %s", ErrName, err)
	}
	if !long {
		short, _, _ := strings.Cut(h, ".")
		return alive + "@" + short, false, nil
	}
	if !strings.Contains(h, ".") {
		names, _ := net.LookupAddr("127.0.1.1")
		for _, n := range names {
			n = strings.TrimSuffix(n, ".")
			if strings.HasPrefix(n, h+".") {
				h = n
				break
			}
		}
	}
	if !strings.Contains(h, ".") {
		return "", false, fmt.Errorf("%w: can't set long node name: host %q has no domain (use %s@127.0.0.1)", ErrName, h, alive)
	}
	return alive + "@" + h, true, nil
}
