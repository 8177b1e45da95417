package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// benchRouter: requests/s and p99 through imperial's FastRouter against real
// uWSGI's FastRouter, over the same two real uWSGI python3 backends (each
// subscribed to both routers), with the same uwsgi-protocol load generator
// (loadgen.go: one connection per request, as nginx does), 16 and 64
// concurrent clients, three interleaved rounds, medians (issue 5 item 8).
// Then imperial's worker with a native app, and with the same Python app
// through its adapter, against a real uWSGI python3 worker (2 processes
// each), driven directly. The goal is ≥ 1.2× uWSGI's FastRouter.
func benchRouter(cfg config) error {
	dir, err := os.MkdirTemp("", "imperial-bench-router")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(`def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'hello']
`), 0o644); err != nil {
		return err
	}
	ports, err := freePorts(13)
	if err != nil {
		return err
	}
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	var (
		uFR, uSub, uStats = addr(0), addr(1), addr(2)
		iFR, iSub, iStats = addr(3), addr(4), addr(5)
		back1, back2      = addr(6), addr(7)
		uWorker, iWorker  = addr(8), addr(9)
		iPyWorker         = addr(10)
		i1FR, i1Stats     = addr(11), addr(12)
	)
	const key = "bench.local"
	var cmds []*exec.Cmd
	defer func() {
		for _, c := range cmds {
			stop(c)
		}
	}()
	run := func(name string, args ...string) *exec.Cmd {
		c := start(name, args...)
		cmds = append(cmds, c)
		return c
	}
	pid := func(c *exec.Cmd) []int {
		if c.Process == nil {
			return nil
		}
		return []int{c.Process.Pid}
	}
	uRouter := run("uwsgi", "--plugins", "corerouter,fastrouter", "--master", "--fastrouter", uFR,
		"--fastrouter-subscription-server", uSub, "--fastrouter-stats", uStats, "--listen", "1024", "--logto", filepath.Join(dir, "ufr.log"))
	iRouter := run(cfg.binary, "--fastrouter", iFR, "--fastrouter-subscription-server", iSub, "--fastrouter-stats", iStats,
		"--log-level", "warning")
	// imperial's router runs on one scheduler thread by default, as uWSGI's
	// router is one process with one thread (--fastrouter-processes); the same
	// router with a thread per core runs beside it for comparison. It shares
	// the subscription server's table through a second subscription (the
	// backends announce to both ports of this router).
	i1 := exec.Command(cfg.binary, "--fastrouter", i1FR, "--fastrouter-subscription-server", i1Sub(iSub),
		"--fastrouter-stats", i1Stats, "--log-level", "warning")
	i1.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", runtime.NumCPU()))
	i1.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := i1.Start(); err != nil {
		return err
	}
	cmds = append(cmds, i1)
	for i, b := range []string{back1, back2} {
		run("uwsgi", "--plugins", "python3", "--master", "--processes", "1", "--socket", b, "--wsgi-file", app,
			"--disable-logging", "--listen", "1024", "--subscribe-to", uSub+":"+key, "--subscribe-to", iSub+":"+key,
			"--subscribe-to", i1Sub(iSub)+":"+key,
			"--logto", filepath.Join(dir, fmt.Sprintf("back%d.log", i+1)))
	}
	for _, st := range []string{uStats, iStats, i1Stats} {
		if err := waitStatsNodes(st, key, 2); err != nil {
			return err
		}
	}
	pkt := uwsgiRequest(key)
	for _, a := range []string{uFR, iFR, i1FR} { // warm-up
		if r := uwsgiLoad(a, pkt, 16, time.Second); r.requests == 0 {
			return fmt.Errorf("no answer through %s: %v", a, r.firstErr)
		}
	}
	fmt.Printf("   FastRouter over 2 real uWSGI python3 backends, uwsgi load generator, %s per cell in 1 s slices interleaved\n", 3*cfg.duration)
	fmt.Printf("   %-8s %22s %22s %8s %22s %8s   %s\n", "clients", "uWSGI fastrouter", "imperial fastrouter", "ratio",
		fmt.Sprintf("imperial GOMAXPROCS=%d", runtime.NumCPU()), "ratio",
		fmt.Sprintf("router CPU µs/request (uWSGI, imperial, %d P)", runtime.NumCPU()))
	for _, c := range []int{16, 64} {
		r := interleaved([]string{uFR, iFR, i1FR}, [][]int{pid(uRouter), pid(iRouter), pid(i1)}, pkt, c, 3*cfg.duration)
		mu, mi, m1 := r[0], r[1], r[2]
		fmt.Printf("   %-8d %10.0f/s p99 %5.1fms %10.0f/s p99 %5.1fms %7.2f× %10.0f/s p99 %5.1fms %7.2f×   %.0f, %.0f, %.0f%s\n", c,
			mu.rate(), ms(mu.p99), mi.rate(), ms(mi.p99), mi.rate()/mu.rate(), m1.rate(), ms(m1.p99), m1.rate()/mu.rate(),
			mu.cpuPerReq(), mi.cpuPerReq(), m1.cpuPerReq(), errNote(r))
	}

	// Workers: the same Python app in real uWSGI, a native app and the same
	// Python app in imperial.
	uW := run("uwsgi", "--plugins", "python3", "--master", "--processes", "2", "--socket", uWorker, "--wsgi-file", app,
		"--disable-logging", "--listen", "1024", "--logto", filepath.Join(dir, "uworker.log"))
	iW := run(cfg.binary, "--socket", iWorker, "--app", "hello", "--processes", "2", "--log-level", "warning")
	iPy := run(cfg.binary, "--socket", iPyWorker, "--wsgi-file", app, "--processes", "2", "--log-level", "warning")
	for _, a := range []string{uWorker, iWorker, iPyWorker} {
		if err := waitAnswer(a, pkt); err != nil {
			return err
		}
	}
	fmt.Printf("   workers (2 processes each), uwsgi load generator direct, %s per cell in 1 s slices interleaved\n", 3*cfg.duration)
	fmt.Printf("   %-8s %22s %22s %22s   %s\n", "clients", "uWSGI python3", "imperial native app", "imperial python3",
		"worker CPU µs/request (with children)")
	for _, c := range []int{16, 64} {
		r := interleaved([]string{uWorker, iWorker, iPyWorker}, [][]int{pid(uW), pid(iW), pid(iPy)}, pkt, c, 3*cfg.duration)
		mu, mn, mp := r[0], r[1], r[2]
		fmt.Printf("   %-8d %10.0f/s p99 %5.1fms %10.0f/s p99 %5.1fms %10.0f/s p99 %5.1fms   %.0f, %.0f, %.0f%s\n", c,
			mu.rate(), ms(mu.p99), mn.rate(), ms(mn.p99), mp.rate(), ms(mp.p99),
			mu.cpuPerReq(), mn.cpuPerReq(), mp.cpuPerReq(), errNote(r))
	}
	return nil
}

