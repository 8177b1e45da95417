//go:build peers

package node_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/node"
	"imperial/node/dist"
	"imperial/node/epmd"
	"imperial/node/etf"
	"imperial/node/handshake"
	"imperial/node/nodetest"
	"imperial/node/rpc"
	"imperial/rel/peers"
)

// victim is an actor the Erlang side links to, monitors, stops and kills.
type victim struct {
	act.Actor
	notify gen.PID
}

type stopWith struct{ reason any }
type linkTo struct{ pid gen.PID }
type monitorOf struct{ pid, notify gen.PID }

func (v *victim) HandleMessage(from gen.PID, m any) error {
	switch m := m.(type) {
	case stopWith:
		return dist.ExitReason{Term: m.reason}
	case gen.MessageDownPID:
		v.Send(v.notify, etf.Tuple{etf.Atom("down"), dist.ReasonToTerm(m.Reason)})
	}
	return nil
}

// HandleCall sets up links and monitors synchronously: the Erlang side acts
// only after its rpc returns, so the MONITOR_P/LINK is on the wire first.
func (v *victim) HandleCall(from gen.PID, ref gen.Ref, req any) (any, error) {
	switch m := req.(type) {
	case linkTo:
		return etf.Atom("ok"), v.LinkPID(m.pid)
	case monitorOf:
		v.notify = m.notify
		return etf.Atom("ok"), v.MonitorPID(m.pid)
	}
	return req, nil
}

// testFuncs registers module test: what imptest.erl asks of the Go side.
func testFuncs(r *rpc.Registry) {
	t := etf.Atom("test")
	arg := func(c rpc.Call, i int) any { return c.Args[i] }
	r.Register(t, "throw", func(c rpc.Call) (any, error) { return nil, rpc.Throw(arg(c, 0)) })
	r.Register(t, "exit", func(c rpc.Call) (any, error) { return nil, rpc.Exit(arg(c, 0)) })
	r.Register(t, "error", func(c rpc.Call) (any, error) { return nil, rpc.Raise(arg(c, 0)) })
	r.Register(t, "sleep", func(c rpc.Call) (any, error) {
		ms, _ := arg(c, 0).(int64)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return etf.Atom("ok"), nil
	})
	r.Register(t, "notify", func(c rpc.Call) (any, error) {
		return etf.Atom("ok"), c.Process.Send(arg(c, 0).(gen.PID), arg(c, 1))
	})
	r.Register(t, "victim", func(c rpc.Call) (any, error) {
		opts := gen.ProcessOptions{}
		factory := func() gen.ProcessBehavior { return &victim{} }
		if len(c.Args) == 1 {
			return c.Process.Node().SpawnRegister(gen.Atom(arg(c, 0).(etf.Atom)), factory, opts)
		}
		return c.Process.Node().Spawn(factory, opts)
	})
	r.Register(t, "stop", func(c rpc.Call) (any, error) {
		return etf.Atom("ok"), c.Process.Send(arg(c, 0).(gen.PID), stopWith{arg(c, 1)})
	})
	r.Register(t, "alive", func(c rpc.Call) (any, error) {
		_, err := c.Process.Node().ProcessInfo(arg(c, 0).(gen.PID))
		return etf.Atom(fmt.Sprint(err == nil)), nil
	})
	r.Register(t, "link", func(c rpc.Call) (any, error) {
		return c.Process.Call(arg(c, 0).(gen.PID), linkTo{arg(c, 1).(gen.PID)})
	})
	r.Register(t, "monitor", func(c rpc.Call) (any, error) {
		return c.Process.Call(arg(c, 0).(gen.PID), monitorOf{arg(c, 1).(gen.PID), arg(c, 2).(gen.PID)})
	})
	r.Register(t, "gs_call", func(c rpc.Call) (any, error) {
		peer, name := gen.Atom(arg(c, 0).(etf.Atom)), gen.Atom(arg(c, 1).(etf.Atom))
		v, err := c.Process.Call(gen.ProcessID{Name: name, Node: peer}, arg(c, 2))
		if err != nil {
			return etf.Tuple{etf.Atom("error"), dist.ReasonToTerm(err)}, nil
		}
		return v, nil
	})
	r.Register(t, "send", func(c rpc.Call) (any, error) {
		to := gen.ProcessID{Name: gen.Atom(arg(c, 1).(etf.Atom)), Node: gen.Atom(arg(c, 0).(etf.Atom))}
		return etf.Atom("ok"), c.Process.Send(to, arg(c, 2))
	})
	r.Register(t, "pattern", func(c rpc.Call) (any, error) {
		n := int(arg(c, 0).(int64))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i)
		}
		return b, nil
	})
}

