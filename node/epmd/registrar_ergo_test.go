//go:build !race

// Not under -race: ergo v1.999.310 itself races here (node.Stop's atomic
// state store vs the plain read in node.spawn; ENP connection.Terminate vs
// Join on the "terminated" bool, ergo-network.md §7 P16). Our own code is
// covered by the race-enabled tests in registrar_test.go.

package epmd

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/gen"
	"ergo.services/ergo/net/handshake"
	"ergo.services/ergo/net/proto"
)

// startErgoNode starts an ergo node (ergo's own handshake and proto) that
// uses our Registrar on epmdPort.
func startErgoNode(t *testing.T, name gen.Atom, epmdPort int) (gen.Node, *Registrar) {
	t.Helper()
	hs := handshake.Create(handshake.Options{})
	pr := proto.Create()
	reg := New(Options{Port: epmdPort, HandshakeVersion: hs.Version(), ProtoVersion: pr.Version()})
	port := uint16(freePort(t))
	n, err := ergo.StartNode(name, gen.NodeOptions{
		Env: map[gen.Env]any{"disable_metrics": true},
		Log: gen.LogOptions{Level: gen.LogLevelWarning},
		Network: gen.NetworkOptions{
			Registrar: reg,
			Handshake: hs,
			Proto:     pr,
			Cookie:    "secret",
			Acceptors: []gen.AcceptorOptions{{Host: "127.0.0.1", Port: port, PortRange: port}},
		},
	})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(n.Stop)
	return n, reg
}

// TestErgoNodesFindEachOther: ergo registers through us at start, resolves a
// peer through us on first contact, and unregisters at stop.
func TestErgoNodesFindEachOther(t *testing.T) {
	epmdPort := freePort(t)
	a, ra := startErgoNode(t, "a@127.0.0.1", epmdPort)
	b, rb := startErgoNode(t, "b@127.0.0.1", epmdPort)
	if !ra.Info().EmbeddedServer || rb.Info().EmbeddedServer {
		t.Fatalf("embedded: a=%v b=%v", ra.Info().EmbeddedServer, rb.Info().EmbeddedServer)
	}
	if info, err := a.Network().Info(); err != nil || info.Registrar.Version != ra.Version() {
		t.Fatalf("network registrar = %+v, %v", info.Registrar, err)
	}

	remote, err := a.Network().GetNode("b@127.0.0.1")
	if err != nil {
		t.Fatalf("a -> b: %v", err)
	}
	if remote.Name() != "b@127.0.0.1" {
		t.Fatalf("connected to %s", remote.Name())
	}
	nodes, err := ra.Nodes()
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Nodes = %v, %v", nodes, err)
	}

	b.Stop()
	waitFor(t, 10*time.Second, func() error {
		_, entries, err := Names(testCtx(t), "127.0.0.1", epmdPort)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Name == "b" {
				return fmt.Errorf("b still registered: %v", entries)
			}
		}
		return nil
	})
	if _, err := ra.Resolve("b@127.0.0.1"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Resolve b after stop: %v", err)
	}
}
