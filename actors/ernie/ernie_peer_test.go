//go:build peers

package ernie_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"imperial/bertrpc"
	"imperial/bertrpc/berp"
	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/node/etf"
	"imperial/node/nodetest"
	"imperial/rel/peers"
)

// TestRubyClient drives every handler kind with a bertrpc-style Ruby client
// built on Debian's ruby-bert (one connection per call, as bertrpc does).
func TestRubyClient(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	got := h.ruby(`
port = ENV['PORT'].to_i
c = BertClient
c.show('ext.add') { c.call(port, :ext, :add, 1, 2) }
c.show('nat.add') { c.call(port, :nat, :add, 1, 2) }
c.show('demo.add') { c.call(port, :demo, :add, 1, 2) }
c.show('ext.cast') { c.cast(port, :ext, :add, 1, 2) }
c.show('nope.cast') { c.cast(port, :nope, :x) }
c.show('no module') { c.call(port, :nope, :x) }
c.show('demo no function') { c.call(port, :demo, :nope) }
c.show('demo arity') { c.call(port, :demo, :add, 1) }
c.show('ext no function') { c.call(port, :ext, :nope) }
c.show('ext raise') { c.call(port, :ext, :abandon) }
c.show('ext arity') { c.call(port, :ext, :add, 1) }
c.show('nat raise') { c.call(port, :nat, :boom) }
c.show('nat throw') { c.call(port, :nat, :thrower) }
c.show('demo fail') { c.call(port, :demo, :fail, 'bad') }
c.show('demo add binary') { c.call(port, :demo, :add, 'a', 1) }
c.show('nat float') { c.call(port, :nat, :float) }
c.show('ext float') { c.call(port, :ext, :float) }
c.show('nat str') { c.call(port, :nat, :str) }
c.show('nat empty') { c.call(port, :nat, :empty) }
c.show('nat yes') { c.call(port, :nat, :yes) }
c.show('nat echo nil') { c.call(port, :nat, :echo, nil) }
c.show('nat echo empty') { c.call(port, :nat, :echo, []) }
c.show('demo echo empty') { c.call(port, :demo, :echo, []) }
c.show('demo echo types') { c.call(port, :demo, :echo, [nil, true, false, 1.5, 'x', :y]) }
c.show('both 5') { c.call(port, :nat, :both, 5) }
c.show('both 20') { c.call(port, :nat, :both, 20) }
c.show('nat sub') { c.call(port, :nat, :sub, 5, 3) }
c.show('badpred') { c.call(port, :nat, :badpred, 1) }
c.show('argv') { c.call(port, :ext, :argv) }
c.show('big') { c.call(port, :demo, :add, 2**64, 1) }
types = [nil, true, false, { 'a' => 1 }, Time.at(1_255_295_581, 446_228), /ab+c/ix]
c.show('ext types') { c.call(port, :ext, :types) == types }
c.show('ext echo types') { c.call(port, :ext, :echo, types) == types }
c.show('demo echo types') { c.call(port, :demo, :echo, types) == types }
c.show('admin') { c.call(port, :__admin__, :nope) }
`)
	expectLines(t, got, []string{
		`ext.add ok 3`,
		`nat.add ok 3`,
		`demo.add ok 3`,
		`ext.cast ok nil`,
		`nope.cast ok nil`,
		`no module error ServerError 1 ServerError: No such module 'nope'`,
		`demo no function error ServerError 2 ServerError: No such function 'demo:nope'`,
		`demo arity error ServerError 2 ServerError: No such function 'demo:add'`,
		`ext no function error ServerError 0 Ernie::ServerError: No such function 'ext:nope'`,
		`ext raise error UserError 0 RuntimeError: abandon hope!`,
		`ext arity error UserError 0 ArgumentError: wrong number of arguments (given 1, expected 2)`,
		`nat raise error UserError 0 RuntimeError: {badmatch,2}`,
		`nat throw error UserError 0 RuntimeError: throw: oops`,
		`demo fail error UserError 0 RuntimeError: bad`,
		`demo add binary error UserError 0 ArgumentError: add/2 wants two integers`,
		`nat float ok 1.5`,
		`ext float ok 1.5`,
		`nat str ok [97, 98, 99]`,
		`nat empty ok nil`,
		`nat yes ok true`,
		`nat echo nil ok nil`,
		`nat echo empty ok nil`, // bert.erl: every [] goes back as nil
		`demo echo empty ok []`, // Go keeps [] and nil apart
		`demo echo types ok [nil, true, false, 1.5, "x", :y]`,
		`both 5 ok "ruby"`,
		`both 20 ok "erlang"`,
		`nat sub ok 2`,
		`badpred error ServerError 0 ServerError: ernie: predicate did not return a boolean: nat:badpred_pred returned maybe`,
		`argv ok []`,
		`big ok 18446744073709551617`,
		`ext types ok true`,
		`ext echo types ok true`,
		`demo echo types ok true`,
		`admin ok "Admin function not supported."`,
	})
}

