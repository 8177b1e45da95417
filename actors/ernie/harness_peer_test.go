//go:build peers

package ernie_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	ernieact "imperial/actors/ernie"
	"imperial/bertrpc"
	"imperial/ernie"
	"imperial/ernie/config"
	"imperial/node"
	"imperial/node/dist"
	"imperial/node/etf"
	"imperial/node/kernel"
	"imperial/node/nodetest"
	"imperial/rel/peers"
)

// harness is one Ernie application on a test node, serving a config built
// from the test's testdata.
type harness struct {
	t       *testing.T
	node    gen.Node
	addr    string
	port    int
	access  string
	natDir  string // compiled nat.beam and client.beam
	halted  chan struct{}
	fatal   chan error
	workDir string
}

// seedConfig is the seed's shape: a native Erlang nat shadowing a Ruby nat,
// a Ruby ext, plus the Go demo module and a one-worker Ruby pool.
const seedConfig = `
[{module, nat}, {type, native}, {codepaths, ["{{NAT}}"]}].
[{module, nat}, {type, external}, {command, "{{RUBY}}"}, {count, 2}].
[{module, ext}, {type, external}, {command, "{{RUBY}}"}, {count, 2}].
[{module, one}, {type, external}, {command, "{{RUBY}}"}, {count, 1}].
[{module, demo}, {type, native}].
`

// rubyCommand runs testdata/ext.rb with imperial's ernie.rb on the load path.
func rubyCommand(t *testing.T) string {
	ruby := peers.Require(t, "ruby")
	lib, _ := filepath.Abs("../../ernie/handlers/ruby")
	return ruby + " -I" + lib + " " + peers.Testdata("ext.rb")
}

type harnessOptions struct {
	config string
	mod    func(*ernieact.Options)
}

func startErnie(t *testing.T, ho harnessOptions) *harness {
	t.Helper()
	peers.Require(t, "erl")
	natDir := peers.Erlc(t, peers.Testdata("nat.erl"), peers.Testdata("client.erl"))
	cfg := ho.config
	if cfg == "" {
		cfg = seedConfig
	}
	cfg = strings.NewReplacer("{{NAT}}", natDir, "{{RUBY}}", rubyCommand(t)).Replace(cfg)
	specs, err := config.Parse([]byte(cfg), "test.cfg")
	if err != nil {
		t.Fatal(err)
	}
	natives, err := ernie.NewNatives(ernie.Demo("demo"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, natDir: natDir, halted: make(chan struct{}), fatal: make(chan error, 1), workDir: t.TempDir()}
	h.addr = ln.Addr().String()
	h.port = ln.Addr().(*net.TCPAddr).Port
	h.access = filepath.Join(h.workDir, "access.log")
	n := sharedNode(t)
	var haltOnce sync.Once
	o := ernieact.Options{
		Specs:     specs,
		Natives:   natives,
		Listener:  ln,
		AccessLog: h.access,
		Beam: ernieact.BeamOptions{Erl: peers.Require(t, "erl"), NameFlag: "-name", Cookie: nodetest.Cookie,
			Name: peers.UniqueName("beam") + "@127.0.0.1", Imperial: n.Name()},
		ErlangRPC: func(ctx context.Context, peer gen.Atom, m, f etf.Atom, args []any) (any, error) {
			v, err := kernel.RPC(ctx, n, peer, m, f, args)
			var re *dist.RPCError
			if errors.As(err, &re) && re.Class != "badrpc" {
				return nil, &ernie.ErlangException{Class: re.Class, Reason: re.Reason, Stack: re.Stack}
			}
			return v, err
		},
		Halt:  func() { haltOnce.Do(func() { close(h.halted) }) },
		Fatal: func(err error) { h.fatal <- err },
	}
	if ho.mod != nil {
		ho.mod(&o)
	}
	if _, err := ernieact.CreateApp(o); err != nil { // the checks the CLI gets
		t.Fatal(err)
	}
	h.node = n
	sup, err := h.node.SpawnRegister(ernieact.SupName, ernieact.Factory, gen.ProcessOptions{}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopSup(t, h.node, sup) })
	h.waitServing()
	return h
}

var (
	nodeOnce sync.Once
	theNode  gen.Node
	nodeErr  error
)

// sharedNode is the one imperial node of this test binary. It is never
// stopped: ergo v1.999.310 races in node.Stop and in application stop
// (flagged by -race) and panics in node.Stop under -tags norecover; one
// node keeps its other race (the cron timer, each minute) to one instance.
func sharedNode(t *testing.T) gen.Node {
	t.Helper()
	peers.EnsureEPMD(t)
	nodeOnce.Do(func() {
		base := gen.NodeOptions{}
		base.Log.Level = gen.LogLevelWarning
		if os.Getenv("IMPERIAL_TEST_TRACE") != "" {
			base.Log.Level = gen.LogLevelTrace
		}
		theNode, nodeErr = node.Start(node.Options{Name: peers.UniqueName("imp") + "@127.0.0.1",
			Cookie: nodetest.Cookie, Base: base})
	})
	if nodeErr != nil {
		t.Fatal(nodeErr)
	}
	return theNode
}

