package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"imperial/bertrpc"
	"imperial/bertrpc/berp"
	"imperial/node/etf"
)

// benchErnie: calls per second and p99 latency of add/2 over BERT-RPC
// (issue 3 item 9). imperial's Ernie serves add/2 as a Go native, as a
// native Erlang module on its BEAM peer and from two Ruby workers; the
// anchor is a small BERT-RPC server on BEAM (gen_tcp {packet,4},
// binary_to_term, apply, reply) serving the same Erlang add/2, measured in
// the same run on the same machine. Each cell runs 1 or 16 closed-loop
// clients, with a new connection per call (as Ernie's clients do) or one
// persistent connection per client. Real Ernie is not installable here;
// ernie-bert.md §9 measured it at 5.0–6.6 k calls/s (Erlang add/2) and
// 4.1–4.9 k (Ruby, 2 workers) with 16 clients, one connection per call,
// on a 2-core machine like this one.
func benchErnie(cfg config) error {
	dir, err := os.MkdirTemp("", "imperial-bench-ernie")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, src := range map[string]string{"nat.erl": ernieBenchNat, "bert_server.erl": ernieBenchServer, "ext.rb": ernieBenchExt} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			return err
		}
	}
	if out, err := exec.Command("erlc", "-o", dir, filepath.Join(dir, "nat.erl"), filepath.Join(dir, "bert_server.erl")).CombinedOutput(); err != nil {
		return fmt.Errorf("erlc: %v: %s", err, out)
	}
	lib, _ := filepath.Abs("ernie/handlers/ruby")
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		return fmt.Errorf("ruby not found: run rel/scripts/install-peers.sh")
	}
	conf := fmt.Sprintf(`[{module, demo}, {type, native}].
[{module, nat}, {type, native}, {codepaths, [%q]}].
[{module, ext}, {type, external}, {command, %q}, {count, 2}].
`, dir, ruby+" -I"+lib+" "+filepath.Join(dir, "ext.rb"))
	cfgPath := filepath.Join(dir, "ernie.cfg")
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		return err
	}

	impPort, err := ernieFreePort()
	if err != nil {
		return err
	}
	beamPort, err := ernieFreePort()
	if err != nil {
		return err
	}
	imp := ernieStart(cfg.binary, "ernie", "-c", cfgPath, "-p", strconv.Itoa(impPort), "--bind", "127.0.0.1", "-l", "1")
	defer ernieStop(imp)
	beam := ernieStart("erl", "-noshell", "-noinput", "-pa", dir, "-eval", fmt.Sprintf("bert_server:start(%d)", beamPort))
	defer ernieStop(beam)
	impAddr, beamAddr := "127.0.0.1:"+strconv.Itoa(impPort), "127.0.0.1:"+strconv.Itoa(beamPort)
	for _, t := range []struct{ addr, mod string }{{impAddr, "demo"}, {impAddr, "nat"}, {impAddr, "ext"}, {beamAddr, "nat"}} {
		if err := ernieWaitCall(t.addr, t.mod); err != nil {
			return err
		}
	}

	type target struct {
		label, addr, mod string
		pid              int // root of the server's process tree (CPU accounting)
	}
	targets := []target{
		{"BEAM server, Erlang add/2", beamAddr, "nat", beam.Process.Pid},
		{"imperial, Go native", impAddr, "demo", imp.Process.Pid},
		{"imperial, Erlang native", impAddr, "nat", imp.Process.Pid},
		{"imperial, Ruby ×2 workers", impAddr, "ext", imp.Process.Pid},
	}
	type key struct {
		target     string
		persistent bool
		clients    int
	}
	for _, t := range targets { // warm-up: worker boot, JIT-free but caches and pools
		if _, err := ernieLoad(t.addr, t.mod, 16, false, time.Second); err != nil {
			return fmt.Errorf("%s: %w", t.label, err)
		}
	}
	// Rounds interleave the servers so that load from elsewhere on the
	// machine hits them alike; each figure is the median of the rounds.
	const rounds = 3
	samples := map[key][]ernieResult{}
	for range rounds {
		for _, persistent := range []bool{false, true} {
			for _, clients := range []int{1, 16} {
				for _, t := range targets {
					cpu0 := ernieTreeCPU(t.pid)
					r, err := ernieLoad(t.addr, t.mod, clients, persistent, cfg.duration)
					if err != nil {
						return fmt.Errorf("%s: %w", t.label, err)
					}
					r.cpuPerCall = (ernieTreeCPU(t.pid) - cpu0) / time.Duration(max(r.calls, 1))
					k := key{t.label, persistent, clients}
					samples[k] = append(samples[k], r)
				}
			}
		}
	}
	res := map[key]ernieResult{}
	for k, v := range samples {
		slices.SortFunc(v, func(a, b ernieResult) int { return ernieCmpRate(a.rate, b.rate) })
		m := v[len(v)/2]
		p99s := make([]time.Duration, len(v))
		for i, r := range v {
			p99s[i] = r.p99
		}
		slices.Sort(p99s)
		cpus := make([]time.Duration, len(v))
		for i, r := range v {
			cpus[i] = r.cpuPerCall
		}
		slices.Sort(cpus)
		res[k] = ernieResult{rate: m.rate, p99: p99s[len(p99s)/2], cpuPerCall: cpus[len(cpus)/2]}
	}

	fmt.Printf("   add/2 over BERT-RPC, median of %d interleaved rounds of %s per cell, client on the same machine\n", rounds, cfg.duration)
	fmt.Printf("   %-28s %-11s %3s %10s %9s %9s %12s\n", "server", "connection", "C", "calls/s", "p99 ms", "vs BEAM", "CPU µs/call")
	for _, persistent := range []bool{false, true} {
		mode := "per call"
		if persistent {
			mode = "persistent"
		}
		for _, clients := range []int{1, 16} {
			anchor := res[key{targets[0].label, persistent, clients}]
			for _, t := range targets {
				r := res[key{t.label, persistent, clients}]
				ratio := "-"
				if t.label != targets[0].label && anchor.rate > 0 {
					ratio = fmt.Sprintf("%.2f", r.rate/anchor.rate)
				}
				fmt.Printf("   %-28s %-11s %3d %10.0f %9.3f %9s %12.1f\n", t.label, mode, clients, r.rate, ernieMS(r.p99), ratio,
					float64(r.cpuPerCall)/float64(time.Microsecond))
			}
		}
	}
	// Ernie's own figures (spec §9, 16 clients, new connection per call)
	// were taken on another day; the BEAM server above does strictly less
	// per call than Ernie and shows what the machine gives today.
	anchor := res[key{targets[0].label, false, 16}].rate
	fmt.Printf("   vs Ernie, 16 clients, per-call connections (spec §9: 5.0–6.6 k Erlang add/2, 4.1–4.9 k Ruby ×2;\n")
	fmt.Printf("   the BEAM server did %.0f today):\n", anchor)
	for _, c := range []struct {
		label string
		ernie float64
	}{{"imperial, Go native", 6600}, {"imperial, Erlang native", 6600}, {"imperial, Ruby ×2 workers", 4900}} {
		r := res[key{c.label, false, 16}].rate
		fmt.Printf("   %-28s %10.0f  ×%.2f of Ernie's best\n", c.label, r, r/c.ernie)
	}
	return nil
}