// TestErlangClient talks to the server the way Erlang users do:
// term_to_binary over gen_tcp {packet,4}, and sends it bad input.
func TestErlangClient(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	out := h.erl(`
P = PORT,
Show = fun(L, V) -> io:format("~s ~s~n", [L, io_lib:print(V, 1, 1000000, -1)]) end,
Show("ext", client:call(P, ext, add, [1, 2])),
Show("nat", client:call(P, nat, add, [1, 2])),
Show("demo", client:call(P, demo, add, [1, 2])),
Show("cast", client:cast(P, ext, add, [1, 2])),
Show("low list", client:call(P, ext, add, [1, 2], [{info, priority, [low]}])),
Show("low bare", client:call(P, demo, add, [1, 2], [{info, priority, low}])),
Show("callback", client:call(P, demo, add, [1, 2], [{info, callback, [{service, x}]}, {info, stream, []}])),
Show("cache list", client:call(P, demo, add, [1, 2], [[info, cache, [validation, <<"t">>]]])),
Show("persistent", client:persistent(P, demo, add, [[1, 2], [3, 4], [5, 6]])),
Show("persistent ext", client:persistent(P, ext, add, [[1, 2], [3, 4]])),
Show("empty", client:raw(P, <<>>)),
Show("magic", client:raw(P, <<132, 106>>)),
Show("garbage", client:raw(P, <<1, 2, 3>>)),
Show("truncated", client:raw(P, <<131, 104, 4, 100, 0>>)),
Show("list", client:raw(P, term_to_binary([1, 2]))),
Show("foo", client:raw(P, term_to_binary({foo}))),
Show("foo4", client:raw(P, term_to_binary({foo, ext, add, [1, 2]}))),
Show("args", client:raw(P, term_to_binary({call, ext, add, 7}))),
Show("after", client:call(P, nat, add, [1, 2])),
Show("newfloat", client:call(P, demo, echo, [1.5])),
Show("map", client:call(P, demo, echo, [#{a => 1}]))
`)
	got := peers.Lines(out, "")
	got = slices.DeleteFunc(got, func(s string) bool { return s == "" })
	expectLines(t, got, []string{
		`ext {reply,3}`,
		`nat {reply,3}`,
		`demo {reply,3}`,
		`cast {noreply}`,
		`low list {reply,3}`,
		`low bare {reply,3}`,
		`callback {reply,3}`,
		`cache list {reply,3}`,
		`persistent [{reply,3},{reply,7},{reply,11}]`,
		`persistent ext [{reply,3},{reply,7}]`,
		`empty {{error,{protocol,2,<<"ProtocolError">>,<<"ernie: undecodable packet: etf: need more input">>,[]}},…`,
		`magic {{error,{protocol,2,<<"ProtocolError">>,<<"ernie: undecodable packet: etf: missing version byte 131: first byte is 132">>,…`,
		`garbage {{error,{protocol,2,<<"ProtocolError">>,…`,
		`truncated {{error,{protocol,2,<<"ProtocolError">>,<<"ernie: undecodable packet: etf: need more input">>,[]}},…`,
		`list {{error,{server,0,<<"ServerError">>,<<"Invalid request: [1,2]">>,[]}},…`,
		`foo {{error,{server,0,<<"ServerError">>,<<"Invalid request: {foo}">>,[]}},…`,
		`foo4 {{error,{server,0,<<"ServerError">>,<<"Invalid request: {foo,ext,add,[1,2]}">>,[]}},…`,
		`args {{error,{server,0,<<"ServerError">>,<<"Invalid request: {call,ext,add,7}">>,[]}},…`,
		`after {reply,3}`,
		`newfloat {reply,1.5}`,
		`map {reply,{bert,dict,[{a,1}]}}`,
	})
	for _, l := range got {
		if strings.Contains(l, "{error,") && !strings.HasSuffix(l, "{error,closed}}") {
			t.Errorf("bad input did not close the connection: %s", l)
		}
	}
}