// TestErlDrivesImperial runs imptest.erl in a real erl against an imperial node:
// every check of erlang-dist.md §11 that one erl can observe.
func TestErlDrivesImperial(t *testing.T) {
	reg := rpc.NewRegistry()
	testFuncs(reg)
	n := nodetest.Start(t, node.Options{Registry: reg})
	code := peers.Erlc(t, peers.Testdata("imptest.erl"))
	out := peers.RunErl(t, 5*time.Minute, peers.ErlOptions{
		Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: nodetest.Cookie, CodePath: []string{code},
		Eval: fmt.Sprintf(`imptest:main(["%s"])`, string(n.Name())),
	})
	if !strings.Contains(out, "DONE") {
		t.Fatalf("imptest did not finish:\n%s", out)
	}
	for _, f := range peers.Lines(out, "FAIL ") {
		t.Errorf("FAIL %s", f)
	}
	want := 46
	if got := len(peers.Lines(out, "PASS ")); got != want {
		t.Errorf("%d checks passed, want %d:\n%s", got, want, out)
	}
}

// TestEPMDNames: epmd lists the node while it runs and not after; a second node
// with the same name is refused without harming the first.
func TestEPMDNames(t *testing.T) {
	n := nodetest.Start(t, node.Options{})
	alive, _, _ := strings.Cut(string(n.Name()), "@")
	listed := func() (bool, error) {
		_, names, err := epmd.Names(context.Background(), "127.0.0.1", 4369)
		if err != nil {
			return false, err
		}
		for _, e := range names {
			if e.Name == alive {
				return true, nil
			}
		}
		return false, nil
	}
	if ok, err := listed(); !ok || err != nil {
		t.Fatalf("%s not in epmd names (err %v)", alive, err)
	}
	_, err := node.Start(node.Options{Name: string(n.Name()), Cookie: nodetest.Cookie})
	if err == nil {
		t.Fatal("second node with the same name started")
	}
	out, _ := exec.Command("erl", "-noshell", "-name", peers.UniqueName("c")+"@127.0.0.1", "-setcookie", nodetest.Cookie,
		"-eval", fmt.Sprintf(`io:format("~p~n", [net_adm:ping('%s')]), halt().`, string(n.Name()))).CombinedOutput()
	if !strings.Contains(string(out), "pong") {
		t.Fatalf("first node stopped answering after the duplicate: %s", out)
	}
	n.Stop()
	peers.WaitFor(t, 5*time.Second, func() error {
		if ok, err := listed(); ok || err != nil {
			return fmt.Errorf("still listed (err %v)", err)
		}
		return nil
	})
}

// TestWrongCookie: a peer with another cookie gets pang, both ways.
func TestWrongCookie(t *testing.T) {
	n := nodetest.Start(t, node.Options{})
	out := peers.RunErl(t, time.Minute, peers.ErlOptions{
		Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: "wrong",
		Eval: fmt.Sprintf(`io:format("RESULT ~p~n", [net_adm:ping('%s')])`, string(n.Name())),
	})
	if r := peers.Lines(out, "RESULT "); len(r) != 1 || r[0] != "pang" {
		t.Fatalf("erl with a wrong cookie: %q", out)
	}
	erlName := peers.UniqueName("e") + "@127.0.0.1"
	e := peers.StartErl(t, peers.ErlOptions{Name: erlName, Cookie: "other", Eval: "receive stop -> ok end"})
	peers.WaitFor(t, 10*time.Second, func() error { return erlListed(erlName) })
	if _, err := n.Network().GetNode(gen.Atom(erlName)); err == nil {
		t.Fatal("connected to erl with a different cookie")
	}
	e.Kill()
}

func erlListed(full string) error {
	alive, _, _ := strings.Cut(full, "@")
	_, names, err := epmd.Names(context.Background(), "127.0.0.1", 4369)
	if err != nil {
		return err
	}
	for _, e := range names {
		if e.Name == alive {
			return nil
		}
	}
	return fmt.Errorf("%s not registered yet", alive)
}

