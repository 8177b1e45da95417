// Package nodetest starts imperial nodes for tests: a unique long name on
// 127.0.0.1, a free port, a real epmd, and a stop in t.Cleanup. Test-only.
package nodetest

import (
	"os"
	"testing"

	"ergo.services/ergo/gen"

	"imperial/node"
	"imperial/rel/peers"
)

// Cookie is the cookie of every test node unless the options set one.
const Cookie = "imperialtest"

// Start starts a node; o.Name, o.Cookie and logging get test defaults.
func Start(t testing.TB, o node.Options) gen.Node {
	t.Helper()
	peers.EnsureEPMD(t)
	if o.Name == "" {
		o.Name = peers.UniqueName("imp") + "@127.0.0.1"
	}
	if o.Cookie == "" {
		o.Cookie = Cookie
	}
	if o.Base.Log.Level == 0 {
		o.Base.Log.Level = gen.LogLevelWarning
		if os.Getenv("IMPERIAL_TEST_TRACE") != "" {
			o.Base.Log.Level = gen.LogLevelTrace
		}
	}
	n, err := node.Start(o)
	if err != nil {
		t.Fatalf("start node %s: %v", o.Name, err)
	}
	t.Cleanup(n.Stop)
	return n
}