// TestShadowingWithPred: a native entry listed first answers what it
// exports, its Fun_pred decides per call, the rest goes to the external
// entry; for Go natives too.
func TestShadowingWithPred(t *testing.T) {
	h := startErnie(t, harnessOptions{config: `
[{module, demo}, {type, native}].
[{module, demo}, {type, external}, {command, "{{RUBY}}"}, {count, 1}].
[{module, nat}, {type, native}, {codepaths, ["{{NAT}}"]}].
[{module, nat}, {type, external}, {command, "{{RUBY}}"}, {count, 1}].
`})
	for _, tc := range []struct {
		mod, fun string
		args     []any
		want     string
	}{
		{"nat", "both", []any{int64(5)}, "ruby"},
		{"nat", "both", []any{int64(20)}, "erlang"},
		{"nat", "both", []any{etf.Atom("a")}, "erlang"}, // atoms sort after numbers
		{"demo", "both", []any{int64(5)}, "go"},         // no Ruby demo:both → Ernie::ServerError below
		{"demo", "both", []any{int64(20)}, "go"},
	} {
		v, err := h.call(tc.mod, tc.fun, tc.args...)
		if tc.mod == "demo" && tc.args[0] == int64(5) {
			// both_pred false → the external demo, which has no both/1.
			var re *bertrpc.RemoteError
			if !errors.As(err, &re) || re.Err.Class != "Ernie::ServerError" {
				t.Errorf("demo:both(5) = %v, %v; want the Ruby module's ServerError", v, err)
			}
			continue
		}
		if err != nil || string(v.([]byte)) != tc.want {
			t.Errorf("%s:%s%v = %v, %v; want %q", tc.mod, tc.fun, tc.args, v, err, tc.want)
		}
	}
	if v := h.mustCall("nat", "sub", int64(5), int64(3)); v != int64(2) {
		t.Errorf("nat:sub falls through to Ruby: %v", v)
	}
}