// TestShortNames: an -sname erl reaches a short-named imperial node.
func TestShortNames(t *testing.T) {
	alive := peers.UniqueName("imps")
	n := nodetest.Start(t, node.Options{Name: alive})
	if strings.Contains(string(n.Name()), ".") {
		t.Fatalf("short name has a dot: %s", string(n.Name()))
	}
	out := peers.RunErl(t, time.Minute, peers.ErlOptions{
		SName: peers.UniqueName("cs"), Cookie: nodetest.Cookie,
		Eval: fmt.Sprintf(`io:format("RESULT ~p~n", [net_adm:ping('%s')])`, string(n.Name())),
	})
	if r := peers.Lines(out, "RESULT "); len(r) != 1 || r[0] != "pong" {
		t.Fatalf("sname ping: %q", out)
	}
}

// TestTickTime: with net_ticktime 2 on erl, an idle connection stays up for 12 s.
func TestTickTime(t *testing.T) {
	n := nodetest.Start(t, node.Options{})
	out := peers.RunErl(t, time.Minute, peers.ErlOptions{
		Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: nodetest.Cookie,
		Extra: []string{"-kernel", "net_ticktime", "2"},
		Eval: fmt.Sprintf(`begin N = '%s', ok = net_kernel:monitor_nodes(true, [nodedown_reason]),
		  pong = net_adm:ping(N),
		  R = receive {nodedown, N, Info} -> {down, Info} after 12000 -> up end,
		  io:format("RESULT ~p~n", [R]) end`, string(n.Name())),
	})
	if r := peers.Lines(out, "RESULT "); len(r) != 1 || r[0] != "up" {
		t.Fatalf("idle connection under net_ticktime 2: %q", out)
	}
}

// TestNodedownReachesGo: a Go actor monitoring an erl process gets a DOWN with
// noconnection when that erl node goes away.
func TestNodedownReachesGo(t *testing.T) {
	n := nodetest.Start(t, node.Options{})
	erlName := peers.UniqueName("e") + "@127.0.0.1"
	e := peers.StartErl(t, peers.ErlOptions{Name: erlName, Cookie: nodetest.Cookie,
		Eval: "register(target, self()), receive stop -> ok end"})
	// erl registers with epmd before -eval runs: wait for the name target,
	// or the monitor below gets DOWN noproc
	peers.WaitFor(t, 10*time.Second, func() error {
		if err := erlListed(erlName); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := node.RPC(ctx, n, gen.Atom(erlName), "erlang", "whereis", etf.Atom("target"))
		if err != nil {
			return err
		}
		if v == etf.Atom("undefined") {
			return errors.New("target not registered yet")
		}
		return nil
	})
	downs := make(chan gen.MessageDownProcessID, 1)
	ready := make(chan struct{})
	_, err := n.Spawn(func() gen.ProcessBehavior {
		return &watcher{downs: downs, ready: ready, target: gen.Atom(erlName)}
	}, gen.ProcessOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("watcher could not monitor the erl process")
	}
	e.Kill()
	select {
	case d := <-downs:
		if d.Reason != gen.ErrNoConnection {
			t.Fatalf("DOWN reason %v, want noconnection", d.Reason)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no DOWN after the erl node died")
	}
}

type watcher struct {
	act.Actor
	downs  chan gen.MessageDownProcessID
	ready  chan struct{}
	target gen.Atom
}

func (w *watcher) Init(args ...any) error {
	w.Send(w.PID(), "go")
	return nil
}

func (w *watcher) HandleMessage(from gen.PID, m any) error {
	switch m := m.(type) {
	case string:
		if err := w.MonitorProcessID(gen.ProcessID{Name: "target", Node: w.target}); err != nil {
			return err
		}
		close(w.ready)
		return nil
	case gen.MessageDownProcessID:
		w.downs <- m
	}
	return nil
}

// TestGlobalCluster: erl pings only imperial node A; A is connected to imperial
// node B; after global:sync() erl connects to B too, as between BEAM nodes (global
// starts that connection from the resolved message, asynchronously: erl polls nodes()).
func TestGlobalCluster(t *testing.T) {
	a := nodetest.Start(t, node.Options{})
	b := nodetest.Start(t, node.Options{})
	if _, err := a.Network().GetNode(b.Name()); err != nil {
		t.Fatalf("A cannot connect to B: %v", err)
	}
	out := peers.RunErl(t, time.Minute, peers.ErlOptions{
		Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: nodetest.Cookie,
		Eval: fmt.Sprintf(`begin pong = net_adm:ping('%s'), ok = global:sync(),
		  Wait = fun W(0) -> false; W(I) -> case lists:member('%s', nodes()) of
		      true -> true; false -> receive after 50 -> W(I - 1) end end end,
		  io:format("RESULT ~p~n", [Wait(100)]) end`, string(a.Name()), string(b.Name())),
	})
	if r := peers.Lines(out, "RESULT "); len(r) != 1 || r[0] != "true" {
		t.Fatalf("erl's nodes() after global:sync: %q", out)
	}
}

// TestOutboundAPI: the Go API apps use to reach an erl node — connect, rpc (with
// a function that prints through our group leader), send, a registered mailbox,
// close.
func TestOutboundAPI(t *testing.T) {
	n := nodetest.Start(t, node.Options{})
	erlName := gen.Atom(peers.UniqueName("e") + "@127.0.0.1")
	e := peers.StartErl(t, peers.ErlOptions{Name: string(erlName), Cookie: nodetest.Cookie,
		Eval: `register(sink, self()), io:format("READY~n"),
		  receive {From, M} -> From ! {echoed, M} end,
		  receive stop -> ok end`})
	peers.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(e.Output(), "READY") {
			return fmt.Errorf("erl not ready: %q", e.Output())
		}
		return nil
	})
	ctx := peers.Context(t, 30*time.Second)
	if err := node.Connect(n, erlName); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if v, err := node.RPC(ctx, n, erlName, "erlang", "node"); err != nil || v != etf.Atom(erlName) {
		t.Fatalf("rpc erlang:node() = %v, %v", v, err)
	}
	if v, err := node.RPC(ctx, n, erlName, "io", "format", etf.List{int64('h'), int64('i'), int64('~'), int64('n')}); err != nil || v != etf.Atom("ok") {
		t.Fatalf("rpc io:format = %v, %v", v, err)
	}
	if _, err := node.RPC(ctx, n, erlName, "erlang", "error", etf.Atom("boom")); err == nil {
		t.Fatal("rpc erlang:error(boom) returned no error")
	} else if re, ok := err.(*dist.RPCError); !ok || re.Class != "error" || re.Reason != etf.Atom("boom") {
		t.Fatalf("rpc erlang:error(boom) = %#v", err)
	}
	mb, err := node.NewMailbox(n, "gomb")
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Send(n, erlName, "sink", etf.Tuple{mb.PID(), etf.Atom("hello")}); err != nil {
		t.Fatal(err)
	}
	msg, err := mb.Recv(ctx)
	if err != nil || !etf.Equal(msg.Body, etf.Tuple{etf.Atom("echoed"), etf.Atom("hello")}) {
		t.Fatalf("mailbox got %#v, %v", msg, err)
	}
	if err := node.Close(n, erlName); err != nil {
		t.Fatal(err)
	}
	peers.WaitFor(t, 5*time.Second, func() error {
		if _, err := n.Network().Node(erlName); err == nil {
			return fmt.Errorf("still connected")
		}
		return nil
	})
}

