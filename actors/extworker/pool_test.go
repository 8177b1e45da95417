package extworker_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ergo.services/ergo"
	"ergo.services/ergo/act"
	"ergo.services/ergo/gen"

	"imperial/actors/extworker"
	"imperial/bertrpc/berp"
	"imperial/rel/peers"
)

// The test binary doubles as the worker program: with EXTWORKER_TEST_WORKER
// set it serves requests on fds 3 and 4.
func TestMain(m *testing.M) {
	if os.Getenv("EXTWORKER_TEST_WORKER") != "" {
		os.Exit(testWorker())
	}
	os.Exit(m.Run())
}

// testWorker answers text commands: "echo X", "sleep MS X", "pid", "exit"
// (exits without replying), "double" (two replies), "env NAME".
func testWorker() int {
	if os.Getenv("EXTWORKER_TEST_FAIL") != "" {
		return 1
	}
	if os.Getenv("EXTWORKER_TEST_DEAF") != "" {
		time.Sleep(time.Hour) // never reads a request
	}
	in, out := os.NewFile(3, "requests"), os.NewFile(4, "replies")
	for {
		req, err := berp.ReadPacket(in, 0)
		if err != nil {
			return 0
		}
		cmd, arg, _ := strings.Cut(string(req), " ")
		var reply string
		switch cmd {
		case "echo":
			reply = arg
		case "sleep":
			ms, rest, _ := strings.Cut(arg, " ")
			n, _ := strconv.Atoi(ms)
			time.Sleep(time.Duration(n) * time.Millisecond)
			reply = rest
		case "pid":
			reply = strconv.Itoa(os.Getpid())
		case "exit":
			return 3
		case "double":
			berp.WritePacket(out, []byte("one"))
			reply = "two"
		case "env":
			reply = os.Getenv(arg)
		}
		if err := berp.WritePacket(out, []byte(reply)); err != nil {
			return 2
		}
	}
}

// requester is a test actor: it sends what the test asks and forwards the
// replies to a channel.
type requester struct {
	act.Actor
	replies chan extworker.MessageReply
	calls   chan extworker.ResponseRun
}

type doCall struct {
	pool gen.Atom
	req  extworker.RequestRun
}

func (r *requester) Init(args ...any) error {
	r.replies = args[0].(chan extworker.MessageReply)
	r.calls = args[1].(chan extworker.ResponseRun)
	return nil
}

func (r *requester) HandleMessage(from gen.PID, message any) error {
	switch m := message.(type) {
	case extworker.MessageReply:
		r.replies <- m
	case doCall:
		v, err := r.CallWithTimeout(m.pool, m.req, 10)
		if err != nil {
			r.calls <- extworker.ResponseRun{Reply: extworker.MessageReply{Err: err}}
			return nil
		}
		r.calls <- v.(extworker.ResponseRun)
	case extworker.MessageRequest:
		return r.Send(m.Tag.(gen.Atom), m)
	}
	return nil
}

type fixture struct {
	t       *testing.T
	node    gen.Node
	pool    gen.Atom
	client  gen.PID
	replies chan extworker.MessageReply
	calls   chan extworker.ResponseRun
	id      uint64
}

func workerCommand(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return "exec '" + exe + "'"
}

func start(t *testing.T, o extworker.Options) *fixture {
	t.Helper()
	if o.Command == "" {
		o.Command = workerCommand(t)
	}
	o.Env = append(o.Env, "EXTWORKER_TEST_WORKER=1")
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	opts := gen.NodeOptions{}
	opts.Network.Mode = gen.NetworkModeDisabled
	opts.Log.Level = gen.LogLevelError
	opts.Env = map[gen.Env]any{"disable_metrics": true}
	n, err := ergo.StartNode(gen.Atom(peers.UniqueName("ext")+"@localhost"), opts)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, node: n, pool: "test_pool",
		replies: make(chan extworker.MessageReply, 1024), calls: make(chan extworker.ResponseRun, 16)}
	pool, err := n.SpawnRegister(f.pool, extworker.Factory, gen.ProcessOptions{MailboxSize: extworker.MailboxSize}, o)
	if err != nil {
		t.Fatalf("spawn pool: %v", err)
	}
	t.Cleanup(func() { stopNode(n, pool) })
	f.client, err = n.Spawn(func() gen.ProcessBehavior { return &requester{} }, gen.ProcessOptions{}, f.replies, f.calls)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// stopNode stops the node. Under -tags norecover, ergo v1.999.310 panics
