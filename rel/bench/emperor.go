package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// benchEmperor (issue 4 item 7): imperial's emperor against the real
// `uwsgi --emperor`, both governing the same real uWSGI python3 vassals (the
// imperial emperor runs them through --emperor-wrapper), one after the other
// in the same run:
//   - touch → reload: from a config's mtime change to the vassal logging
//     "received message 1 from emperor" (its reload starting), over N trials
//     spaced by random pauses (uWSGI scans every 3 s: a fixed rhythm would
//     phase-lock with it);
//   - 200 vassals: from 200 config files renamed into the watched directory to
//     all 200 answering HTTP on their sockets, over spawnTrials runs whose
//     renames come after a random pause (so at a random point of uWSGI's 3 s
//     scan, not always 2.5 s before its next one).
func benchEmperor(cfg config) error {
	uwsgi, err := exec.LookPath("uwsgi")
	if err != nil {
		return fmt.Errorf("uwsgi not found: run rel/scripts/install-peers.sh")
	}
	bin, err := filepath.Abs(cfg.binary)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("imperial binary: %w (make build)", err)
	}
	const trials, vassals, spawnTrials = 12, 200, 3
	type result struct {
		reload []time.Duration
		spawn  time.Duration
		cpu    time.Duration // the emperor's own CPU time over the spawn run
		vcpu   time.Duration // the vassals' CPU time when all serve
	}
	emperors := []struct {
		name string
		argv func(dir string) []string
	}{
		{"imperial", func(dir string) []string { return []string{bin, "--emperor", dir, "--emperor-wrapper", uwsgi} }},
		{"uwsgi", func(dir string) []string { return []string{uwsgi, "--emperor", dir} }},
	}
	results := map[string]result{}
	for _, em := range emperors {
		var r result
		var err error
		if r.reload, err = benchReload(em.argv, trials); err != nil {
			return fmt.Errorf("%s reload: %w", em.name, err)
		}
		rng := rand.New(rand.NewSource(7)) // both emperors get the same pauses
		for range spawnTrials {
			pause := time.Duration(500+rng.Intn(3000)) * time.Millisecond
			spawn, cpu, vcpu, err := benchSpawn(em.argv, vassals, pause)
			if err != nil {
				return fmt.Errorf("%s spawn: %w", em.name, err)
			}
			r.spawn += spawn / spawnTrials
			r.cpu += cpu / spawnTrials
			r.vcpu += vcpu / spawnTrials
		}
		results[em.name] = r
	}
	imp, real := results["imperial"], results["uwsgi"]
	row := func(label string, i, u time.Duration) {
		ratio := 0.0
		if i > 0 {
			ratio = float64(u) / float64(i)
		}
		fmt.Printf("   %-34s %12s %12s %8.1fx\n", label, i.Round(time.Millisecond/10), u.Round(time.Millisecond/10), ratio)
	}
	fmt.Printf("   %-34s %12s %12s %9s   (ratio = uwsgi / imperial)\n", "python3 vassals", "imperial", "uwsgi", "speedup")
	row(fmt.Sprintf("touch → reload, mean of %d", trials), mean(imp.reload), mean(real.reload))
	row("touch → reload, p50", pct(imp.reload, 50), pct(real.reload, 50))
	row("touch → reload, p99 (max)", pct(imp.reload, 99), pct(real.reload, 99))
	row(fmt.Sprintf("%d new files → %d serving, mean of %d", vassals, vassals, spawnTrials), imp.spawn, real.spawn)
	row("  emperor CPU during it", imp.cpu, real.cpu)
	// The vassals' own start-up work bounds the spawn time from below: 200
	// python3 masters and workers cannot all be serving before their CPU time
	// has been spent on the machine's cores.
	row("  vassals' CPU until all serve", imp.vcpu, real.vcpu)
	cores := time.Duration(runtime.NumCPU())
	row(fmt.Sprintf("  that CPU / %d cores (lower bound)", cores), imp.vcpu/cores, real.vcpu/cores)
	return nil
}

func mean(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	if len(d) == 0 {
		return 0
	}
	return s / time.Duration(len(d))
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*p + 99) / 100
	if i > len(s) {
		i = len(s)
	}
	if i < 1 {
		i = 1
	}
	return s[i-1]
}

const benchApp = `def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b"ok"]
`

// emperorRun is one emperor governing a scratch directory.
type emperorRun struct {
	root, vassals, socks, logs string
	cmd                        *exec.Cmd
}

func newEmperorRun(argv func(string) []string) (*emperorRun, error) {
	root, err := os.MkdirTemp("", "imperial-bench-emperor")
	if err != nil {
		return nil, err
	}
	r := &emperorRun{root: root, vassals: filepath.Join(root, "vassals"), socks: filepath.Join(root, "socks"), logs: filepath.Join(root, "logs")}
	for _, d := range []string{r.vassals, r.socks, r.logs, filepath.Join(root, "staging")} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(root, "app.py"), []byte(benchApp), 0o644)
	out, _ := os.Create(filepath.Join(r.logs, "emperor.log"))
	a := argv(r.vassals)
	r.cmd = exec.Command(a[0], a[1:]...)
	r.cmd.Dir = root
	r.cmd.Stdout, r.cmd.Stderr = out, out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	return r, nil
}

func (r *emperorRun) vassal(name string) string {
	return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nprocesses = 1\nhttp-socket = %s/%s.sock\n"+
		"wsgi-file = %s/app.py\nlogto = %s/%s.log\n", r.socks, name, r.root, r.logs, name)
}