func ernieCmpRate(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type ernieResult struct {
	rate       float64
	p99        time.Duration
	calls      int
	cpuPerCall time.Duration // CPU of the server's process tree (BEAM peer and workers included)
}

func ernieMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ernieLoad runs clients closed loops of {call, mod, add, [1, 2]} for d.
func ernieLoad(addr, mod string, clients int, persistent bool, d time.Duration) (ernieResult, error) {
	req, err := etf.Encode(etf.Tuple{etf.Atom("call"), etf.Atom(mod), etf.Atom("add"), etf.List{int64(1), int64(2)}}, etf.EncodeOptions{BERT: true})
	if err != nil {
		return ernieResult{}, err
	}
	frame, _ := berp.AppendPacket(nil, req)
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[i] = make([]time.Duration, 0, 1<<16)
			var c net.Conn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			buf := make([]byte, 256)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if c == nil {
					nc, err := net.Dial("tcp4", addr)
					if err != nil {
						errs[i] = err
						return
					}
					tc := nc.(*net.TCPConn)
					tc.SetLinger(0) // RST on close: no TIME_WAIT pile-up on either side
					c = tc
				}
				if _, err := c.Write(frame); err != nil {
					errs[i] = err
					return
				}
				if err := ernieReadReply(c, buf); err != nil {
					errs[i] = err
					return
				}
				if !persistent {
					c.Close()
					c = nil
				}
				lats[i] = append(lats[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	if err := errors.Join(errs...); err != nil {
		return ernieResult{}, err
	}
	if len(all) == 0 {
		return ernieResult{}, errors.New("no call completed")
	}
	slices.Sort(all)
	return ernieResult{rate: float64(len(all)) / elapsed.Seconds(), p99: all[len(all)*99/100], calls: len(all)}, nil
}

// ernieReadReply reads one packet and checks it is {reply, 3}.
func ernieReadReply(r io.Reader, buf []byte) error {
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return err
	}
	n := int(buf[0])<<24 | int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
	if n > len(buf) {
		return fmt.Errorf("reply of %d bytes", n)
	}
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		return err
	}
	t, _, err := etf.Decode(buf[:n], etf.DecodeOptions{})
	if err != nil {
		return err
	}
	if tt, ok := t.(etf.Tuple); !ok || len(tt) != 2 || tt[0] != etf.Atom("reply") || tt[1] != int64(3) {
		return fmt.Errorf("unexpected reply %v", t)
	}
	return nil
}

// ernieTreeCPU is the user+system CPU time of pid and its descendants
// (from /proc; clock ticks of 1/100 s).
func ernieTreeCPU(pid int) time.Duration {
	type proc struct{ ppid, ticks int }
	procs := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command may hold spaces: fields start after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		procs[p] = proc{ppid, ut + st}
	}
	var total int
	for p, pr := range procs {
		for q := p; q > 1; q = procs[q].ppid {
			if q == pid {
				total += pr.ticks
				break
			}
			if _, ok := procs[q]; !ok {
				break
			}
		}
	}
	return time.Duration(total) * 10 * time.Millisecond
}