// TestPriorityAndNoHeadOfLineBlocking: with the one worker busy, a low
// request queued first is served after a high one queued later; native
// calls and other modules are never held up meanwhile; the queues drain.
func TestPriorityAndNoHeadOfLineBlocking(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var order []string
	run := func(name string, prio string, args ...any) {
		defer wg.Done()
		ctx := context.Background()
		c, err := bertrpc.Dial(ctx, h.addr, bertrpc.Options{})
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		if prio != "" {
			c.Info(ctx, "priority", etf.Atom(prio))
		}
		if _, err := c.Call(ctx, "one", "slow", args...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
	}
	wg.Add(1)
	go run("busy", "", int64(1500))
	peers.WaitFor(t, 10*time.Second, func() error {
		if v := h.stat("workers.idle.one"); v != "0" {
			return fmt.Errorf("one idle %s", v)
		}
		return nil
	})
	wg.Add(1)
	go run("low", "low", int64(1))
	peers.WaitFor(t, 10*time.Second, func() error {
		if v := h.stat("queue.low"); v != "1" {
			return fmt.Errorf("queue.low %s", v)
		}
		return nil
	})
	wg.Add(1)
	go run("high", "", int64(1))
	peers.WaitFor(t, 10*time.Second, func() error {
		if v := h.stat("queue.high"); v != "1" {
			return fmt.Errorf("queue.high %s", v)
		}
		return nil
	})
	// While one's worker is busy and two requests wait: natives, the other
	// modules and stats answer at once.
	t0 := time.Now()
	if v := h.mustCall("nat", "add", int64(1), int64(2)); v != int64(3) {
		t.Errorf("nat:add = %v", v)
	}
	if v := h.mustCall("demo", "add", int64(1), int64(2)); v != int64(3) {
		t.Errorf("demo:add = %v", v)
	}
	if v := h.mustCall("ext", "add", int64(1), int64(2)); v != int64(3) {
		t.Errorf("ext:add = %v", v)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("calls to other handlers took %s while one was busy", d)
	}
	wg.Wait()
	if !slices.Equal(order, []string{"busy", "high", "low"}) {
		t.Errorf("completion order %v, want busy, high, low", order)
	}
	if h.stat("queue.high") != "0" || h.stat("queue.low") != "0" || h.stat("workers.idle.one") != "1" {
		t.Errorf("queues not drained: %s", h.admin("stats"))
	}
	// the access log is written by its own meta process, after the reply
	peers.WaitFor(t, 10*time.Second, func() error {
		for _, l := range h.accessLines() {
			if strings.HasSuffix(l, "ext low - {call,one,slow,[1]}") {
				return nil
			}
		}
		return fmt.Errorf("no low-priority access-log line in\n%s", strings.Join(h.accessLines(), "\n"))
	})
}

// TestWorkerKilledMidCall: SIGKILL of the worker serving a call answers that
// call with an error at once and replaces the worker.
func TestWorkerKilledMidCall(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	pid := pidOf(t, h.mustCall("one", "pid"))
	errc := make(chan error, 1)
	t0 := time.Now()
	go func() {
		_, err := h.call("one", "slow", int64(30000))
		errc <- err
	}()
	peers.WaitFor(t, 10*time.Second, func() error {
		if v := h.stat("workers.idle.one"); v != "0" {
			return fmt.Errorf("one idle %s", v)
		}
		return nil
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		var re *bertrpc.RemoteError
		if !errors.As(err, &re) || re.Err.Type != "server" || !strings.Contains(re.Err.Detail, "worker exited") {
			t.Fatalf("killed call: %v, want a server error naming the worker's exit", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call of a killed worker did not return")
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
	peers.WaitFor(t, 10*time.Second, func() error {
		if v := h.stat("workers.idle.one"); v != "1" {
			return fmt.Errorf("one idle %s", v)
		}
		return nil
	})
	if np := pidOf(t, h.mustCall("one", "pid")); np == pid {
		t.Fatalf("worker %d not replaced", pid)
	}
	// The worker that dies by itself mid-call, too.
	if _, err := h.call("one", "die"); err == nil {
		t.Fatal("one:die answered")
	}
	if v := h.mustCall("one", "add", int64(1), int64(2)); v != int64(3) {
		t.Fatalf("after die: %v", v)
	}
	// the access log is written by its own meta process, after the reply
	peers.WaitFor(t, 10*time.Second, func() error {
		for _, l := range h.accessLines() {
			if strings.HasPrefix(l, "ERR ") && strings.Contains(l, "External process error error: extworker: worker exited") &&
				strings.HasSuffix(l, "{call,one,slow,[30000]}") {
				return nil
			}
		}
		return fmt.Errorf("no ERR line for the killed call in\n%s", strings.Join(h.accessLines(), "\n"))
	})
}

// TestReloadUnderLoad: reload-handlers three times while 8 clients call
// the Ruby pools: no call fails, and the workers are new afterwards.
func TestReloadUnderLoad(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	before := map[int]bool{}
	for range 4 {
		before[pidOf(t, h.mustCall("ext", "pid"))] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls, failures := 0, []error{}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			var c *bertrpc.Client
			for n := int64(0); ; n++ {
				select {
				case <-stop:
					if c != nil {
						c.Close()
					}
					return
				default:
				}
				var v any
				var err error
				if i%2 == 0 { // new connection per call
					v, err = bertrpc.CallOnce(ctx, h.addr, bertrpc.Options{}, "ext", "add", n, int64(1))
				} else { // persistent connection
					if c == nil {
						c, err = bertrpc.Dial(ctx, h.addr, bertrpc.Options{})
					}
					if err == nil {
						v, err = c.Call(ctx, "ext", "add", n, int64(1))
					}
				}
				if err == nil && v != n+1 {
					err = fmt.Errorf("add(%d, 1) = %v", n, v)
				}
				mu.Lock()
				calls++
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		}()
	}
	for range 3 {
		time.Sleep(300 * time.Millisecond) // let load build between reloads (not synchronisation)
		if got := h.admin("reload_handlers"); got != ernie.ReplyReloaded {
			t.Fatalf("reload replied %q", got)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d calls failed during reloads; first: %v", len(failures), calls, failures[0])
	}
	if calls < 50 {
		t.Fatalf("only %d calls ran", calls)
	}
	t.Logf("%d calls, 3 reloads, 0 failures", calls)
	peers.WaitFor(t, 10*time.Second, func() error {
		for range 4 {
			if p := pidOf(t, h.mustCall("ext", "pid")); before[p] {
				return fmt.Errorf("old worker %d still serving", p)
			}
		}
		return nil
	})
}

var accessRe = regexp.MustCompile(`^(ACC|ERR) \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\] \d+\.\d{6} \d+\.\d{6} - \d+ \d+ (nat|ext) (high|low) - (.*)$`)

// TestAccessLog checks the line format for each handler kind, the cast
// line's duration, and that a moved log file is replaced.
func TestAccessLog(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	h.mustCall("ext", "add", int64(1), int64(2))
	h.mustCall("nat", "add", int64(1), int64(2))
	h.mustCall("demo", "echo", etf.List{[]byte("x"), etf.Atom("y")})
	ctx := context.Background()
	if err := bertrpc.CastOnce(ctx, h.addr, bertrpc.Options{}, "one", "slow", int64(300)); err != nil {
		t.Fatal(err)
	}
	if err := bertrpc.CastOnce(ctx, h.addr, bertrpc.Options{}, "demo", "sleep", int64(300)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.call("nope", "x"); err == nil { // not logged (no such module), as in Ernie
		t.Fatal("nope:x answered")
	}
	want := map[string]string{
		"{call,ext,add,[1,2]}":           "ext",
		"{call,nat,add,[1,2]}":           "nat",
		`{call,demo,echo,[[<<"x">>,y]]}`: "nat",
		"{cast,one,slow,[300]}":          "ext",
		"{cast,demo,sleep,[300]}":        "nat",
		"{call,nope,x,[]}":               "",
	}
	peers.WaitFor(t, 10*time.Second, func() error {
		if n := len(h.accessLines()); n < 5 {
			return fmt.Errorf("%d lines", n)
		}
		return nil
	})
	lines := h.accessLines()
	seen := map[string]bool{}
	for _, l := range lines {
		m := accessRe.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("bad access-log line %q", l)
			continue
		}
		kind, ok := want[m[4]]
		if !ok || kind == "" || m[2] != kind || m[1] != "ACC" {
			t.Errorf("unexpected line %q", l)
		}
		seen[m[4]] = true
		if strings.HasPrefix(m[4], "{cast,") {
			f := strings.Fields(l)
			if f[3] < "0.29" || f[3] > "5" {
				t.Errorf("cast line %q: run time %s, want ≈0.3 s", l, f[3])
			}
		}
	}
	if len(seen) != 5 {
		t.Errorf("logged %v", seen)
	}

	// Move the file away: a new one appears at the path and gets the lines.
	moved := h.access + ".1"
	if err := os.Rename(h.access, moved); err != nil {
		t.Fatal(err)
	}
	peers.WaitFor(t, 15*time.Second, func() error {
		h.mustCall("demo", "add", int64(40), int64(2))
		b, err := os.ReadFile(h.access)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "{call,demo,add,[40,2]}") {
			return errors.New("no line in the new file yet")
		}
		return nil
	})
}

// TestAdmin checks the stats text, an unknown admin function and halt,
// which stops accepting and drains the in-flight requests first.
func TestAdmin(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	h.mustCall("demo", "add", int64(1), int64(2))
	stats := h.admin("stats")
	re := regexp.MustCompile(`^connections\.total=\d+\nconnections\.completed=\d+\nworkers\.idle\.nat=native\n` +
		`workers\.idle\.nat=2\nworkers\.idle\.ext=2\nworkers\.idle\.one=1\nworkers\.idle\.demo=native\nqueue\.high=0\nqueue\.low=0\n$`)
	if !re.MatchString(stats) {
		t.Fatalf("stats:\n%s", stats)
	}
	if got := h.admin("what"); got != ernie.ReplyUnsupported {
		t.Fatalf("unknown admin: %q", got)
	}
	slow := make(chan error, 1)
	go func() {
		v, err := h.call("one", "slow", int64(1000))
		if err == nil && string(v.([]byte)) != "slept" {
			err = fmt.Errorf("slow replied %v", v)
		}
		slow <- err
	}()
	peers.WaitFor(t, 10*time.Second, func() error {
		if v := h.stat("workers.idle.one"); v != "0" {
			return fmt.Errorf("one idle %s", v)
		}
		return nil
	})
	if got := h.admin("halt"); got != ernie.ReplyHalting {
		t.Fatalf("halt replied %q", got)
	}
	peers.WaitFor(t, 5*time.Second, func() error {
		c, err := net.DialTimeout("tcp", h.addr, time.Second)
		if err == nil {
			c.Close()
			return errors.New("still accepting")
		}
		return nil
	})
	select {
	case <-h.halted:
		t.Fatal("halted before the in-flight call finished")
	default:
	}
	if err := <-slow; err != nil {
		t.Fatalf("in-flight call during halt: %v", err)
	}
	select {
	case <-h.halted:
	case <-time.After(5 * time.Second):
		t.Fatal("not halted after draining")
	}
}

// TestBigPayload round-trips 8 MiB through each handler kind.
func TestBigPayload(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, mod := range []string{"ext", "nat", "demo"} {
		v, err := h.call(mod, "echo", big)
		if err != nil {
			t.Fatalf("%s:echo(8 MiB): %v", mod, err)
		}
		if b, ok := v.([]byte); !ok || string(b) != string(big) {
			t.Fatalf("%s:echo(8 MiB) came back different", mod)
		}
	}
}

// TestPythonHandler runs an external handler written with ernie.py.
func TestPythonHandler(t *testing.T) {
	python := peers.Require(t, "/usr/bin/python3")
	lib := "../../ernie/handlers/python"
	h := startErnie(t, harnessOptions{config: `[{module, py}, {type, external}, {command, "PYTHONPATH=` + lib + ` ` +
		python + ` ` + peers.Testdata("py_ext.py") + `"}, {count, 2}].`})
	if v := h.mustCall("py", "add", int64(1), int64(2)); v != int64(3) {
		t.Fatalf("py:add = %v", v)
	}
	types := []any{nil, true, false, 1.5, []byte("x"), etf.Atom("y"), etf.List{}, etf.Tuple{int64(1)},
		bert.Dict{{Key: []byte("a"), Value: int64(1)}}, time.Unix(1255295581, 446228000).UTC(), int64(1) << 40}
	v := h.mustCall("py", "echo", types)
	if !bert.Equal(v, etf.List(types)) {
		t.Fatalf("py:echo types:\n got  %#v\n want %#v", v, types)
	}
	_, err := h.call("py", "fail", []byte("bad input"))
	var re *bertrpc.RemoteError
	if !errors.As(err, &re) || re.Err.Type != "user" || re.Err.Class != "ValueError" || re.Err.Detail != "bad input" || len(re.Err.Backtrace) == 0 {
		t.Fatalf("py:fail: %v", err)
	}
	_, err = h.call("py", "nope")
	if !errors.As(err, &re) || re.Err.Type != "server" || re.Err.Detail != "No such function 'py:nope'" {
		t.Fatalf("py:nope: %v", err)
	}
}

// TestSlowClient: a client that sends half a request, pauses past the
// moment its connection gets TCP keepalive (a read deadline one second
// after the accept), then sends the rest and, after another pause, a
// second request, gets both answers. The pauses are the scenario (a slow
// client), not a wait for the server.
func TestSlowClient(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	c, err := net.Dial("tcp4", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, err := etf.Encode(etf.Tuple{etf.Atom("call"), etf.Atom("demo"), etf.Atom("add"), etf.List{int64(1), int64(2)}},
		etf.EncodeOptions{BERT: true})
	if err != nil {
		t.Fatal(err)
	}
	packet, _ := berp.AppendPacket(nil, req)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	for i, pause := range []time.Duration{1500 * time.Millisecond, 0} {
		if _, err := c.Write(packet[:3]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
		if _, err := c.Write(packet[3:]); err != nil {
			t.Fatal(err)
		}
		body, err := berp.ReadPacket(c, 0)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		v, _, err := etf.Decode(body, etf.DecodeOptions{})
		if tt, ok := v.(etf.Tuple); err != nil || !ok || len(tt) != 2 || tt[0] != etf.Atom("reply") || tt[1] != int64(3) {
			t.Fatalf("request %d: reply %v, %v", i+1, v, err)
		}
		time.Sleep(pause)
	}
}

// TestBeamPeerKilledMidCall: when the BEAM peer dies (SIGKILL) under a
// native Erlang call, the caller gets a server error at once (ernie_beam
// fails the calls in flight when the peer's OS process exits).
func TestBeamPeerKilledMidCall(t *testing.T) {
	h := startErnie(t, harnessOptions{})
	node := fmt.Sprint(h.mustCall("nat", "node"))
	done := make(chan error, 1)
	go func() {
		_, err := h.call("nat", "slow", int64(60000))
		done <- err
	}()
	// the slow call is running once the peer has a process in timer:sleep
	peers.WaitFor(t, 30*time.Second, func() error {
		out := peers.RunErl(t, time.Minute, peers.ErlOptions{Name: peers.UniqueName("probe") + "@127.0.0.1",
			Cookie: nodetest.Cookie, Halt: true, Eval: `io:format("~p", [rpc:call('` + node + `', erlang, apply, ` +
				`[fun() -> length([P || P <- processes(), process_info(P, current_function) =:= {current_function, {timer, sleep, 1}}]) end, []])])`})
		if strings.TrimSpace(out) != "1" {
			return fmt.Errorf("processes in timer:sleep on the peer: %q", out)
		}
		return nil
	})
	out, err := exec.Command("pkill", "-KILL", "-f", "name "+node).CombinedOutput()
	if err != nil {
		t.Fatalf("pkill %s: %v %s", node, err, out)
	}
	select {
	case err := <-done:
		var re *bertrpc.RemoteError
		if !errors.As(err, &re) || re.Err.Type != "server" {
			t.Fatalf("call under the killed peer: %v, want a server error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the call under the killed peer did not return")
	}
}