// when a system-app process terminates after node.Stop has marked the node
// stopped (application.terminate calls Network().Mode() on nil), so with
// that tag only the pool is killed (its workers die with it) and the node
// is left to the test binary's exit.
func stopNode(n gen.Node, pool gen.PID) {
	if noRecover {
		n.Kill(pool)
		return
	}
	n.Stop()
}

// send asks the pool (through the client actor, so replies come back to it).
func (f *fixture) send(payload string, p extworker.Priority) uint64 {
	f.t.Helper()
	f.id++
	m := extworker.MessageRequest{ID: f.id, ReplyTo: f.client, Payload: []byte(payload), Priority: p, Tag: f.pool}
	if err := f.node.Send(f.client, m); err != nil {
		f.t.Fatal(err)
	}
	return f.id
}

func (f *fixture) reply(timeout time.Duration) extworker.MessageReply {
	f.t.Helper()
	select {
	case r := <-f.replies:
		return r
	case <-time.After(timeout):
		f.t.Fatalf("no reply within %s", timeout)
	}
	return extworker.MessageReply{}
}

func (f *fixture) callStats() (extworker.ResponseStats, error) {
	// A throwaway actor makes the Call (the node core cannot).
	ch := make(chan any, 1)
	_, err := f.node.Spawn(func() gen.ProcessBehavior { return &oneCall{} }, gen.ProcessOptions{}, f.pool, extworker.RequestStats{}, ch)
	if err != nil {
		return extworker.ResponseStats{}, err
	}
	select {
	case v := <-ch:
		if err, ok := v.(error); ok {
			return extworker.ResponseStats{}, err
		}
		return v.(extworker.ResponseStats), nil
	case <-time.After(10 * time.Second):
		return extworker.ResponseStats{}, errors.New("stats call timed out")
	}
}

// oneCall makes one Call from its Init message and reports the result.
type oneCall struct {
	act.Actor
	to  gen.Atom
	req any
	ch  chan any
}

type callNow struct{}

func (o *oneCall) Init(args ...any) error {
	o.to, o.req, o.ch = args[0].(gen.Atom), args[1], args[2].(chan any)
	return o.Send(o.PID(), callNow{})
}

func (o *oneCall) HandleMessage(from gen.PID, message any) error {
	v, err := o.Call(o.to, o.req)
	if err != nil {
		o.ch <- err
	} else {
		o.ch <- v
	}
	return gen.TerminateReasonNormal
}

func (f *fixture) waitStats(what string, cond func(s extworker.ResponseStats) bool) extworker.ResponseStats {
	f.t.Helper()
	var last extworker.ResponseStats
	peers.WaitFor(f.t, 10*time.Second, func() error {
		s, err := f.callStats()
		if err != nil {
			return err
		}
		last = s
		if !cond(s) {
			return fmt.Errorf("%s: stats %+v", what, s)
		}
		return nil
	})
	return last
}

func livePids(s extworker.ResponseStats) bool {
	return !slices.Contains(s.Pids[:s.Idle+s.Busy], 0)
}

