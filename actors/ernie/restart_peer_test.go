//go:build peers

package ernie_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo/gen"

	"imperial/bertrpc"
	"imperial/node/etf"
	"imperial/node/kernel"
	"imperial/rel/peers"
)

// TestBeamPeerKilledRepeatedly: the BEAM peer killed with SIGKILL comes
// back under ernie_beam's supervision each time (same node name, a new
// creation) and native Erlang calls work again, round after round.
func TestBeamPeerKilledRepeatedly(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	peer := gen.Atom(fmt.Sprint(h.mustCall("nat", "node")))
	osPid := func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := kernel.RPC(ctx, h.node, peer, "os", "getpid", nil)
		if err != nil {
			return 0, err
		}
		l, ok := v.(etf.List) // a charlist
		if !ok {
			return 0, fmt.Errorf("os:getpid() = %#v", v)
		}
		var s []byte
		for _, c := range l {
			b, _ := c.(int64)
			s = append(s, byte(b))
		}
		return strconv.Atoi(string(s))
	}
	var pid int
	peers.WaitFor(t, 30*time.Second, func() (err error) { pid, err = osPid(); return err })
	for round := 1; round <= 5; round++ {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("round %d: kill %d: %v", round, pid, err)
		}
		old, killed := pid, time.Now()
		// back once a native Erlang call answers from a new OS process;
		// until then each call gets a server error, none goes unanswered
		// (one sent while the new peer boots used to be lost)
		peers.WaitFor(t, 60*time.Second, func() error {
			if _, err := h.call("nat", "add", int64(1), int64(2)); err != nil {
				var re *bertrpc.RemoteError
				if !errors.As(err, &re) {
					t.Fatalf("round %d: nat:add got no answer: %v", round, err)
				}
				return fmt.Errorf("round %d: nat:add: %w", round, err)
			}
			p, err := osPid()
			if err != nil {
				return fmt.Errorf("round %d: os:getpid: %w", round, err)
			}
			if p == old {
				return fmt.Errorf("round %d: still the killed peer %d", round, p)
			}
			pid = p
			return nil
		})
		t.Logf("round %d: back after %s", round, time.Since(killed).Round(time.Millisecond))
		if v := h.mustCall("nat", "add", int64(1), int64(2)); v != int64(3) {
			t.Fatalf("round %d: nat:add(1, 2) = %#v", round, v)
		}
	}
}