// i1Sub is the subscription port of the one-P router: the next port up
// from iSub would not be known free, so it is a unix datagram socket.
func i1Sub(iSub string) string {
	return filepath.Join(os.TempDir(), "imperial-bench-i1-"+strings.ReplaceAll(iSub, ":", "_")+".sock")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func errNote(rs []loadResult) string {
	n := 0
	var first error
	for _, r := range rs {
		n += r.errors
		if first == nil {
			first = r.firstErr
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d errors: %v)", n, first)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitStatsNodes waits until a FastRouter's stats list n nodes for key.
func waitStatsNodes(stats, key string, n int) error {
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", stats, time.Second); err == nil {
			raw, _ := io.ReadAll(c)
			c.Close()
			var doc struct {
				Subscriptions []struct {
					Key   string            `json:"key"`
					Nodes []json.RawMessage `json:"nodes"`
				} `json:"subscriptions"`
			}
			if json.Unmarshal(raw, &doc) == nil {
				for _, s := range doc.Subscriptions {
					if s.Key == key && len(s.Nodes) == n {
						return nil
					}
				}
			}
			last = string(raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("stats %s never listed %d nodes for %s: %.300s", stats, n, key, last)
}

// waitAnswer waits until addr answers the request with 200.
func waitAnswer(addr string, pkt []byte) error {
	deadline := time.Now().Add(20 * time.Second)
	buf := make([]byte, 4096)
	var err error
	for time.Now().Before(deadline) {
		if err = oneRequest(addr, pkt, buf, []byte(" 200 ")); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s never answered: %w", addr, err)
}