func TestEchoAndRoundRobin(t *testing.T) {
	f := start(t, extworker.Options{Count: 2})
	f.waitStats("started", func(s extworker.ResponseStats) bool { return s.Idle == 2 && livePids(s) })
	pids := map[string]bool{}
	for i := range 6 {
		id := f.send("pid", extworker.High)
		r := f.reply(5 * time.Second)
		if r.Err != nil || r.ID != id {
			t.Fatalf("call %d: %+v", i, r)
		}
		if strconv.Itoa(r.Worker) != string(r.Payload) {
			t.Fatalf("reply says pid %s, pool says %d", r.Payload, r.Worker)
		}
		pids[string(r.Payload)] = true
	}
	if len(pids) != 2 {
		t.Fatalf("6 sequential calls used workers %v, want both of 2", pids)
	}
	f.send("echo hello", extworker.Low)
	if r := f.reply(5 * time.Second); string(r.Payload) != "hello" {
		t.Fatalf("echo: %+v", r)
	}
	f.send("env EXTWORKER_TEST_WORKER", extworker.High)
	if r := f.reply(5 * time.Second); string(r.Payload) != "1" {
		t.Fatalf("env: %+v", r)
	}
}

func TestNeverWaitsBehindBusyWorker(t *testing.T) {
	f := start(t, extworker.Options{Count: 2})
	slow := f.send("sleep 2000 slow", extworker.High)
	fast := f.send("echo fast", extworker.High)
	if r := f.reply(1500 * time.Millisecond); r.ID != fast || string(r.Payload) != "fast" {
		t.Fatalf("first reply %+v, want the fast one", r)
	}
	if r := f.reply(5 * time.Second); r.ID != slow {
		t.Fatalf("second reply %+v, want the slow one", r)
	}
}

func TestPriorityOrder(t *testing.T) {
	f := start(t, extworker.Options{Count: 1})
	f.waitStats("started", func(s extworker.ResponseStats) bool { return s.Idle == 1 })
	busy := f.send("sleep 500 busy", extworker.High)
	f.waitStats("busy", func(s extworker.ResponseStats) bool { return s.Busy == 1 })
	low := f.send("echo low", extworker.Low)
	high := f.send("echo high", extworker.High)
	f.waitStats("queued", func(s extworker.ResponseStats) bool { return s.QueueHigh == 1 && s.QueueLow == 1 })
	var order []uint64
	for range 3 {
		r := f.reply(5 * time.Second)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		order = append(order, r.ID)
	}
	if want := []uint64{busy, high, low}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v (busy, high, low)", order, want)
	}
	f.waitStats("drained", func(s extworker.ResponseStats) bool { return s.QueueHigh == 0 && s.QueueLow == 0 && s.Idle == 1 })
}

func TestWorkerDiesMidRequest(t *testing.T) {
	f := start(t, extworker.Options{Count: 2})
	before := f.waitStats("started", func(s extworker.ResponseStats) bool { return s.Idle == 2 && livePids(s) })
	f.send("exit", extworker.High)
	r := f.reply(5 * time.Second)
	if !errors.Is(r.Err, extworker.ErrWorkerExited) {
		t.Fatalf("reply %+v, want ErrWorkerExited", r)
	}
	after := f.waitStats("replaced", func(s extworker.ResponseStats) bool { return s.Idle == 2 && livePids(s) })
	if slices.Contains(after.Pids, r.Worker) || !slices.Contains(before.Pids, r.Worker) {
		t.Fatalf("dead worker %d: before %v after %v", r.Worker, before.Pids, after.Pids)
	}
	f.send("echo again", extworker.High)
	if r := f.reply(5 * time.Second); string(r.Payload) != "again" {
		t.Fatalf("after replacement: %+v", r)
	}
}