// stopSup shuts the supervisor down (workers, the BEAM peer and the
// listener go with it) and waits for it; the node stays (see sharedNode).
func stopSup(t *testing.T, n gen.Node, sup gen.PID) {
	down := make(chan struct{})
	if _, err := n.Spawn(func() gen.ProcessBehavior { return &watcher{} }, gen.ProcessOptions{}, sup, down); err != nil {
		t.Errorf("watch %s: %v", sup, err)
		return
	}
	n.SendExit(sup, gen.TerminateReasonShutdown)
	select {
	case <-down:
	case <-time.After(20 * time.Second):
		t.Errorf("ernie_sup did not stop")
	}
}

// watcher closes its channel when the process it monitors is gone.
type watcher struct {
	act.Actor
	target gen.PID
	down   chan struct{}
}

type watchNow struct{}

func (w *watcher) Init(args ...any) error {
	w.target, w.down = args[0].(gen.PID), args[1].(chan struct{})
	return w.Send(w.PID(), watchNow{})
}

func (w *watcher) HandleMessage(from gen.PID, message any) error {
	switch message.(type) {
	case watchNow:
		if err := w.MonitorPID(w.target); err != nil {
			close(w.down) // already gone
			return gen.TerminateReasonNormal
		}
	case gen.MessageDownPID:
		close(w.down)
		return gen.TerminateReasonNormal
	}
	return nil
}

// waitServing waits until the admin stats call answers (the BEAM peer is
// ready and the listener runs).
func (h *harness) waitServing() {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-h.fatal:
			h.t.Fatalf("ernie failed to start: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := bertrpc.CallOnce(ctx, h.addr, bertrpc.Options{}, ernie.AdminModule, "stats")
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("ernie not serving after 60 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call makes one call on a new connection.
func (h *harness) call(mod, fun string, args ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return bertrpc.CallOnce(ctx, h.addr, bertrpc.Options{}, mod, fun, args...)
}

func (h *harness) mustCall(mod, fun string, args ...any) any {
	h.t.Helper()
	v, err := h.call(mod, fun, args...)
	if err != nil {
		h.t.Fatalf("%s:%s%v: %v", mod, fun, args, err)
	}
	return v
}

func (h *harness) admin(fun string) string {
	h.t.Helper()
	v := h.mustCall(ernie.AdminModule, fun)
	b, ok := v.([]byte)
	if !ok {
		h.t.Fatalf("admin %s replied %#v", fun, v)
	}
	return string(b)
}

// stat returns one key of the stats text.
func (h *harness) stat(key string) string {
	h.t.Helper()
	for _, l := range strings.Split(h.admin("stats"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && k == key {
			return v
		}
	}
	h.t.Fatalf("no %s in stats", key)
	return ""
}

// ruby runs a Ruby program with testdata/client.rb loaded and PORT set;
// it returns the output lines.
func (h *harness) ruby(program string) []string {
	h.t.Helper()
	ruby := peers.Require(h.t, "ruby")
	cmd := exec.Command(ruby, "-I"+filepath.Dir(peers.Testdata("client.rb")), "-rclient", "-e", program)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(h.port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("ruby: %v\n%s", err, out)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// erl evaluates expr (with client.beam and nat.beam on the path) in a
// fresh erl, printing what it prints.
func (h *harness) erl(expr string) string {
	h.t.Helper()
	return peers.RunErl(h.t, time.Minute, peers.ErlOptions{CodePath: []string{h.natDir},
		Eval: strings.ReplaceAll(expr, "PORT", strconv.Itoa(h.port))})
}

// accessLines returns the access log's lines.
func (h *harness) accessLines() []string {
	h.t.Helper()
	b, err := os.ReadFile(h.access)
	if err != nil {
		h.t.Fatal(err)
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// expectLines compares output lines with the wanted ones (each a prefix
// match when it ends in "…").
func expectLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d lines, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		ok := g == w
		if p, cut := strings.CutSuffix(w, "…"); cut {
			ok = strings.HasPrefix(g, p)
		}
		if !ok {
			t.Errorf("line %d:\n got  %s\n want %s", i+1, g, w)
		}
	}
}

func pidOf(t *testing.T, v any) int {
	t.Helper()
	switch x := v.(type) {
	case int64:
		return int(x)
	}
	t.Fatalf("not a pid: %#v", v)
	return 0
}

var _ = fmt.Sprint
