package subscription_test

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/gen"

	"imperial/actors/subscription"
	wire "imperial/actors/wire/subscription"
)

var nodeSeq atomic.Int64

func startNode(t *testing.T) gen.Node {
	t.Helper()
	n, err := ergo.StartNode(gen.Atom(fmt.Sprintf("subtest%d@localhost", nodeSeq.Add(1))), gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
		Env:     map[gen.Env]any{"disable_metrics": true},
		Log:     gen.LogOptions{Level: gen.LogLevelError},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// TestAnnouncer: a datagram at start, another one second later, and an
// unsubscribe when the announcer stops.
func TestAnnouncer(t *testing.T) {
	n := startNode(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sp, err := wire.ParseSubscribeToSpec(pc.LocalAddr().String() + ":example.com,5")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := n.Spawn(subscription.AnnouncerFactory, gen.ProcessOptions{},
		subscription.AnnouncerOptions{Spec: sp, Address: "127.0.0.1:3031", Cores: 4})
	if err != nil {
		t.Fatal(err)
	}
	recv := func() (wire.Subscription, time.Time) {
		t.Helper()
		buf := make([]byte, 4096)
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no datagram: %v", err)
		}
		s, err := wire.Parse(buf[:m])
		if err != nil {
			t.Fatal(err)
		}
		return s, time.Now()
	}
	first, t1 := recv()
	if first.Key != "example.com" || first.Address != "127.0.0.1:3031" || first.Modifier1 != 5 || first.Cores != 4 || first.Unsubscribe {
		t.Fatalf("first announce %+v", first)
	}
	second, t2 := recv()
	if second.Unsubscribe || t2.Sub(t1) < 500*time.Millisecond {
		t.Fatalf("second announce %+v after %s", second, t2.Sub(t1))
	}
	n.Kill(pid)
	if last, _ := recv(); !last.Unsubscribe || last.Key != "example.com" {
		t.Fatalf("no unsubscribe: %+v", last)
	}
}