func TestSIGKILLMidRequest(t *testing.T) {
	f := start(t, extworker.Options{Count: 1})
	f.waitStats("started", func(s extworker.ResponseStats) bool { return s.Idle == 1 && livePids(s) })
	f.send("sleep 30000 never", extworker.High)
	s := f.waitStats("busy", func(s extworker.ResponseStats) bool { return s.Busy == 1 })
	t0 := time.Now()
	if err := syscall.Kill(s.Pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := f.reply(5 * time.Second)
	if !errors.Is(r.Err, extworker.ErrWorkerExited) || !strings.Contains(r.Err.Error(), "killed") {
		t.Fatalf("reply %+v, want ErrWorkerExited (killed)", r)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("error reply took %s", d)
	}
	f.waitStats("replaced", func(s extworker.ResponseStats) bool { return s.Idle == 1 && livePids(s) })
}

func TestTimeoutKillsWorker(t *testing.T) {
	f := start(t, extworker.Options{Count: 1, Timeout: 300 * time.Millisecond})
	f.send("sleep 30000 never", extworker.High)
	r := f.reply(5 * time.Second)
	if !errors.Is(r.Err, extworker.ErrTimeout) {
		t.Fatalf("reply %+v, want ErrTimeout", r)
	}
	f.send("echo next", extworker.High)
	if r := f.reply(5 * time.Second); string(r.Payload) != "next" {
		t.Fatalf("after timeout: %+v", r)
	}
}

func TestQueueFull(t *testing.T) {
	f := start(t, extworker.Options{Count: 1, MaxQueue: 2})
	f.send("sleep 500 a", extworker.High)
	f.waitStats("busy", func(s extworker.ResponseStats) bool { return s.Busy == 1 })
	f.send("echo b", extworker.High)
	f.send("echo c", extworker.Low)
	full := f.send("echo d", extworker.High)
	r := f.reply(time.Second)
	if r.ID != full || !errors.Is(r.Err, extworker.ErrQueueFull) {
		t.Fatalf("reply %+v, want ErrQueueFull for %d", r, full)
	}
	for range 3 {
		if r := f.reply(5 * time.Second); r.Err != nil {
			t.Fatalf("queued request failed: %+v", r)
		}
	}
}

func TestFailingCommand(t *testing.T) {
	f := start(t, extworker.Options{Count: 1, MinUptime: time.Minute, Env: []string{"EXTWORKER_TEST_FAIL=1"}})
	f.waitStats("failing", func(s extworker.ResponseStats) bool { return s.Failures >= extworker.MaxFailures })
	f.send("echo x", extworker.High)
	r := f.reply(15 * time.Second)
	if !errors.Is(r.Err, extworker.ErrUnavailable) && !errors.Is(r.Err, extworker.ErrWorkerExited) {
		t.Fatalf("reply %+v, want ErrUnavailable or ErrWorkerExited", r)
	}
}

func TestUnexpectedReplyKillsWorker(t *testing.T) {
	f := start(t, extworker.Options{Count: 1})
	f.send("double", extworker.High)
	first := f.reply(5 * time.Second)
	if string(first.Payload) != "one" {
		t.Fatalf("first reply %+v", first)
	}
	f.waitStats("replaced", func(s extworker.ResponseStats) bool {
		return s.Idle == 1 && livePids(s) && !slices.Contains(s.Pids, first.Worker)
	})
	f.send("echo ok", extworker.High)
	if r := f.reply(5 * time.Second); string(r.Payload) != "ok" {
		t.Fatalf("after: %+v", r)
	}
}

func TestRunCall(t *testing.T) {
	f := start(t, extworker.Options{Count: 1})
	f.node.Send(f.client, doCall{pool: f.pool, req: extworker.RequestRun{Payload: []byte("echo called")}})
	select {
	case r := <-f.calls:
		if r.Reply.Err != nil || string(r.Reply.Payload) != "called" {
			t.Fatalf("call: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no call response")
	}
	f.node.Send(f.client, doCall{pool: f.pool, req: extworker.RequestRun{Payload: []byte("exit")}})
	select {
	case r := <-f.calls:
		if !errors.Is(r.Reply.Err, extworker.ErrWorkerExited) {
			t.Fatalf("call to a dying worker: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no call response")
	}
}

// TestReloadUnderLoad keeps 8 requests in flight while reloading three
// times: none may fail, and the pids afterwards are all new.
func TestReloadUnderLoad(t *testing.T) {
	f := start(t, extworker.Options{Count: 2})
	before := f.waitStats("started", func(s extworker.ResponseStats) bool { return s.Idle == 2 && livePids(s) })
	const inflight, total = 8, 400
	sent, got := 0, 0
	for ; sent < inflight; sent++ {
		f.send("sleep 2 x", extworker.High)
	}
	reloads := 0
	for got < total {
		r := f.reply(10 * time.Second)
		got++
		if r.Err != nil {
			t.Fatalf("request %d failed during reload: %v", r.ID, r.Err)
		}
		if got%100 == 50 && reloads < 3 {
			if err := f.node.Send(f.pool, extworker.MessageReload{}); err != nil {
				t.Fatal(err)
			}
			reloads++
		}
		if sent < total {
			f.send("sleep 2 x", extworker.High)
			sent++
		}
	}
	after := f.waitStats("settled", func(s extworker.ResponseStats) bool {
		return s.Idle == 2 && s.Retiring == 0 && s.Generation == 3 && livePids(s)
	})
	for _, p := range after.Pids {
		if slices.Contains(before.Pids, p) {
			t.Fatalf("pid %d survived the reloads (before %v, after %v)", p, before.Pids, after.Pids)
		}
	}
}

// TestTimeoutWhileWriting: a worker that never reads, sent a request larger
// than the pipe buffer (the write blocks), still times out and is replaced.
func TestTimeoutWhileWriting(t *testing.T) {
	f := start(t, extworker.Options{Count: 1, Timeout: 500 * time.Millisecond, Env: []string{"EXTWORKER_TEST_DEAF=1"}})
	f.send("echo "+strings.Repeat("x", 1<<20), extworker.High)
	r := f.reply(5 * time.Second)
	if !errors.Is(r.Err, extworker.ErrTimeout) {
		t.Fatalf("reply %+v, want ErrTimeout", r)
	}
	f.waitStats("replaced", func(s extworker.ResponseStats) bool { return s.Idle == 1 && livePids(s) && s.Served == 0 })
}

// TestLargeRequestAndReplyChannel: a request larger than the pipe buffer
// (the pool writes what the pipe takes, the worker meta the rest) comes
// back whole, here on a reply channel instead of a process.
func TestLargeRequestAndReplyChannel(t *testing.T) {
	f := start(t, extworker.Options{Count: 1})
	ch := make(chan extworker.MessageReply, 1)
	big := strings.Repeat("0123456789", 100_000)
	for i, payload := range []string{"small", big, "after"} {
		m := extworker.MessageRequest{ID: uint64(i + 1), ReplyTo: (chan<- extworker.MessageReply)(ch), Payload: []byte("echo " + payload)}
		if err := f.node.Send(f.pool, m); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-ch:
			if r.Err != nil || r.ID != uint64(i+1) || string(r.Payload) != payload {
				t.Fatalf("reply %d: id %d err %v, %d bytes, want %d", i+1, r.ID, r.Err, len(r.Payload), len(payload))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no reply to request %d", i+1)
		}
	}
}

// TestQueuedRequestNotStuckBehindSlowWorker: with both workers busy, a
// queued request may be given to either as its next job; whichever it is,
// it must be served as soon as one is free, never after the slow one.
// Then a high request queued behind a low next job still goes first.
func TestQueuedRequestNotStuckBehindSlowWorker(t *testing.T) {
	for range 4 { // the busy worker a next job goes to is chosen at random
		f := start(t, extworker.Options{Count: 2})
		slow := f.send("sleep 800 slow", extworker.High)
		f.send("sleep 100 fast", extworker.High)
		f.waitStats("busy", func(s extworker.ResponseStats) bool { return s.Busy == 2 })
		x := f.send("echo x", extworker.High)
		var order []uint64
		for range 3 {
			order = append(order, f.reply(10*time.Second).ID)
		}
		if slices.Index(order, x) > slices.Index(order, slow) {
			t.Fatalf("replies in order %v: %d waited behind the slow request %d", order, x, slow)
		}
	}
	f := start(t, extworker.Options{Count: 1})
	f.send("sleep 300 busy", extworker.High)
	f.waitStats("busy", func(s extworker.ResponseStats) bool { return s.Busy == 1 })
	low := f.send("echo low", extworker.Low)
	high := f.send("echo high", extworker.High)
	var order []uint64
	for range 3 {
		order = append(order, f.reply(10*time.Second).ID)
	}
	if slices.Index(order, high) > slices.Index(order, low) {
		t.Fatalf("replies in order %v: high %d after low %d", order, high, low)
	}
}