type fakeNode struct{ name gen.Atom }

func (f fakeNode) Name() gen.Atom       { return f.name }
func (f fakeNode) Creation() int64      { return 1234 }
func (f fakeNode) Version() gen.Version { return gen.Version{Name: "test"} }

// TestGarbageKeepsNode: junk on the distribution port, and a malformed frame
// after a good handshake, close that connection only; erl still gets pong.
func TestGarbageKeepsNode(t *testing.T) {
	n := nodetest.Start(t, node.Options{})
	acc, err := n.Network().Acceptors()
	if err != nil || len(acc) == 0 {
		t.Fatalf("acceptors: %v", err)
	}
	addr := acc[0].Info().Interface

	junk, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	junk.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + strings.Repeat("\xff", 5000)))
	junk.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(junk); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("junk connection left open")
	}
	junk.Close()

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hs := handshake.New(handshake.Options{Cookie: func(gen.Atom) string { return nodetest.Cookie }})
	if _, err := hs.Start(fakeNode{"evil@127.0.0.1"}, c, gen.HandshakeOptions{}); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.Write([]byte{0, 0, 0, 5, 'p', 131, 255, 1, 2}) // a corrupt control term
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var b [512]byte
		if _, err := c.Read(b[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("connection left open after a corrupt frame")
			}
			break
		}
	}

	out := peers.RunErl(t, time.Minute, peers.ErlOptions{
		Name: peers.UniqueName("c") + "@127.0.0.1", Cookie: nodetest.Cookie,
		Eval: fmt.Sprintf(`io:format("RESULT ~p~n", [net_adm:ping('%s')])`, string(n.Name())),
	})
	if r := peers.Lines(out, "RESULT "); len(r) != 1 || r[0] != "pong" {
		t.Fatalf("node after garbage: %q", out)
	}
}
