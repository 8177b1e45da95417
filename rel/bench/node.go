package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchNode: calls per second from an erl node, 1 and 16 concurrent callers,
// gen_server:call and rpc:call, imperial's node against a second erl node
// (issue 2 item 9). The anchor runs in the same run on the same machine.
func benchNode(cfg config) error {
	dir, err := os.MkdirTemp("", "imperial-bench-node")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src, _ := filepath.Abs("rel/bench/erl")
	if out, err := exec.Command("erlc", "-o", dir, filepath.Join(src, "bench_echo.erl"), filepath.Join(src, "node_bench.erl")).CombinedOutput(); err != nil {
		return fmt.Errorf("erlc: %v: %s", err, out)
	}
	if err := exec.Command("epmd", "-daemon").Run(); err != nil {
		return fmt.Errorf("epmd: %w", err)
	}
	const cookie = "imperialbench"
	sfx := strconv.Itoa(os.Getpid())
	imp, imp1 := "bimp"+sfx+"@127.0.0.1", "bimpone"+sfx+"@127.0.0.1"
	erl, drv := "berl"+sfx+"@127.0.0.1", "bdrv"+sfx+"@127.0.0.1"

	impCmd := start(cfg.binary, "--erlang", imp, "--erlang-cookie", cookie)
	defer stop(impCmd)
	// the same binary pinned to every core, without the scheduler governor
	// (rel/sched): what the governor's compaction is worth
	pinned := fmt.Sprintf("GOMAXPROCS=%d", runtime.NumCPU())
	imp1Cmd := startEnv([]string{pinned}, cfg.binary, "--erlang", imp1, "--erlang-cookie", cookie)
	defer stop(imp1Cmd)
	erlCmd := start("erl", "-noshell", "-noinput", "-name", erl, "-setcookie", cookie, "-pa", dir,
		"-eval", "bench_echo:start()")
	defer stop(erlCmd)
	if err := waitRegistered(imp, imp1, erl); err != nil {
		return err
	}

	ms := int(cfg.duration / time.Millisecond)
	drvCmd := exec.Command("erl", "-noshell", "-noinput", "-name", drv, "-setcookie", cookie, "-pa", dir,
		"-eval", fmt.Sprintf(`try node_bench:main(["%s", "%s", "%s", "%d"]) after halt() end`, imp, imp1, erl, ms))
	out, err := drvCmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DONE") {
		return fmt.Errorf("driver: %v\n%s", err, out)
	}
	samples := map[string][]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 5 && f[0] == "RESULT" {
			v, _ := strconv.ParseFloat(f[4], 64)
			k := f[1] + " " + f[2] + " " + f[3]
			samples[k] = append(samples[k], v)
		}
	}
	rates := map[string]float64{}
	for k, v := range samples {
		rates[k] = median(v)
	}
	fmt.Printf("   %-22s %10s %10s %7s %18s %7s   (median of 3 rounds of %s)\n",
		"calls/s from erl", "imperial", "erl→erl", "ratio", "imperial "+pinned, "ratio", cfg.duration)
	for _, kind := range []string{"gen_call", "rpc"} {
		for _, c := range []string{"1", "16"} {
			i, i1, e := rates["imperial "+kind+" "+c], rates["imperial1 "+kind+" "+c], rates["erl "+kind+" "+c]
			ratio := func(x float64) float64 {
				if e > 0 {
					return x / e
				}
				return 0
			}
			label := map[string]string{"gen_call": "gen_server:call", "rpc": "rpc:call"}[kind] + " ×" + c
			fmt.Printf("   %-22s %10.0f %10.0f %7.2f %18.0f %7.2f\n", label, i, e, ratio(i), i1, ratio(i1))
		}
	}
	return nil
}

func start(name string, args ...string) *exec.Cmd { return startEnv(nil, name, args...) }

// startEnv starts a command in its own process group with env added to ours.
func startEnv(env []string, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	if env != nil {
		c.Env = append(os.Environ(), env...)
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.Start()
	return c
}

func stop(c *exec.Cmd) {
	if c.Process != nil {
		syscall.Kill(-c.Process.Pid, syscall.SIGINT)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
}

// waitRegistered waits until epmd lists every node.
func waitRegistered(nodes ...string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := exec.Command("epmd", "-names").Output()
		missing := ""
		for _, n := range nodes {
			alive, _, _ := strings.Cut(n, "@")
			if !strings.Contains(string(out), "name "+alive+" ") {
				missing = alive
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s never registered with epmd", missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
