// Package ergotest starts bare ergo nodes for tests of actors run in the
// test's own process: no network, no metrics, no applications, a name unique
// in the test binary, stopped in t.Cleanup. Test-only: imported by _test.go
// files alone. It imports ergo and nothing of imperial, so any package's
// tests may use it.
package ergotest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"ergo.services/ergo"
	"ergo.services/ergo/gen"
)

var seq atomic.Int64

// Start starts a node named PREFIXN@localhost (N counts the nodes this test
// binary started) logging at level and above, and stops it at cleanup.
func Start(t testing.TB, prefix string, level gen.LogLevel) gen.Node {
	t.Helper()
	n, err := ergo.StartNode(gen.Atom(fmt.Sprintf("%s%d@localhost", prefix, seq.Add(1))), gen.NodeOptions{
		Network: gen.NetworkOptions{Mode: gen.NetworkModeDisabled},
		Env:     map[gen.Env]any{"disable_metrics": true},
		Log:     gen.LogOptions{Level: level},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}