// add writes a vassal config in the staging directory and renames it in.
func (r *emperorRun) add(name string) error {
	tmp := filepath.Join(r.root, "staging", name+".ini")
	if err := os.WriteFile(tmp, []byte(r.vassal(name)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(r.vassals, name+".ini"))
}

// serving reports whether the vassal answers HTTP on its unix socket.
func (r *emperorRun) serving(name string) bool {
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", filepath.Join(r.socks, name+".sock"))
		}}}
	resp, err := c.Get("http://vassal/")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && string(b) == "ok"
}

// close removes every vassal, waits for their processes to go, stops the
// emperor (SIGINT) and removes the directory.
func (r *emperorRun) close() {
	entries, _ := os.ReadDir(r.vassals)
	for _, e := range entries {
		os.Remove(filepath.Join(r.vassals, e.Name()))
	}
	deadline := time.Now().Add(60 * time.Second)
	for countProcs(r.root) > 1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(35 * time.Second):
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// vassals are in their own process groups: anything left is killed here
	killProcs(r.root)
	os.RemoveAll(r.root)
}

// countProcs counts processes whose command line mentions dir.
func countProcs(dir string) int {
	return len(procsWith(dir))
}

func procsWith(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(cmdline), dir) {
			pids = append(pids, pid)
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && strings.HasPrefix(cwd, dir) && pid != os.Getpid() {
			if !strings.Contains(string(cmdline), dir) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func killProcs(dir string) {
	for _, pid := range procsWith(dir) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func lineCount(path, text string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), text) {
			n++
		}
	}
	return n
}

func waitUntil(timeout time.Duration, step time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(step)
	}
	return true
}

func benchReload(argv func(string) []string, trials int) ([]time.Duration, error) {
	r, err := newEmperorRun(argv)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.add("r"); err != nil {
		return nil, err
	}
	if !waitUntil(60*time.Second, 20*time.Millisecond, func() bool { return r.serving("r") }) {
		return nil, fmt.Errorf("vassal never served (see %s)", r.logs)
	}
	ini, log := filepath.Join(r.vassals, "r.ini"), filepath.Join(r.logs, "r.log")
	rng := rand.New(rand.NewSource(4))
	mtime := time.Now().Truncate(time.Second)
	var out []time.Duration
	for i := 0; i < trials; i++ {
		time.Sleep(time.Duration(500+rng.Intn(1500)) * time.Millisecond)
		before := lineCount(log, "received message 1 from emperor")
		// whole seconds, always newer: uWSGI compares st_mtime in seconds
		mtime = mtime.Add(time.Second)
		if now := time.Now().Truncate(time.Second); now.After(mtime) {
			mtime = now
		}
		start := time.Now()
		if err := os.Chtimes(ini, mtime, mtime); err != nil {
			return nil, err
		}
		if !waitUntil(30*time.Second, time.Millisecond, func() bool {
			return lineCount(log, "received message 1 from emperor") > before
		}) {
			return nil, fmt.Errorf("trial %d: no reload within 30 s", i+1)
		}
		out = append(out, time.Since(start))
		if !waitUntil(30*time.Second, 20*time.Millisecond, func() bool { return r.serving("r") }) {
			return nil, fmt.Errorf("trial %d: not serving after the reload", i+1)
		}
	}
	return out, nil
}

func benchSpawn(argv func(string) []string, n int, pause time.Duration) (time.Duration, time.Duration, time.Duration, error) {
	r, err := newEmperorRun(argv)
	if err != nil {
		return 0, 0, 0, err
	}
	defer r.close()
	time.Sleep(pause) // the emperor is up and has scanned its empty directory
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("v%03d", i)
		os.WriteFile(filepath.Join(r.root, "staging", names[i]+".ini"), []byte(r.vassal(names[i])), 0o644)
	}
	cpu0 := procCPU(r.cmd.Process.Pid)
	start := time.Now()
	for _, name := range names {
		if err := os.Rename(filepath.Join(r.root, "staging", name+".ini"), filepath.Join(r.vassals, name+".ini")); err != nil {
			return 0, 0, 0, err
		}
	}
	// poll every vassal until it answers, 8 at a time
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last time.Duration
	failed := 0
	work := make(chan string)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				ok := waitUntil(180*time.Second, 10*time.Millisecond, func() bool { return r.serving(name) })
				mu.Lock()
				if !ok {
					failed++
				} else if d := time.Since(start); d > last {
					last = d
				}
				mu.Unlock()
			}
		}()
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	cpu := procCPU(r.cmd.Process.Pid) - cpu0
	vcpu := treeCPU(r.root, r.cmd.Process.Pid)
	if failed > 0 {
		return 0, 0, 0, fmt.Errorf("%d of %d vassals never served", failed, n)
	}
	return last, cpu, vcpu, nil
}

// treeCPU sums the CPU time of every live process working under dir except
// skip (the emperor), from each thread's schedstat (nanoseconds; /proc/PID/stat
// counts 10 ms ticks, too coarse for a 30 ms process). For a vassal this
// includes what its emperor made it do between fork and exec.
func treeCPU(dir string, skip int) time.Duration {
	var sum time.Duration
	for _, pid := range procsWith(dir) {
		if pid == skip {
			continue
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
			if err != nil {
				continue
			}
			var ns int64
			fmt.Sscan(string(data), &ns)
			sum += time.Duration(ns)
		}
	}
	return sum
}

// procCPU is a process's user+system CPU time (/proc/PID/stat, clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
