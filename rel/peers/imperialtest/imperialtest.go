// Package imperialtest runs imperial's services inside a test's own process,
// built by apps.Build from a command line, so that real peers (uwsgi, nginx,
// erl, ...) can talk to them. Test-only: imported by the external
// (package x_test) peer tests of apps/... alone; it imports apps, so no
// package that apps imports may use it.
package imperialtest

import (
	"fmt"
	"os"
	"testing"

	"ergo.services/ergo/gen"

	"imperial/apps"
	"imperial/apps/config"
	"imperial/node"
	"imperial/node/nodetest"
	"imperial/node/rpc"
	"imperial/rel/peers/ergotest"
)

// Start runs the services of a command line (args) on a fresh node: with
// distribution under name (a long node name) when name is non-empty, as a
// bare node without network otherwise. reg receives the services' RPC
// modules; nil means a fresh registry. The node stops at cleanup.
func Start(t testing.TB, reg *rpc.Registry, name string, args ...string) gen.Node {
	t.Helper()
	opts, rest, err := config.ParseArgs(args)
	if err != nil || len(rest) > 0 {
		t.Fatalf("args %v: %v %v", args, rest, err)
	}
	if reg == nil {
		reg = rpc.NewRegistry()
	}
	env := apps.Env{Registry: reg, NodeName: gen.Atom(name)}
	o := node.Options{Registry: reg, Name: name, NoNetwork: name == ""}
	if o.Applications, err = apps.Build(env, opts); err != nil {
		t.Fatalf("build %v: %v", args, err)
	}
	// The applications' members are spawned directly, not as ergo
	// applications, and without distribution the node is a bare ergo node
	// (no kernel application): ergo's graceful application stop races with
	// the application's termination (node/application.go a.reason, reported
	// by -race, and a nil Network() panic under norecover) at node Stop. The
	// binary runs everything as applications (apps/router/demo_peer_test.go).
	built := o.Applications
	o.Applications = nil
	var n gen.Node
	if name != "" {
		n = nodetest.Start(t, o)
	} else {
		n = ergotest.Start(t, fmt.Sprintf("bare%d_", os.Getpid()), gen.LogLevelWarning)
	}
	for _, a := range built {
		spec, err := a.Load(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range spec.Group {
			if _, err := n.SpawnRegister(m.Name, m.Factory, m.Options, m.Args...); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
		}
		a.Start(gen.ApplicationModeTemporary) // registers the service's RPC module
	}
	return n
}