func ernieWaitCall(addr, mod string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		v, err := bertrpc.CallOnce(ctx, addr, bertrpc.Options{}, mod, "add", int64(1), int64(2))
		cancel()
		if err == nil && v == int64(3) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s:add not answering: %v %v", addr, mod, v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ernieFreePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ernieStart(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Stderr = os.Stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.Start()
	return c
}

func ernieStop(c *exec.Cmd) {
	if c.Process == nil {
		return
	}
	syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

const ernieBenchNat = `-module(nat).
-export([add/2]).
add(A, B) -> A + B.
`

const ernieBenchExt = `require 'ernie'
module Ext
  def add(a, b)
    a + b
  end
end
Ernie.expose(:ext, Ext)
`

// ernieBenchServer is the anchor: the simplest BERT-RPC server on BEAM,
// several requests per connection, one process per connection.
const ernieBenchServer = `-module(bert_server).
-export([start/1]).

start(Port) ->
    {ok, L} = gen_tcp:listen(Port, [binary, {packet, 4}, {active, false}, {reuseaddr, true},
                                    {backlog, 1024}, {ip, {127,0,0,1}}, {nodelay, true}]),
    [spawn(fun() -> accept(L) end) || _ <- [1, 2, 3, 4]],
    receive stop -> ok end.

accept(L) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive go -> loop(S) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! go,
            accept(L);
        {error, _} ->
            accept(L)
    end.

loop(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, B} ->
            Reply = case binary_to_term(B) of
                        {call, M, F, A} ->
                            try {reply, apply(M, F, A)}
                            catch C:R -> {error, {user, 0, atom_to_binary(C), iolist_to_binary(io_lib:format("~p", [R])), []}}
                            end;
                        _ -> {error, {server, 0, <<"ServerError">>, <<"Invalid request">>, []}}
                    end,
            case gen_tcp:send(S, term_to_binary(Reply)) of
                ok -> loop(S);
                _ -> gen_tcp:close(S)
            end;
        {error, _} ->
            gen_tcp:close(S)
    end.
`
